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
            let statuses = list(value, "statuses");
            items.extend(
                statuses
                    .iter()
                    .filter_map(|s| status_item(&phone_number_id, s)),
            );
            let messages = list(value, "messages");
            items.extend(
                messages
                    .iter()
                    .filter_map(|m| reply_item(&phone_number_id, m)),
            );
        }
    }
    Some(items)
}

/// The string at `key`, if there is one.
fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The array at `key`; empty when there is none.
fn list(v: &Value, key: &str) -> Vec<Value> {
    v.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// One entry of `statuses`; `None` without an id or with a status ringback does not know.
fn status_item(phone_number_id: &str, s: &Value) -> Option<Item> {
    let (Some(message_id), Some(status)) = (
        text(s, "id"),
        text(s, "status").and_then(|st| DeliveryState::parse(&st)),
    ) else {
        return None;
    };
    Some(Item::Status {
        phone_number_id: phone_number_id.to_string(),
        message_id,
        status,
        call_id: text(s, "biz_opaque_callback_data"),
        at: text(s, "timestamp")
            .and_then(|t| t.parse::<i64>().ok())
            .map(|secs| secs.saturating_mul(1000)),
        error_codes: list(s, "errors")
            .iter()
            .filter_map(|e| e.get("code"))
            .map(|c| {
                c.as_i64()
                    .map_or_else(|| c.as_str().unwrap_or("").to_string(), |n| n.to_string())
            })
            .collect(),
    })
}

/// One entry of `messages`, if it is a STOP or START reply.
fn reply_item(phone_number_id: &str, m: &Value) -> Option<Item> {
    let (Some(message_id), Some(from)) = (text(m, "id"), text(m, "from")) else {
        return None;
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
    let reply = said.as_deref().and_then(replies::classify)?;
    Some(Item::Reply {
        phone_number_id: phone_number_id.to_string(),
        message_id,
        from,
        reply,
    })
}
