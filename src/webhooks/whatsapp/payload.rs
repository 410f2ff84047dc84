//! What a WhatsApp webhook payload says that ringback acts on: statuses, and STOP or START
//! replies. Everything else in it is left alone; nothing in it is trusted beyond the signature.

use serde_json::Value;

use crate::domain::DeliveryState;
use crate::webhooks::replies::{self, Reply};

/// One thing a webhook said, for one of the box's WhatsApp numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Status {
        phone_number_id: String,
        message_id: String,
        status: DeliveryState,
        /// `biz_opaque_callback_data`: the call id ringback sent the message with.
        call_id: Option<String>,
        /// WhatsApp's time, in ms.
        at: Option<i64>,
        error_codes: Vec<String>,
    },
    Reply {
        phone_number_id: String,
        message_id: String,
        /// The sender's WhatsApp id: the number's digits.
        from: String,
        reply: Reply,
    },
}

/// Reads the statuses and the STOP / START replies of a `whatsapp_business_account` payload;
/// `None` when it is not one. Anything else in it is left alone.
pub fn parse_payload(body: &[u8]) -> Option<Vec<Item>> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let list = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut items = Vec::new();
    for entry in json.get("entry")?.as_array()? {
        for change in list(entry, "changes") {
            let Some(value) = change.get("value") else {
                continue;
            };
            let Some(phone_number_id) = value
                .get("metadata")
                .and_then(|m| text(m, "phone_number_id"))
            else {
                continue;
            };
            for s in list(value, "statuses") {
                let (Some(message_id), Some(status)) = (
                    text(&s, "id"),
                    text(&s, "status").and_then(|st| DeliveryState::parse(&st)),
                ) else {
                    continue;
                };
                items.push(Item::Status {
                    phone_number_id: phone_number_id.clone(),
                    message_id,
                    status,
                    call_id: text(&s, "biz_opaque_callback_data"),
                    at: text(&s, "timestamp")
                        .and_then(|t| t.parse::<i64>().ok())
                        .map(|secs| secs.saturating_mul(1000)),
                    error_codes: list(&s, "errors")
                        .iter()
                        .filter_map(|e| e.get("code"))
                        .map(|c| {
                            c.as_i64().map_or_else(
                                || c.as_str().unwrap_or("").to_string(),
                                |n| n.to_string(),
                            )
                        })
                        .collect(),
                });
            }
            for m in list(value, "messages") {
                let (Some(message_id), Some(from)) = (text(&m, "id"), text(&m, "from")) else {
                    continue;
                };
                let said = m
                    .get("text")
                    .and_then(|t| text(t, "body"))
                    .or_else(|| m.get("button").and_then(|b| text(b, "text")))
                    .or_else(|| {
                        m.get("interactive")
                            .and_then(|i| i.get("button_reply"))
                            .and_then(|b| text(b, "title"))
                    });
                if let Some(reply) = said.as_deref().and_then(replies::classify) {
                    items.push(Item::Reply {
                        phone_number_id: phone_number_id.clone(),
                        message_id,
                        from,
                        reply,
                    });
                }
            }
        }
    }
    Some(items)
}
