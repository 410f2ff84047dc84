//! The Meta WhatsApp Business Cloud API transport, over ureq.

use std::time::Duration;

use serde_json::Value;
use ureq::Agent;

use super::{DispatchResult, Outgoing, TIMEOUT_CODE, TRANSPORT_CODE, Transport, map_response};
use crate::secret::Secret;

/// An answer larger than this is not a Cloud API answer; it is cut off rather than buffered.
const MAX_ANSWER_BYTES: u64 = 256 * 1024;

pub struct Cloud {
    agent: Agent,
    api_base: String,
}

impl Cloud {
    pub fn new(api_base: &str, timeout: Duration) -> Cloud {
        // Setting up the connection (name, TCP, TLS) has a budget of its own, shorter than the
        // whole: a send stuck before its request left is then told from one that may have left
        // (`Timeout::Connect` against `Timeout::Global`).
        let setup = (timeout / 2).max(Duration::from_millis(1));
        let agent: Agent = Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_resolve(Some(setup))
            .timeout_connect(Some(setup))
            // Error answers carry the WhatsApp error code in their body: read them as answers.
            .http_status_as_error(false)
            .build()
            .into();
        Cloud {
            agent,
            api_base: api_base.trim_end_matches('/').to_string(),
        }
    }
}

impl Transport for Cloud {
    fn send(&self, message: &Outgoing) -> DispatchResult {
        let url = format!("{}/{}/messages", self.api_base, message.phone_number_id);
        let answer = self
            .agent
            .post(&url)
            .header(
                "Authorization",
                &format!("Bearer {}", message.access_token.expose()),
            )
            .send_json(&message.payload);
        let mut response = match answer {
            Ok(response) => response,
            Err(e) => return transport_failure(e),
        };
        let status = response.status().as_u16();
        match response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
        {
            Ok(body) => map_response(status, &body),
            Err(e) => transport_failure(e),
        }
    }
}

/// A send that got no answer. `Failed` only when the request cannot have reached WhatsApp (no
/// connection was made); anything later may have delivered the message, and is `Unconfirmed`.
fn transport_failure(e: ureq::Error) -> DispatchResult {
    use ureq::Error;
    use ureq::Timeout;
    let (code, message) = match &e {
        Error::Timeout(_) => (TIMEOUT_CODE, "WhatsApp did not answer in time".to_string()),
        other => (TRANSPORT_CODE, format!("could not reach WhatsApp: {other}")),
    };
    let never_sent = match &e {
        Error::Timeout(t) => matches!(t, Timeout::Resolve | Timeout::Connect),
        Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::AddrNotAvailable
                | std::io::ErrorKind::NetworkUnreachable
                | std::io::ErrorKind::HostUnreachable
        ),
        Error::HostNotFound
        | Error::ConnectionFailed
        | Error::BadUri(_)
        | Error::Http(_)
        | Error::Tls(_)
        | Error::Rustls(_)
        | Error::Pem(_)
        | Error::InvalidProxyUrl
        | Error::ConnectProxyFailed(_)
        | Error::RequireHttpsOnly(_) => true,
        _ => false,
    };
    let (code, message) = (code.to_string(), message);
    if never_sent {
        DispatchResult::Failed { code, message }
    } else {
        DispatchResult::Unconfirmed { code, message }
    }
}

/// What the Cloud API says about a WhatsApp Business phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    pub display_phone_number: String,
    pub verified_name: String,
    pub quality_rating: String,
}

/// Why the Cloud API gave no phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Meta's own error answer: its `error.message` and `error.code`.
    #[error("WhatsApp answered {status}: {message} (code {code})")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("WhatsApp did not answer in time")]
    Timeout,
    #[error("could not reach WhatsApp: {0}")]
    Transport(String),
    #[error("WhatsApp answered {status} with something that is not a phone number: {body}")]
    Unreadable { status: u16, body: String },
}

const PHONE_NUMBER_FIELDS: &str = "display_phone_number,verified_name,quality_rating";

impl Cloud {
    /// `GET {api_base}/{phone_number_id}`: whether the access token may use the number, and how
    /// Meta shows it. A way to test a restaurant's credentials without messaging anyone.
    pub fn phone_number(
        &self,
        phone_number_id: &str,
        access_token: &Secret,
    ) -> Result<PhoneNumber, CheckError> {
        let url = format!("{}/{}", self.api_base, phone_number_id);
        let answer = self
            .agent
            .get(&url)
            .query("fields", PHONE_NUMBER_FIELDS)
            .header(
                "Authorization",
                &format!("Bearer {}", access_token.expose()),
            )
            .call();
        let mut response = answer.map_err(|e| match e {
            ureq::Error::Timeout(_) => CheckError::Timeout,
            other => CheckError::Transport(other.to_string()),
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|e| CheckError::Transport(e.to_string()))?;
        read_phone_number(status, &body)
    }
}

fn read_phone_number(status: u16, body: &[u8]) -> Result<PhoneNumber, CheckError> {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    if let Some(error) = json.get("error") {
        return Err(CheckError::Refused {
            status,
            code: match error.get("code") {
                Some(Value::String(code)) => code.clone(),
                Some(code) => code.to_string(),
                None => "none".into(),
            },
            message: text(error, "message").unwrap_or_else(|| "no message".into()),
        });
    }
    let unreadable = || CheckError::Unreadable {
        status,
        body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    };
    if !(200..300).contains(&status) {
        return Err(unreadable());
    }
    Ok(PhoneNumber {
        display_phone_number: text(&json, "display_phone_number").ok_or_else(unreadable)?,
        verified_name: text(&json, "verified_name").ok_or_else(unreadable)?,
        // Meta leaves it out for a number that has sent nothing yet.
        quality_rating: text(&json, "quality_rating").unwrap_or_else(|| "UNKNOWN".into()),
    })
}
