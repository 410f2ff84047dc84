//! SPEC §2.3: one error envelope everywhere, every status, and the request id.

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::helpers::*;

async fn post_raw(app: &TestApp, content_type: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!("{}/api/partner/v1/missed-calls", app.address))
        .bearer_auth(&app.restaurant.token)
        .body(body.to_string());
    if let Some(ct) = content_type {
        request = request.header(CONTENT_TYPE, ct);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json envelope"))
}

fn assert_envelope(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(
        body["error"]["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert!(body["error"]["details"].is_object());
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400_malformed() {
    let app = spawn_app().await;

    let (status, body) = post_raw(&app, Some("application/json"), "{caller").await;

    assert_eq!(status, 400);
    assert_envelope(&body, "MALFORMED_REQUEST");
    assert_eq!(app.ledger_rows(), 0);
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_400_malformed() {
    let app = spawn_app().await;

    let (status, body) = post_raw(&app, Some("application/json"), "[1,2]").await;

    assert_eq!(status, 400);
    assert_envelope(&body, "MALFORMED_REQUEST");
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_400_naming_it() {
    let app = spawn_app().await;
    for (body, field) in [
        (
            json!({"caller_phone_number": 33612345678_i64}),
            "caller_phone_number",
        ),
        (
            json!({"caller_phone_number": "+33612345678", "external_call_id": 7}),
            "external_call_id",
        ),
        (
            json!({"caller_phone_number": "+33612345678", "occurred_at": true}),
            "occurred_at",
        ),
    ] {
        let (status, answer) = app.report_json(body).await;
        assert_eq!(status, 400);
        assert_envelope(&answer, "MALFORMED_REQUEST");
        assert_eq!(answer["error"]["details"]["field"], field);
    }
    assert_eq!(app.ledger_rows(), 0);
}

#[tokio::test]
async fn a_missing_caller_phone_number_is_400() {
    let app = spawn_app().await;

    let (status, body) = app.report_json(json!({"external_call_id": "x"})).await;

    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "caller_phone_number");
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let app = spawn_app().await;

    let (status, _) = app
        .report_json(json!({"caller_phone_number": "anonymous", "direction": "inbound"}))
        .await;

    assert_eq!(status, 201);
}

#[tokio::test]
async fn a_missing_or_bad_token_is_401_with_www_authenticate() {
    let app = spawn_app().await;
    let revoked = {
        let (id, token) =
            ringback::cli::tokens::create_token(&app.db(), &app.restaurant.id, None).expect("t");
        ringback::cli::tokens::revoke_token(&app.db(), &id).expect("revoke");
        token
    };
    let unknown = format!("rbk_{}", "a".repeat(40));
    let headers: Vec<Option<String>> = vec![
        None,
        Some("Basic dXNlcjpwYXNz".into()),
        Some("Bearer".into()),
        Some("Bearer not-a-token".into()),
        Some(format!("Bearer {unknown}")),
        Some(format!("Bearer {revoked}")),
    ];
    for header in headers {
        let mut request = app
            .client
            .post(format!("{}/api/partner/v1/missed-calls", app.address))
            .json(&json!({"caller_phone_number": "+33612345678"}));
        if let Some(h) = &header {
            request = request.header("authorization", h);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), 401, "{header:?}");
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        let body: Value = response.json().await.expect("json");
        assert_envelope(&body, "UNAUTHORIZED");
    }
    assert_eq!(app.ledger_rows(), 0);
}

#[tokio::test]
async fn an_unknown_route_is_404_with_the_envelope() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(format!("{}/api/partner/v1/nothing-here", app.address))
        .send()
        .await
        .expect("request");

    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.expect("json");
    assert_envelope(&body, "NOT_FOUND");
}

#[tokio::test]
async fn a_wrong_method_on_a_known_route_is_405_with_the_envelope() {
    let app = spawn_app().await;

    let response = app
        .client
        .delete(format!("{}/api/partner/v1/missed-calls", app.address))
        .send()
        .await
        .expect("request");

    assert_eq!(response.status().as_u16(), 405);
    let body: Value = response.json().await.expect("json");
    assert_envelope(&body, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app().await;
    let padding = "x".repeat(17_000);
    let body = json!({"caller_phone_number": "+33612345678", "note": padding}).to_string();

    let (status, answer) = post_raw(&app, Some("application/json"), &body).await;

    assert_eq!(status, 413);
    assert_envelope(&answer, "PAYLOAD_TOO_LARGE");
    assert_eq!(app.ledger_rows(), 0);
}

#[tokio::test]
async fn a_content_type_other_than_json_is_415() {
    let app = spawn_app().await;
    let body = json!({"caller_phone_number": "+33612345678"}).to_string();

    let (plain, answer) = post_raw(&app, Some("text/plain"), &body).await;
    let (missing, _) = post_raw(&app, None, &body).await;
    let (with_charset, _) = post_raw(&app, Some("application/json; charset=utf-8"), &body).await;

    assert_eq!(plain, 415);
    assert_envelope(&answer, "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(missing, 415);
    assert_eq!(with_charset, 201);
}

#[tokio::test]
async fn length_rules_fail_with_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"caller_phone_number": "06"}), "caller_phone_number"),
        (
            json!({"caller_phone_number": "0".repeat(41)}),
            "caller_phone_number",
        ),
        (
            json!({"caller_phone_number": "+33612345678", "external_call_id": ""}),
            "external_call_id",
        ),
        (
            json!({"caller_phone_number": "+33612345678", "external_call_id": "x".repeat(129)}),
            "external_call_id",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = app.report_json(body).await;
        assert_eq!(status, 422);
        assert_envelope(&answer, "VALIDATION_ERROR");
        assert_eq!(answer["error"]["details"]["field"], field);
    }
    assert_eq!(app.ledger_rows(), 0);
}

