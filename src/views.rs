//! The API's JSON shapes — a call, a customer, a reservation — shared by the partner API and the
//! command line's `--json` output, so that both speak with the same field names. Each derives
//! its OpenAPI schema (`ToSchema`), so the document served at `openapi.json` is these types.

use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::bookings::rules::SOURCES;
use crate::db::calls::CallRow;
use crate::db::customers::Customer;
use crate::db::reservations::{CLOSED_STATUSES, Reservation, UPCOMING_STATUSES};
use crate::db::restaurants::Restaurant;
use crate::db::tokens::TokenInfo;
use crate::domain::{DeliveryState, Outcome, Source, Suppression, TemplateType};
use crate::time::{format_local, format_utc};
use crate::vault::KeyProblem;

/// A single object answered under `data`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Data<T> {
    pub data: T,
}

/// One page of a list, and the cursor of the next page (`null` on the last one).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Page<T> {
    pub data: Vec<T>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A ledger row in the `data` shape of SPEC §2.2. Every field is always there; `null` where
/// the SPEC says so.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Call)]
pub struct CallView {
    pub id: String,
    pub outcome: Outcome,
    /// E.164; for a hidden caller, the string as received.
    pub caller_phone_number: String,
    /// `null` for a hidden caller.
    #[schema(required = true)]
    pub customer_id: Option<String>,
    /// The upcoming reservation found, if any.
    #[schema(required = true)]
    pub reservation_id: Option<String>,
    /// The type selected, also when a gate skipped the send; `null` for a hidden caller.
    #[schema(required = true)]
    pub template_type: Option<TemplateType>,
    #[schema(required = true)]
    pub external_call_id: Option<String>,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// WhatsApp's message id (`wamid`), only when `SENT`.
    #[schema(required = true)]
    pub message_id: Option<String>,
    /// Why WhatsApp did not take it, for `UNDELIVERABLE` and `FAILED`.
    #[schema(required = true)]
    pub error: Option<DispatchError>,
    /// `PARTNER` (reported over this API) or `TELNYX` (detected from Telnyx's events).
    pub source: Source,
    /// What WhatsApp's status webhooks said of the message: `sent`, `delivered`, `read` or
    /// `failed`; `null` until one arrives (or without the webhook).
    #[schema(required = true)]
    pub delivery_state: Option<DeliveryState>,
    /// Dispatch attempts so far, an interrupted one included; `0` for a skip.
    pub attempts: i64,
    /// When ringback itself sends a `FAILED` Telnyx call again; else `null`.
    #[schema(required = true, format = DateTime)]
    pub next_attempt_at: Option<String>,
    /// On a replay (`SKIPPED_DUPLICATE`): the outcome the call had.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub original_outcome: Option<Outcome>,
}

/// Why a dispatch did not end in `SENT`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchError {
    pub code: DispatchErrorCode,
    #[schema(required = true)]
    pub message: Option<String>,
}

/// WhatsApp's numeric error codes stay numbers; ringback's own (`timeout`, `transport`, …) are
/// strings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum DispatchErrorCode {
    WhatsApp(i64),
    Ringback(String),
}

impl CallView {
    pub fn from_row(row: &CallRow) -> CallView {
        CallView {
            id: row.id.clone(),
            outcome: row.outcome,
            caller_phone_number: row
                .caller_e164
                .clone()
                .unwrap_or_else(|| row.caller_raw.clone()),
            customer_id: row.customer_id.clone(),
            reservation_id: row.reservation_id.clone(),
            template_type: row.template_type,
            external_call_id: row.external_call_id.clone(),
            occurred_at: format_utc(row.occurred_at),
            created_at: format_utc(row.created_at),
            message_id: row
                .message_id
                .clone()
                .filter(|_| row.outcome == Outcome::Sent),
            // A skip may record why (a key file that does not open the token), but the call
            // object's error is WhatsApp's, for UNDELIVERABLE and FAILED only (SPEC §2.2).
            error: row
                .error_code
                .as_ref()
                .filter(|code| code.as_str() != KeyProblem::CODE)
                .map(|code| DispatchError {
                    code: code.parse::<i64>().map_or_else(
                        |_| DispatchErrorCode::Ringback(code.clone()),
                        DispatchErrorCode::WhatsApp,
                    ),
                    message: row.error_message.clone(),
                }),
            source: row.source,
            delivery_state: row.delivery_state,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.map(format_utc),
            original_outcome: None,
        }
    }
}

/// Why a call ended as it did, in words: the error WhatsApp (or the transport) gave for a failure
/// or a refusal, what the gate means for a skip. `None` for a sent message.
pub fn call_reason(row: &CallRow) -> Option<String> {
    if let (Some(KeyProblem::CODE), Some(message)) = (row.error_code.as_deref(), &row.error_message)
    {
        return Some(sealed_token_reason(message));
    }
    if let Some(code) = &row.error_code {
        return Some(match &row.error_message {
            Some(message) => format!("{code}: {message}"),
            None => code.clone(),
        });
    }
    match (row.outcome, row.template_type) {
        (Outcome::Sent, _) => None,
        (Outcome::SkippedNoTemplate, Some(t)) => Some(format!("no approved, active {t} template")),
        (outcome, _) => Some(outcome.meaning().to_string()),
    }
}

