//! SPEC §3: idempotency on external_call_id.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_replay_of_a_sent_call_is_skipped_duplicate_with_the_same_row() {
    let app = spawn_app().await;
    let report = json!({"caller_phone_number": "+33612345678", "external_call_id": "pbx-7"});
    let (_, first) = app.report_json(report.clone()).await;

    let (status, replay) = app.report_json(report).await;

    assert_eq!(status, 201);
    assert_eq!(replay["data"]["outcome"], "SKIPPED_DUPLICATE");
    assert_eq!(replay["data"]["original_outcome"], "SENT");
    assert_eq!(replay["data"]["id"], first["data"]["id"]);
    assert_eq!(replay["data"]["message_id"], first["data"]["message_id"]);
    assert_eq!(app.whatsapp.requests().len(), 1);
    assert_eq!(app.ledger_rows(), 1);
}

#[tokio::test]
async fn a_replay_of_a_skipped_call_is_skipped_duplicate_naming_the_original_outcome() {
    let app = spawn_app().await;
    let report = json!({"caller_phone_number": "anonymous", "external_call_id": "pbx-8"});
    app.report_json(report.clone()).await;

    let (_, replay) = app.report_json(report).await;

    assert_eq!(replay["data"]["outcome"], "SKIPPED_DUPLICATE");
    assert_eq!(replay["data"]["original_outcome"], "SKIPPED_HIDDEN_NUMBER");
    assert_eq!(app.ledger_rows(), 1);
}

#[tokio::test]
async fn the_same_number_in_another_format_is_a_replay_not_a_reuse() {
    let app = spawn_app().await;
    app.report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "k"}))
        .await;

    let (status, replay) = app
        .report_json(json!({"caller_phone_number": "06 12 34 56 78", "external_call_id": "k"}))
        .await;

    assert_eq!(status, 201);
    assert_eq!(replay["data"]["outcome"], "SKIPPED_DUPLICATE");
}

#[tokio::test]
async fn an_external_call_id_reused_for_another_number_is_422() {
    let app = spawn_app().await;
    app.report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "k"}))
        .await;

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33698765432", "external_call_id": "k"}))
        .await;

    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "EXTERNAL_CALL_ID_REUSED");
    assert_eq!(app.ledger_rows(), 1);
}

#[tokio::test]
async fn external_call_ids_are_scoped_to_the_restaurant() {
    let app = spawn_app().await;
    let other = app.other_restaurant("Autre", "FR", "Europe/Paris");
    app.report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "k"}))
        .await;

    let response = app
        .report_as(
            &other.token,
            json!({"caller_phone_number": "+33698765432", "external_call_id": "k"}),
        )
        .await;
    let body: serde_json::Value = response.json().await.expect("json");

    assert_eq!(body["data"]["outcome"], "SENT");
}

#[tokio::test]
async fn a_report_while_the_same_call_is_dispatching_gets_409_with_retry_after() {
    // WhatsApp holds the send until the test has looked: however slow the machine, the call is
    // still being sent when the replay and the read arrive.
    let app = spawn_app_with(|c| c.whatsapp.timeout_ms = 30_000).await;
    app.whatsapp.set(Behaviour::Hold);
    let report = json!({"caller_phone_number": "+33612345678", "external_call_id": "busy"});
    let first = {
        let client = app.client.clone();
        let url = format!("{}/api/partner/v1/missed-calls", app.address);
        let token = app.restaurant.token.clone();
        let report = report.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&report)
                .send()
                .await
                .expect("first")
        })
    };
    app.whatsapp.wait_for_requests(1).await;

    let response = app.report(report).await;

    assert_eq!(response.status().as_u16(), 409);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "CALL_IN_PROGRESS");
    let call_id = body["error"]["details"]["call_id"]
        .as_str()
        .expect("id")
        .to_string();
    let (_, in_flight) = app.get_call(&app.restaurant.token, &call_id).await;
    assert_eq!(in_flight["data"]["outcome"], "DISPATCHING");
    app.whatsapp.release();
    assert_eq!(first.await.expect("join").status().as_u16(), 201);
    let (_, done) = app.get_call(&app.restaurant.token, &call_id).await;
    assert_eq!(done["data"]["outcome"], "SENT");
}

#[tokio::test]
async fn a_retry_after_failed_runs_again_on_the_same_row_and_sends() {
    let app = spawn_app().await;
    app.whatsapp.fail_with(500, 2);
    let report = json!({"caller_phone_number": "+33612345678", "external_call_id": "retry-me"});
    let (status, failed) = app.report_json(report.clone()).await;
    assert_eq!(status, 502);
    app.whatsapp.set(Behaviour::Accept);

    let (status, retried) = app.report_json(report).await;

    assert_eq!(status, 201);
    assert_eq!(retried["data"]["outcome"], "SENT");
    assert_eq!(retried["data"]["id"], failed["error"]["details"]["call_id"]);
    assert_eq!(retried["data"]["error"], json!(null));
    assert_eq!(app.ledger_rows(), 1);
    assert_eq!(app.whatsapp.requests().len(), 2);
}

#[tokio::test]
async fn a_retry_after_failed_evaluates_the_gates_afresh() {
    let app = spawn_app().await;
    app.whatsapp.fail_with(503, 1);
    let report = json!({"caller_phone_number": "+33612345678", "external_call_id": "again"});
    app.report_json(report.clone()).await;
    ringback::cli::customers::set_suppression(&app.db(), &app.restaurant.id, "+33612345678", true)
        .expect("suppress");

    let (_, retried) = app.report_json(report).await;

    assert_eq!(retried["data"]["outcome"], "SKIPPED_SUPPRESSED");
}

#[tokio::test]
async fn a_failed_call_does_not_hold_a_cooldown() {
    let app = spawn_app().await;
    app.whatsapp.fail_with(503, 1);
    app.report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    app.whatsapp.set(Behaviour::Accept);

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(body["data"]["outcome"], "SENT");
}

#[tokio::test]
async fn reports_without_external_call_id_are_always_new_calls() {
    let app = spawn_app().await;
    let report = json!({"caller_phone_number": "anonymous"});
    let (_, a) = app.report_json(report.clone()).await;

    let (_, b) = app.report_json(report).await;

    assert_ne!(a["data"]["id"], b["data"]["id"]);
    assert_eq!(b["data"]["outcome"], "SKIPPED_HIDDEN_NUMBER");
    assert_eq!(app.ledger_rows(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_whose_caller_hung_up_still_runs_to_its_outcome() {
    let app = spawn_app().await;
    // Hold the write lock so that the claim waits, then hang up while it does.
    let blocker = app.db();
    blocker.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let report = json!({"caller_phone_number": "+33612345678", "external_call_id": "hung-up"});
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let url = format!("{}/api/partner/v1/missed-calls", app.address);
    let gave_up = impatient
        .post(&url)
        .bearer_auth(&app.restaurant.token)
        .json(&report)
        .send()
        .await;
    assert!(gave_up.is_err(), "the client hung up");

    blocker.execute_batch("COMMIT").expect("unlock");
    app.whatsapp.wait_for_requests(1).await;

    eventually("the send's result is recorded", || {
        stored_outcome(&app, "hung-up").is_some_and(|o| o != "DISPATCHING")
    })
    .await;
    let (status, body) = app.report_json(report.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["outcome"], "SKIPPED_DUPLICATE");
    assert_eq!(body["data"]["original_outcome"], "SENT");
    assert_eq!(app.whatsapp.requests().len(), 1);
}
