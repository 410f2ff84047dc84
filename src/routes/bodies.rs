//! The request bodies as the OpenAPI document describes them. The handlers read raw JSON
//! themselves, so that each mistake gets the SPEC's own code (400 for a wrong type, 422 for a
//! broken rule); these types say what that reading accepts. Unknown fields are ignored, so no
//! body is a closed object; `null` for an optional field means "not given". A length counted
//! once the white space around the text is trimmed is a `pattern`, not `maxLength`, which would
//! refuse padded text the handler accepts.

use utoipa::ToSchema;
use utoipa::openapi::schema::ObjectBuilder;

use crate::bookings::rules::SOURCES;
use crate::views::{one_of_strings_or_null, reservation_statuses};

/// A missed call reported by the PBX (SPEC §2.2).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MissedCallRequest {
    /// 3 to 40 characters once trimmed. E.164 recommended; national formats and the `00`
    /// prefix are read with the restaurant's country.
    #[schema(pattern = r"^\s*\S[\s\S]{1,38}\S\s*$")]
    caller_phone_number: String,
    /// The idempotency key, scoped to the restaurant.
    #[schema(min_length = 1, max_length = 128)]
    external_call_id: Option<String>,
    /// RFC 3339 date-time; without an offset, the restaurant's local time. Default: when the
    /// request arrived. Years 2000–2099, offsets within ±23:59, at most
    /// `missed_calls.max_future_skew_seconds` in the future.
    #[schema(example = "2026-05-10T12:23:00Z")]
    occurred_at: Option<String>,
}

/// A new reservation (SPEC §7).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewReservationRequest {
    /// RFC 3339 date-time, or restaurant-local without an offset; the rules of `occurred_at`.
    #[schema(example = "2026-07-14T20:30")]
    start_at: String,
    #[schema(minimum = 1, maximum = 1000)]
    party_size: i64,
    /// Matched or created by its normalised number; its name updated when given.
    customer: Option<NewReservationCustomer>,
    /// Default `CONFIRMED`.
    #[schema(schema_with = nullable_status)]
    status: Option<String>,
    /// Default `WEBSITE`.
    #[schema(schema_with = nullable_source)]
    source: Option<String>,
    /// Unique per restaurant: a second use is `409 CONFLICT`.
    #[schema(min_length = 1, max_length = 128)]
    external_id: Option<String>,
    /// The `rb_ref` query parameter the booking page was opened with: the booking then counts
    /// as the conversion of that message's call. Empty is no ref.
    #[schema(max_length = 128)]
    r#ref: Option<String>,
}

/// The customer of a new reservation.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewReservationCustomer {
    /// At most 200 characters once trimmed; a blank name is no name.
    #[schema(pattern = r"^\s*(\S([\s\S]{0,198}\S)?)?\s*$")]
    name: Option<String>,
    /// Required when a customer is given (else `422`).
    phone_number: Option<String>,
}

/// A change to a reservation (SPEC §7): only the fields given change.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReservationPatchRequest {
    /// RFC 3339 date-time, or restaurant-local without an offset.
    start_at: Option<String>,
    #[schema(minimum = 1, maximum = 1000)]
    party_size: Option<i64>,
    #[schema(schema_with = nullable_status)]
    status: Option<String>,
    /// `null` detaches the customer; `{"id"}` attaches an existing customer of this
    /// restaurant; fields without `id` update the attached customer, or create one.
    customer: Option<ReservationPatchCustomer>,
}

/// The customer of a reservation change: with `id`, the one to attach (the other fields are
/// then ignored); without, the fields to set.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReservationPatchCustomer {
    /// A string when present: `null` is a `400`, not "not given".
    #[schema(nullable = false)]
    id: Option<String>,
    /// At most 200 characters once trimmed; a blank name is no name.
    #[schema(pattern = r"^\s*(\S([\s\S]{0,198}\S)?)?\s*$")]
    name: Option<String>,
    phone_number: Option<String>,
}

/// Why a reservation is canceled; the whole body is optional.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CancelReservationRequest {
    #[schema(min_length = 1, max_length = 500)]
    reason: Option<String>,
}

/// A change to a customer (SPEC §7).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CustomerPatchRequest {
    /// At most 200 characters once trimmed; `null` or blank clears the name, absent leaves it.
    #[schema(pattern = r"^\s*(\S([\s\S]{0,198}\S)?)?\s*$")]
    name: Option<String>,
    whatsapp_suppressed: Option<bool>,
}

fn nullable_status() -> ObjectBuilder {
    one_of_strings_or_null(reservation_statuses())
}

fn nullable_source() -> ObjectBuilder {
    one_of_strings_or_null(SOURCES)
}
