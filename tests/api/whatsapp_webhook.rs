//! SPEC §10, WhatsApp: Meta's handshake, payloads verified over their raw bytes, statuses that
//! move a call's delivery state forward, and STOP / START replies (§4.4's reasons, §7's customer).

mod replies;
mod statuses;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::webhook_kit::*;

/// The usual caller, and the same number as WhatsApp names it: digits, no `+`.
const CALLER: &str = "+33612345678";
const CALLER_WA_ID: &str = "33612345678";

/// The app with the WhatsApp webhook configured (`APP_SECRET`, `VERIFY_TOKEN`).
async fn whatsapp_app() -> TestApp {
    spawn_app_with(|c| webhooks_on(c, &TelnyxKeys::new(), 5)).await
}

/// Reports a missed call from `caller` that WhatsApp accepts: the call's id and message id.
async fn sent_call(app: &TestApp, caller: &str) -> (String, String) {
    let (status, body) = app
        .report_json(json!({"caller_phone_number": caller}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["outcome"], "SENT", "{body}");
    let id = body["data"]["id"].as_str().expect("call id").to_string();
    let message_id = body["data"]["message_id"]
        .as_str()
        .expect("message id")
        .to_string();
    (id, message_id)
}

/// The outcome of a new missed call from `caller`.
async fn next_call_outcome(app: &TestApp, caller: &str) -> String {
    let (status, body) = app
        .report_json(json!({"caller_phone_number": caller}))
        .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["outcome"]
        .as_str()
        .expect("outcome")
        .to_string()
}

/// The call's `delivery_state` as the partner API shows it.
async fn delivery_state(app: &TestApp, call_id: &str) -> Value {
    let (status, body) = app.get_call(&app.restaurant.token, call_id).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["delivery_state"].clone()
}

/// The customer with this E.164 number as the partner API shows it; `Null` when there is none.
async fn customer(app: &TestApp, e164: &str) -> Value {
    let path = format!("/customers?phone_number={}", e164.replace('+', "%2B"));
    let (status, body) = app
        .call(Method::GET, &path, &app.restaurant.token, None)
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"][0].clone()
}

/// `(whatsapp_suppressed, suppression_reason)` of the customer with this number.
async fn suppression(app: &TestApp, e164: &str) -> (Value, Value) {
    let customer = customer(app, e164).await;
    (
        customer["whatsapp_suppressed"].clone(),
        customer["suppression_reason"].clone(),
    )
}

/// Posts a signed payload and expects Meta's `200`.
async fn deliver(app: &TestApp, payload: &Value) {
    assert_eq!(app.meta(payload).await, 200, "{payload}");
}

fn rows(app: &TestApp, table: &str) -> i64 {
    app.db()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

/// What a webhook can leave behind: statuses, replies acted on, customers.
fn recorded(app: &TestApp) -> (i64, i64, i64) {
    (
        rows(app, "message_statuses"),
        rows(app, "whatsapp_replies"),
        rows(app, "customers"),
    )
}

async fn handshake(app: &TestApp, query: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/webhooks/whatsapp?{query}", app.address))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn meta_s_handshake_with_the_verify_token_is_answered_with_the_challenge_as_plain_text() {
    let app = whatsapp_app().await;

    let response = handshake(
        &app,
        &format!("hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"),
    )
    .await;

    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .expect("content-type")
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(response.text().await.expect("body"), "1158201444");
}

#[tokio::test]
async fn a_handshake_with_a_wrong_verify_token_is_forbidden() {
    let app = whatsapp_app().await;

    let response = handshake(
        &app,
        "hub.mode=subscribe&hub.verify_token=ringback-verify-7d22&hub.challenge=1158201444",
    )
    .await;

    assert_eq!(response.status().as_u16(), 403);
    let body: Value = response.json().await.expect("json envelope");
    assert_eq!(body["error"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn a_handshake_with_an_empty_verify_token_is_forbidden() {
    let app = whatsapp_app().await;

    let response = handshake(
        &app,
        "hub.mode=subscribe&hub.verify_token=&hub.challenge=1158201444",
    )
    .await;

    assert_eq!(response.status().as_u16(), 403);
    let body: Value = response.json().await.expect("json envelope");
    assert_eq!(body["error"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn the_whatsapp_webhook_is_not_found_until_it_is_configured() {
    let app = spawn_app().await;

    let get = handshake(
        &app,
        &format!("hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"),
    )
    .await;
    let get_status = get.status().as_u16();
    let get_body: Value = get.json().await.expect("json envelope");
    let body = serde_json::to_vec(&text_reply("wamid.IN1", CALLER_WA_ID, "STOP")).expect("json");
    let (post_status, post_body) = post_meta_at(&app.address, &body).await;

    assert_eq!(get_status, 404);
    assert_eq!(get_body["error"]["code"], "NOT_FOUND");
    assert_eq!(post_status, 404);
    assert_eq!(post_body["error"]["code"], "NOT_FOUND");
    assert_eq!(recorded(&app), (0, 0, 0));
}

#[tokio::test]
async fn a_payload_signed_with_the_app_secret_is_accepted_and_acted_on() {
    let app = whatsapp_app().await;
    let body = serde_json::to_vec(&text_reply("wamid.IN1", CALLER_WA_ID, "STOP")).expect("json");

    let (status, _) = post_meta_signed(&app.address, &body, &meta_signature(&body)).await;

    assert_eq!(status, 200);
    assert_eq!(
        suppression(&app, CALLER).await,
        (json!(true), json!("reply"))
    );
}

#[tokio::test]
async fn a_payload_signed_with_another_secret_is_refused_and_nothing_is_recorded() {
    let app = whatsapp_app().await;
    let body = serde_json::to_vec(&text_reply("wamid.IN1", CALLER_WA_ID, "STOP")).expect("json");

    let (status, answer) = post_meta_signed(
        &app.address,
        &body,
        &meta_signature_with("another-app-secret", &body),
    )
    .await;

    assert_eq!(status, 401);
    assert_eq!(answer["error"]["code"], "INVALID_SIGNATURE");
    assert_eq!(recorded(&app), (0, 0, 0));
}

#[tokio::test]
async fn a_body_changed_by_one_byte_after_signing_is_refused() {
    let app = whatsapp_app().await;
    let signed = serde_json::to_vec(&text_reply("wamid.IN1", CALLER_WA_ID, "STOP")).expect("json");
    // "STOP" becomes "sTOP": still a STOP, so only the signature can refuse it.
    let at = signed
        .windows(4)
        .position(|w| w == b"STOP")
        .expect("the word");
    let mut changed = signed.clone();
    changed[at] = b's';

    let (status, answer) = post_meta_signed(&app.address, &changed, &meta_signature(&signed)).await;

    assert_eq!(status, 401);
    assert_eq!(answer["error"]["code"], "INVALID_SIGNATURE");
    assert_eq!(recorded(&app), (0, 0, 0));
}

#[tokio::test]
async fn a_payload_without_a_signature_or_with_one_that_is_not_hex_is_refused() {
    let app = whatsapp_app().await;
    let body = serde_json::to_vec(&text_reply("wamid.IN1", CALLER_WA_ID, "STOP")).expect("json");
    let not_hex = format!("sha256={}", "zz".repeat(32));

    let (unsigned, unsigned_answer) = post_meta_unsigned(&app.address, &body).await;
    let (garbled, garbled_answer) = post_meta_signed(&app.address, &body, &not_hex).await;

    assert_eq!(unsigned, 401);
    assert_eq!(unsigned_answer["error"]["code"], "INVALID_SIGNATURE");
    assert_eq!(garbled, 401);
    assert_eq!(garbled_answer["error"]["code"], "INVALID_SIGNATURE");
    assert_eq!(recorded(&app), (0, 0, 0));
}

#[tokio::test]
async fn the_signature_is_checked_over_the_raw_bytes_whatever_their_spacing_escapes_and_emoji() {
    let app = whatsapp_app().await;
    // As Meta might send it: spaced out, the name in raw UTF-8, the reply with `\u00e9` escapes.
    let raw = r#"{ "object" : "whatsapp_business_account",
  "entry" : [ { "id" : "102290129340398",
    "changes" : [ { "field" : "messages",
      "value" : { "messaging_product" : "whatsapp",
        "metadata" : { "display_phone_number" : "33187654321", "phone_number_id" : "106540352242922" },
        "contacts" : [ { "profile" : { "name" : "Zoé 🍝" }, "wa_id" : "33612345678" } ],
        "messages" : [ { "from" : "33612345678", "id" : "wamid.IN-ZOE", "timestamp" : "1767225600",
                         "type" : "text", "text" : { "body" : "D\u00e9sabonner" } } ] } } ] } ] }
"#
    .as_bytes();
    let reserialised =
        serde_json::to_vec(&serde_json::from_slice::<Value>(raw).expect("json")).expect("json");
    assert_ne!(reserialised, raw, "the raw bytes are not serde_json's");

    let (status, _) = post_meta_signed(&app.address, raw, &meta_signature(raw)).await;

    assert_eq!(status, 200);
    assert_eq!(
        suppression(&app, CALLER).await,
        (json!(true), json!("reply"))
    );
}

#[tokio::test]
async fn a_signed_body_that_is_not_json_is_acknowledged_and_changes_nothing() {
    let app = whatsapp_app().await;
    let body = b"entry=STOP&from=33612345678";

    let (status, _) = post_meta_at(&app.address, body).await;

    assert_eq!(status, 200);
    assert_eq!(recorded(&app), (0, 0, 0));
}

#[tokio::test]
async fn signed_json_of_another_shape_is_acknowledged_and_changes_nothing() {
    let app = whatsapp_app().await;
    let (call_id, message_id) = sent_call(&app, CALLER).await;
    let before = recorded(&app);
    let shapes = [
        json!([1, 2, 3]),
        json!("STOP"),
        json!({"object": "page", "entry": "STOP"}),
        json!({"object": "whatsapp_business_account", "entry": [{"changes": {"value": {}}}]}),
        json!({"entry": [{"changes": [{"value": {"statuses": {"id": message_id, "status": "read"}}}]}]}),
        status_payload(&message_id, "deleted", Some(&call_id)),
    ];

    for shape in &shapes {
        deliver(&app, shape).await;
    }

    assert_eq!(recorded(&app), before);
    assert_eq!(delivery_state(&app, &call_id).await, Value::Null);
    assert_eq!(suppression(&app, CALLER).await, (json!(false), Value::Null));
}