/// The customer object of SPEC §7.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Customer)]
pub struct CustomerView {
    pub id: String,
    #[schema(required = true)]
    pub name: Option<String>,
    /// E.164.
    pub phone_number: String,
    pub whatsapp_suppressed: bool,
    /// Why, while suppressed: `operator`, `131050` (WhatsApp said the user stopped marketing
    /// messages) or `reply` (the customer answered STOP).
    #[schema(required = true, schema_with = suppression_reason)]
    pub suppression_reason: Option<Suppression>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

fn suppression_reason() -> ObjectBuilder {
    one_of_strings_or_null(Suppression::ALL.map(Suppression::as_str))
}

impl CustomerView {
    pub fn new(c: &Customer) -> CustomerView {
        CustomerView {
            id: c.id.clone(),
            name: c.name.clone(),
            phone_number: c.phone_e164.clone(),
            whatsapp_suppressed: c.whatsapp_suppressed,
            suppression_reason: c.suppression_reason,
            created_at: format_utc(c.created_at),
        }
    }
}

/// The customer object of SPEC §7, for the command line's `--json`.
pub fn customer_json(c: &Customer) -> Value {
    json!(CustomerView::new(c))
}

/// The reservation object of SPEC §7, `start_at` in the restaurant's offset.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Reservation)]
pub struct ReservationView {
    pub id: String,
    #[schema(required = true)]
    pub external_id: Option<String>,
    /// In the restaurant's offset.
    #[schema(format = DateTime)]
    pub start_at: String,
    pub party_size: i64,
    #[schema(schema_with = reservation_status)]
    pub status: String,
    #[schema(schema_with = reservation_source)]
    pub source: String,
    #[schema(required = true)]
    pub customer: Option<ReservationCustomer>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The customer a reservation is for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationCustomer {
    pub id: String,
    #[schema(required = true)]
    pub name: Option<String>,
    pub phone_number: String,
}

impl ReservationView {
    pub fn new(r: &Reservation, customer: Option<&Customer>, tz: &TimeZone) -> ReservationView {
        ReservationView {
            id: r.id.clone(),
            external_id: r.external_id.clone(),
            start_at: format_local(r.start_at, tz),
            party_size: r.party_size,
            status: r.status.clone(),
            source: r.source.clone(),
            customer: customer.map(|c| ReservationCustomer {
                id: c.id.clone(),
                name: c.name.clone(),
                phone_number: c.phone_e164.clone(),
            }),
            created_at: format_utc(r.created_at),
            updated_at: format_utc(r.updated_at),
        }
    }
}

/// The reservation object of SPEC §7, for the command line's `--json`.
pub fn reservation_json(r: &Reservation, customer: Option<&Customer>, tz: &TimeZone) -> Value {
    json!(ReservationView::new(r, customer, tz))
}

/// What `GET /me` tells about a token (SPEC §2.5).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Me)]
pub struct MeView {
    pub restaurant: MeRestaurant,
    pub token: MeToken,
    pub features: MeFeatures,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeRestaurant {
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// IANA time zone name.
    pub timezone: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeToken {
    pub id: String,
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeFeatures {
    pub missed_calls: bool,
    pub whatsapp: bool,
}

impl MeView {
    /// `whatsapp`: the account is connected and its token opens with the key file.
    pub fn new(r: &Restaurant, t: &TokenInfo, whatsapp: bool) -> MeView {
        MeView {
            restaurant: MeRestaurant {
                id: r.id.clone(),
                name: r.name.clone(),
                country: r.country.clone(),
                timezone: r.timezone.clone(),
            },
            token: MeToken {
                id: t.id.clone(),
                name: t.name.clone(),
                created_at: format_utc(t.created_at),
            },
            features: MeFeatures {
                missed_calls: r.missed_calls_enabled,
                whatsapp,
            },
        }
    }
}

/// A string schema that admits exactly `values`.
pub fn one_of_strings<'a>(values: impl IntoIterator<Item = &'a str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
}

/// Like `one_of_strings`, or `null`.
pub fn one_of_strings_or_null<'a>(values: impl IntoIterator<Item = &'a str>) -> ObjectBuilder {
    let values = values.into_iter().map(Value::from);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values.chain([Value::Null])))
}

// The closed sets' schemas are built from their own lists, so the document cannot drift from
// what is stored and answered.

pub fn reservation_statuses() -> impl Iterator<Item = &'static str> {
    UPCOMING_STATUSES.into_iter().chain(CLOSED_STATUSES)
}

fn reservation_status() -> ObjectBuilder {
    one_of_strings(reservation_statuses())
}

fn reservation_source() -> ObjectBuilder {
    one_of_strings(SOURCES)
}

impl PartialSchema for Outcome {
    fn schema() -> RefOr<Schema> {
        one_of_strings(Outcome::ALL.map(Outcome::as_str)).into()
    }
}

impl ToSchema for Outcome {}

impl PartialSchema for TemplateType {
    fn schema() -> RefOr<Schema> {
        one_of_strings(TemplateType::ALL.map(TemplateType::as_str)).into()
    }
}

impl ToSchema for TemplateType {}

impl PartialSchema for Source {
    fn schema() -> RefOr<Schema> {
        one_of_strings(Source::ALL.map(Source::as_str)).into()
    }
}

impl ToSchema for Source {}

impl PartialSchema for DeliveryState {
    fn schema() -> RefOr<Schema> {
        one_of_strings(DeliveryState::ALL.map(DeliveryState::as_str)).into()
    }
}

impl ToSchema for DeliveryState {}

/// Why a restaurant with a WhatsApp number connected sent nothing: its access token does not
/// open with the key file (SPEC §8.2). `problem` names the key file.
pub fn sealed_token_reason(problem: &str) -> String {
    format!("the WhatsApp access token cannot be decrypted: {problem}")
}
