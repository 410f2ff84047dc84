//! SPEC §1: concurrent reports are serialised by the single writer.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

/// Sends all reports at once and returns `(status, body)` of each.
async fn send_all(app: &TestApp, reports: Vec<Value>) -> Vec<(u16, Value)> {
    let url = format!("{}/api/partner/v1/missed-calls", app.address);
    let tasks: Vec<_> = reports
        .into_iter()
        .map(|report| {
            let client = app.client.clone();
            let url = url.clone();
            let token = app.restaurant.token.clone();
            tokio::spawn(async move {
                let response = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&report)
                    .send()
                    .await
                    .expect("request");
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.expect("json"))
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("join"));
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_identical_reports_make_exactly_one_whatsapp_request() {
    let app = spawn_app().await;
    // Hold the send a moment so that the other reports arrive while it is in flight.
    app.whatsapp
        .set(Behaviour::Delay(Duration::from_millis(200)));
    let report = json!({"caller_phone_number": "+33612345678", "external_call_id": "same"});

    let results = send_all(&app, vec![report; 30]).await;

    assert_eq!(app.whatsapp.requests().len(), 1);
    assert_eq!(app.ledger_rows(), 1);
    let sent = results
        .iter()
        .filter(|(s, b)| *s == 201 && b["data"]["outcome"] == "SENT")
        .count();
    assert_eq!(sent, 1);
    for (status, body) in &results {
        let ok = (*status == 201
            && (body["data"]["outcome"] == "SENT"
                || body["data"]["outcome"] == "SKIPPED_DUPLICATE"))
            || (*status == 409 && body["error"]["code"] == "CALL_IN_PROGRESS");
        assert!(ok, "{status} {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_reports_from_one_caller_give_one_sent_and_twenty_nine_cooldowns() {
    let app = spawn_app().await;
    app.whatsapp
        .set(Behaviour::Delay(Duration::from_millis(100)));
    let reports = (0..30)
        .map(|i| json!({"caller_phone_number": "+33612345678", "external_call_id": format!("c-{i}")}))
        .collect();

    let results = send_all(&app, reports).await;

    let outcomes: Vec<&str> = results
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 201, "{body}");
            body["data"]["outcome"].as_str().unwrap_or_default()
        })
        .collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "SENT").count(), 1);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == "SKIPPED_COOLDOWN")
            .count(),
        29
    );
    assert_eq!(app.whatsapp.requests().len(), 1);
    assert_eq!(app.ledger_rows(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_distinct_callers_at_once_are_all_sent_without_a_5xx() {
    let app = spawn_app().await;
    app.whatsapp
        .set(Behaviour::Delay(Duration::from_millis(50)));
    let reports = (0..60)
        .map(|i| json!({"caller_phone_number": format!("+336123400{i:02}")}))
        .collect();

    let results = send_all(&app, reports).await;

    for (status, body) in &results {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body["data"]["outcome"], "SENT", "{body}");
    }
    assert_eq!(app.whatsapp.requests().len(), 60);
    let mut ids: Vec<&str> = results
        .iter()
        .map(|(_, b)| b["data"]["message_id"].as_str().unwrap_or_default())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_more_sends_wait_on_whatsapp_at_once_than_there_are_dispatch_threads() {
    // A claim may wait for a thread as long as a slow machine needs: only the count is tested.
    let app = spawn_app_with(|c| {
        c.whatsapp.dispatch_threads = 2;
        c.whatsapp.timeout_ms = 30_000;
    })
    .await;
    app.whatsapp
        .set(Behaviour::Delay(Duration::from_millis(150)));
    let reports = (0..8)
        .map(|i| json!({"caller_phone_number": format!("+336123401{i:02}")}))
        .collect();

    let results = send_all(&app, reports).await;

    assert!(
        results
            .iter()
            .all(|(s, b)| *s == 201 && b["data"]["outcome"] == "SENT")
    );
    assert_eq!(app.whatsapp.requests().len(), 8);
    assert_eq!(app.whatsapp.most_at_once(), 2);
}
