//! The sandbox transport: no network; every message is recorded as sent and logged.

use super::{DispatchResult, Outgoing, Transport};
use crate::phone::mask;

pub struct Sandbox;

impl Transport for Sandbox {
    fn send(&self, message: &Outgoing) -> DispatchResult {
        let template = message
            .payload
            .pointer("/template/name")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        tracing::debug!(
            call.id = %message.call_id,
            to = %mask(&message.to),
            template = template,
            "sandbox: WhatsApp message recorded as sent"
        );
        DispatchResult::Sent {
            message_id: format!("sandbox.{}", message.call_id),
        }
    }

    fn blocks(&self) -> bool {
        false
    }
}
