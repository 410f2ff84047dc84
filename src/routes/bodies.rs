//! The request bodies as the OpenAPI document describes them. The handlers read raw JSON
//! themselves, so that each mistake gets the SPEC's own code (400 for a wrong type, 422 for a
//! broken rule); these types say what that reading accepts. Unknown fields are ignored, so no
//! body is a closed object; `null` for an optional field means "not given". A length counted
//! once the white space around the text is trimmed is a `pattern`, not `maxLength`, which would
//! refuse padded text the handler accepts.

use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};

use crate::bookings::rules::SOURCES;
use crate::time::date_time_pattern;
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
    /// `missed_calls.max_future_skew_seconds` in the future (a later one is a `422` that no
    /// pattern can state).
    #[schema(schema_with = nullable_date_time, example = "2026-05-10T12:23:00Z")]
    occurred_at: Option<String>,
}

/// A new reservation (SPEC §7).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewReservationRequest {
    /// RFC 3339 date-time, or restaurant-local without an offset; the rules of `occurred_at`.
    #[schema(schema_with = date_time, example = "2026-07-14T20:30")]
    start_at: String,
    /// A whole number; `4.0` is 4.
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
    /// E.164, or national for the restaurant's country; matched or created by it.
    phone_number: String,
}

/// A change to a reservation (SPEC §7): only the fields given change.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReservationPatchRequest {
    /// RFC 3339 date-time, or restaurant-local without an offset; the rules of `occurred_at`.
    #[schema(schema_with = nullable_date_time)]
    start_at: Option<String>,
    /// A whole number; `4.0` is 4.
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

/// The filters of the reservation list (SPEC §7), as query parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReservationListQuery {
    /// Earliest `start_at`: RFC 3339, or restaurant-local; the rules of `occurred_at`.
    #[param(schema_with = date_time)]
    start_at_from: Option<String>,
    /// Latest `start_at`, as `start_at_from`.
    #[param(schema_with = date_time)]
    start_at_to: Option<String>,
    /// Statuses, comma-separated.
    #[param(schema_with = status_list)]
    status: Option<String>,
    /// Page size, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page, as it was given (another is a `422`).
    cursor: Option<String>,
}

/// Reservation statuses, comma-separated, with white space and empty items allowed around them.
fn status_list() -> ObjectBuilder {
    let one = reservation_statuses().collect::<Vec<_>>().join("|");
    let item = format!("[ \\t\\n\\f\\r]*(?:{one})?[ \\t\\n\\f\\r]*");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{item}(?:,{item})*$")))
}

/// A date-time as the API reads it: `time::date_time_pattern`.
pub fn date_time() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(date_time_pattern()))
}

/// `date_time`, or `null` for "not given".
fn nullable_date_time() -> ObjectBuilder {
    date_time().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

fn nullable_status() -> ObjectBuilder {
    one_of_strings_or_null(reservation_statuses())
}

fn nullable_source() -> ObjectBuilder {
    one_of_strings_or_null(SOURCES)
}
