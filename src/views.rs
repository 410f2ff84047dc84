//! The API's JSON shapes — a call, a customer, a reservation — shared by the partner API and the
//! command line's `--json` output, so that both speak with the same field names.

use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::{Value, json};

use crate::db::calls::CallRow;
use crate::db::customers::Customer;
use crate::db::reservations::Reservation;
use crate::db::templates::TemplateType;
use crate::missed_call::outcome::Outcome;
use crate::time::{format_local, format_utc};

/// A ledger row in the `data` shape of SPEC §2.2.
#[derive(Debug, Serialize)]
pub struct CallView {
    pub id: String,
    pub outcome: Outcome,
    pub caller_phone_number: String,
    pub customer_id: Option<String>,
    pub reservation_id: Option<String>,
    pub template_type: Option<TemplateType>,
    pub external_call_id: Option<String>,
    pub occurred_at: String,
    pub created_at: String,
    pub message_id: Option<String>,
    pub error: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_outcome: Option<Outcome>,
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
            error: row
                .error_code
                .as_ref()
                .map(|code| json!({"code": error_code_json(code), "message": row.error_message})),
            original_outcome: None,
        }
    }
}

/// Why a call ended as it did, in words: the error WhatsApp (or the transport) gave for a failure
/// or a refusal, what the gate means for a skip. `None` for a sent message.
pub fn call_reason(row: &CallRow) -> Option<String> {
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

/// WhatsApp's numeric codes stay numbers; ringback's own (`timeout`, `transport`, …) are strings.
fn error_code_json(code: &str) -> Value {
    code.parse::<i64>()
        .map_or_else(|_| json!(code), |n| json!(n))
}

/// The customer object of SPEC §7.
pub fn customer_json(c: &Customer) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "phone_number": c.phone_e164,
        "whatsapp_suppressed": c.whatsapp_suppressed,
        "created_at": format_utc(c.created_at),
    })
}

/// The reservation object of SPEC §7, `start_at` in the restaurant's offset.
pub fn reservation_json(r: &Reservation, customer: Option<&Customer>, tz: &TimeZone) -> Value {
    json!({
        "id": r.id,
        "external_id": r.external_id,
        "start_at": format_local(r.start_at, tz),
        "party_size": r.party_size,
        "status": r.status,
        "source": r.source,
        "customer": customer.map(|c| json!({"id": c.id, "name": c.name, "phone_number": c.phone_e164})),
        "created_at": format_utc(r.created_at),
        "updated_at": format_utc(r.updated_at),
    })
}
