//! The Meta WhatsApp Business Cloud API transport, over ureq.

use std::time::Duration;

use ureq::Agent;

use super::{DispatchResult, Outgoing, Transport, map_response};

/// An answer larger than this is not a Cloud API answer; it is cut off rather than buffered.
const MAX_ANSWER_BYTES: u64 = 256 * 1024;

pub struct Cloud {
    agent: Agent,
    api_base: String,
}

impl Cloud {
    pub fn new(api_base: &str, timeout: Duration) -> Cloud {
        let agent: Agent = Agent::config_builder()
            .timeout_global(Some(timeout))
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

fn transport_failure(e: ureq::Error) -> DispatchResult {
    match e {
        ureq::Error::Timeout(_) => DispatchResult::Failed {
            code: "timeout".into(),
            message: "WhatsApp did not answer in time".into(),
        },
        other => DispatchResult::Failed {
            code: "transport".into(),
            message: format!("could not reach WhatsApp: {other}"),
        },
    }
}
