//! Real keys for the webhooks of SPEC §10: an Ed25519 key pair made here signs Telnyx's events,
//! an app secret signs Meta's payloads, both over the exact bytes posted.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use ringback::config::Config;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{PHONE_NUMBER_ID, TestApp};

pub const APP_SECRET: &str = "test-app-secret-5f1c0e";
pub const VERIFY_TOKEN: &str = "ringback-verify-7d21";
/// The test restaurant's Telnyx number.
pub const TELNYX_NUMBER: &str = "+33187654321";

/// A Telnyx account's key pair, made for the test.
pub struct TelnyxKeys {
    signing: SigningKey,
}

impl TelnyxKeys {
    pub fn new() -> TelnyxKeys {
        let seed: [u8; 32] = rand::random();
        TelnyxKeys {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The public key as the Telnyx portal shows it: base64.
    pub fn public_key(&self) -> String {
        BASE64.encode(self.signing.verifying_key().as_bytes())
    }

    /// `telnyx-signature-ed25519` for `body` sent at `timestamp`.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let mut signed = format!("{timestamp}|").into_bytes();
        signed.extend_from_slice(body);
        BASE64.encode(self.signing.sign(&signed).to_bytes())
    }
}

/// Turns both webhooks on: the Telnyx key, Meta's secret and verify token, a short settle delay.
pub fn webhooks_on(config: &mut Config, keys: &TelnyxKeys, settle_seconds: i64) {
    config.telnyx.public_key = keys.public_key();
    config.telnyx.settle_seconds = settle_seconds;
    config.whatsapp.app_secret = APP_SECRET.into();
    config.whatsapp.verify_token = VERIFY_TOKEN.into();
}

pub fn now_secs() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A Call Control v2 event. `direction` is left out when `None` (Telnyx's hangup has none).
pub fn telnyx_event(
    event_id: &str,
    event_type: &str,
    session: &str,
    leg: &str,
    direction: Option<&str>,
    from: &str,
    to: &str,
) -> Value {
    let mut payload = json!({
        "call_control_id": format!("v3:{leg}"),
        "call_leg_id": leg,
        "call_session_id": session,
        "connection_id": "1494404757140276705",
        "from": from,
        "to": to,
        "start_time": jiff::Timestamp::now().to_string(),
        "state": "parked",
    });
    if let Some(direction) = direction {
        payload["direction"] = json!(direction);
    }
    json!({
        "data": {
            "record_type": "event",
            "event_type": event_type,
            "id": event_id,
            "occurred_at": jiff::Timestamp::now().to_string(),
            "payload": payload,
        },
        "meta": {"attempt": 1, "delivered_to": "https://box.example.com/webhooks/telnyx"}
    })
}

/// A WhatsApp status webhook for one message.
pub fn status_payload(message_id: &str, status: &str, call_id: Option<&str>) -> Value {
    let mut s = json!({
        "id": message_id,
        "status": status,
        "timestamp": now_secs().to_string(),
        "recipient_id": "33612345678",
    });
    if let Some(call_id) = call_id {
        s["biz_opaque_callback_data"] = json!(call_id);
    }
    if status == "failed" {
        s["errors"] = json!([{"code": 131026, "title": "Message undeliverable"}]);
    }
    business_payload(json!({"statuses": [s]}))
}

/// The envelope Meta wraps every change in, for the test restaurant's number.
pub fn business_payload(value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({"display_phone_number": "33187654321", "phone_number_id": PHONE_NUMBER_ID});
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]
    })
}

/// An inbound text message from `from` (WhatsApp's id: digits, no `+`).
pub fn text_reply(message_id: &str, from: &str, text: &str) -> Value {
    business_payload(json!({
        "contacts": [{"profile": {"name": "Guest"}, "wa_id": from}],
        "messages": [{"from": from, "id": message_id, "timestamp": now_secs().to_string(),
                      "type": "text", "text": {"body": text}}]
    }))
}

/// `X-Hub-Signature-256` for `body`.
pub fn meta_signature(body: &[u8]) -> String {
    meta_signature_with(APP_SECRET, body)
}