#[tokio::test]
async fn an_internal_failure_is_500_without_leaking_internals() {
    let app = spawn_app().await;
    app.db()
        .execute_batch("DROP INDEX calls_caller; ALTER TABLE calls RENAME TO calls_gone;")
        .expect("break the ledger");

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(status, 500);
    assert_envelope(&body, "INTERNAL_ERROR");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("calls"), "{message}");
    assert!(!message.to_lowercase().contains("sqlite"), "{message}");
}

#[tokio::test]
async fn a_usable_request_id_is_echoed_and_an_unusable_one_replaced() {
    let app = spawn_app().await;
    let send = |id: String| {
        app.client
            .get(format!("{}/nowhere", app.address))
            .header("x-request-id", id)
            .send()
    };

    let echoed = send("pbx-req-42".into()).await.expect("request");
    let replaced = send("x".repeat(65)).await.expect("request");

    assert_eq!(
        echoed
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("pbx-req-42")
    );
    let echoed_body: Value = echoed.json().await.expect("json");
    assert_eq!(echoed_body["error"]["request_id"], "pbx-req-42");
    let new_id = replaced
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(new_id.starts_with("req_"), "{new_id}");
}

#[tokio::test]
async fn every_success_carries_a_request_id() {
    let app = spawn_app().await;

    let response = app
        .report(json!({"caller_phone_number": "anonymous"}))
        .await;

    assert!(response.headers().get("x-request-id").is_some());
}

#[tokio::test]
async fn a_handler_that_panics_answers_500_in_the_envelope_and_the_next_request_is_served() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(format!("{}/test/panic", app.address))
        .send()
        .await
        .expect("answered, not reset");
    let status = response.status().as_u16();
    let has_id = response.headers().contains_key("x-request-id");
    let body: Value = response.json().await.expect("json");
    let (next, _) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(status, 500);
    assert!(has_id, "the request id, as on every answer");
    assert_eq!(body["error"]["code"], "INTERNAL_ERROR");
    assert!(
        !body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("made to panic"),
        "the panic's text is logged, not shown: {body}"
    );
    assert_eq!(next, 201, "the process serves on");
}
