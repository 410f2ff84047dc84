//! WhatsApp dispatch: the transport trait, the message to send, and how an answer maps to an
//! outcome (SPEC §5.3).

pub mod cloud;
pub mod sandbox;
pub mod template;

use serde_json::Value;

use crate::secret::Secret;

/// One template message, ready to go.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub call_id: String,
    pub phone_number_id: String,
    pub access_token: Secret,
    /// E.164, for the logs only (masked); the payload carries it too.
    pub to: String,
    pub payload: Value,
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchResult {
    Sent {
        message_id: String,
    },
    /// Refused for a reason a retry cannot fix.
    Undeliverable {
        code: String,
        message: String,
    },
    /// Transient or unknown, and WhatsApp cannot have sent it (it was never reached, or it
    /// answered with an error); the call may be retried.
    Failed {
        code: String,
        message: String,
    },
    /// The request was written but no usable answer came back: a timeout, a connection cut
    /// before the answer, a `2xx` without a message id. The message may have left, so with the
    /// WhatsApp webhook on the call waits for its status before it is sent again (SPEC §10).
    Unconfirmed {
        code: String,
        message: String,
    },
}

impl DispatchResult {
    /// `sent`, `undeliverable` or `failed`: the result's kind, for logs and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            DispatchResult::Sent { .. } => "sent",
            DispatchResult::Undeliverable { .. } => "undeliverable",
            DispatchResult::Failed { .. } | DispatchResult::Unconfirmed { .. } => "failed",
        }
    }
}

/// Sends a message and waits for the answer. Blocking: the caller runs it on the blocking pool.
pub trait Transport: Send + Sync {
    fn send(&self, message: &Outgoing) -> DispatchResult;

    /// Whether `send` waits on the network and so must run on the blocking pool.
    fn blocks(&self) -> bool {
        true
    }
}

/// WhatsApp error codes that a later retry may get past (rate limits, outages, expired tokens).
const RETRYABLE_CODES: [i64; 15] = [
    1, 2, 4, 17, 32, 190, 368, 613, 80007, 130429, 131000, 131016, 131042, 131048, 131056,
];

/// The user stopped marketing messages: the customer is suppressed.
pub const STOPPED_MARKETING_CODE: &str = "131050";

/// ringback's own code for a send that got no answer in `whatsapp.timeout_ms`: it may have
/// reached WhatsApp all the same.
pub const TIMEOUT_CODE: &str = "timeout";

/// ringback's own code for a send the network cut short, or an answer that is not one.
pub const TRANSPORT_CODE: &str = "transport";

/// Maps a Cloud API answer to an outcome. The code comes from the body's `error.code`, never from
/// the HTTP status; an error without a code is treated as unknown, hence retryable.
pub fn map_response(status: u16, body: &[u8]) -> DispatchResult {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if (200..300).contains(&status) {
        let id = json
            .as_ref()
            .and_then(|j| j.pointer("/messages/0/id"))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty());
        return match id {
            Some(id) => DispatchResult::Sent {
                message_id: id.to_string(),
            },
            None => DispatchResult::Unconfirmed {
                code: TRANSPORT_CODE.into(),
                message: format!("WhatsApp answered {status} without a message id"),
            },
        };
    }
    let error = json.as_ref().and_then(|j| j.get("error"));
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_i64);
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("WhatsApp answered HTTP {status}"));
    match code {
        Some(code) if RETRYABLE_CODES.contains(&code) || status >= 500 || status == 429 => {
            DispatchResult::Failed {
                code: code.to_string(),
                message,
            }
        }
        Some(code) => DispatchResult::Undeliverable {
            code: code.to_string(),
            message,
        },
        None => DispatchResult::Failed {
            code: TRANSPORT_CODE.into(),
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_body(code: i64) -> Vec<u8> {
        format!(r#"{{"error":{{"message":"m","code":{code}}}}}"#).into_bytes()
    }

    #[test]
    fn a_2xx_with_a_message_id_is_sent() {
        let r = map_response(200, br#"{"messages":[{"id":"wamid.X"}]}"#);
        assert_eq!(
            r,
            DispatchResult::Sent {
                message_id: "wamid.X".into()
            }
        );
    }

    #[test]
    fn a_2xx_without_a_message_id_is_unconfirmed_for_the_message_may_have_left() {
        assert!(matches!(
            map_response(200, b"{}"),
            DispatchResult::Unconfirmed { .. }
        ));
    }

    #[test]
    fn retryable_codes_fail_and_others_are_undeliverable() {
        for code in RETRYABLE_CODES {
            assert!(
                matches!(
                    map_response(400, &error_body(code)),
                    DispatchResult::Failed { .. }
                ),
                "{code}"
            );
        }
        assert!(matches!(
            map_response(400, &error_body(131026)),
            DispatchResult::Undeliverable { .. }
        ));
        assert!(matches!(
            map_response(503, &error_body(131026)),
            DispatchResult::Failed { .. }
        ));
    }
}