/// `X-Hub-Signature-256` for `body`, made with `app_secret`.
pub fn meta_signature_with(app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts `body` to `/webhooks/telnyx` at `address`, signed with `keys` at `timestamp`.
pub async fn post_telnyx_at(
    address: &str,
    keys: &TelnyxKeys,
    timestamp: i64,
    body: &[u8],
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{address}/webhooks/telnyx"))
        .header("content-type", "application/json")
        .header("telnyx-timestamp", timestamp.to_string())
        .header("telnyx-signature-ed25519", keys.sign(timestamp, body))
        .body(body.to_vec())
        .send()
        .await
        .expect("request");
    status_and_json(response).await
}

/// The status, and the body as JSON (`null` for a body that is not JSON).
async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Posts a signed Meta payload to `/webhooks/whatsapp` at `address`.
pub async fn post_meta_at(address: &str, body: &[u8]) -> (u16, Value) {
    post_meta_signed(address, body, &meta_signature(body)).await
}

pub async fn post_meta_signed(address: &str, body: &[u8], signature: &str) -> (u16, Value) {
    post_meta(address, body, Some(signature)).await
}

/// Posts `body` to `/webhooks/whatsapp` at `address` with no `X-Hub-Signature-256`.
pub async fn post_meta_unsigned(address: &str, body: &[u8]) -> (u16, Value) {
    post_meta(address, body, None).await
}

async fn post_meta(address: &str, body: &[u8], signature: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{address}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    status_and_json(request.send().await.expect("request")).await
}

impl TestApp {
    /// Posts a Telnyx event signed now.
    pub async fn telnyx(&self, keys: &TelnyxKeys, event: &Value) -> u16 {
        let body = serde_json::to_vec(event).expect("json");
        post_telnyx_at(&self.address, keys, now_secs(), &body)
            .await
            .0
    }

    /// Posts a signed Meta payload.
    pub async fn meta(&self, payload: &Value) -> u16 {
        let body = serde_json::to_vec(payload).expect("json");
        post_meta_at(&self.address, &body).await.0
    }

    /// Ties the Telnyx number to the test restaurant.
    pub fn tie_telnyx_number(&self, restaurant_id: &str, number: &str) {
        ringback::cli::restaurants::update_restaurant(
            &self.db(),
            restaurant_id,
            ringback::db::restaurants::RestaurantChanges {
                telnyx_number: Some(Some(number.into())),
                ..Default::default()
            },
        )
        .expect("tie the Telnyx number");
    }
}

/// A `failed` WhatsApp status for one message, its error carrying `code`.
pub fn failed_status(message_id: &str, code: i64) -> Value {
    let mut payload = status_payload(message_id, "failed", None);
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"] =
        json!([{"code": code, "title": format!("error {code}")}]);
    payload
}

/// The same payload, for the WhatsApp number `phone_number_id` instead of the test restaurant's.
pub fn for_number(payload: Value, phone_number_id: &str) -> Value {
    let mut payload = payload;
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] =
        json!(phone_number_id);
    payload
}

/// A tap on a template's quick-reply button: WhatsApp sends its label as `button.text`.
pub fn button_reply(message_id: &str, from: &str, label: &str) -> Value {
    business_payload(json!({
        "contacts": [{"profile": {"name": "Guest"}, "wa_id": from}],
        "messages": [{"context": {"from": "33187654321", "id": "wamid.SENT"},
                      "from": from, "id": message_id, "timestamp": now_secs().to_string(),
                      "type": "button", "button": {"text": label, "payload": "btn_0"}}]
    }))
}

/// A tap on an interactive message's reply button: its label is `interactive.button_reply.title`.
pub fn interactive_reply(message_id: &str, from: &str, title: &str) -> Value {
    business_payload(json!({
        "contacts": [{"profile": {"name": "Guest"}, "wa_id": from}],
        "messages": [{"context": {"from": "33187654321", "id": "wamid.SENT"},
                      "from": from, "id": message_id, "timestamp": now_secs().to_string(),
                      "type": "interactive",
                      "interactive": {"type": "button_reply",
                                      "button_reply": {"id": "btn_0", "title": title}}}]
    }))
}
