//! A restaurant removed while one of its messages is being sent: the send's result has no row
//! left to land on, which is final, not a storage fault to retry.

use std::process::Command;

use serde_json::json;

use crate::contract::Contract;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_deleted_with_its_restaurant_mid_send_answers_401_as_documented_not_a_retryable_503()
{
    // WhatsApp holds the send until the removal is done, however long the CLI takes.
    let app = spawn_app_with(|c| c.whatsapp.timeout_ms = 30_000).await;
    let contract = Contract::fetch(&app).await;
    app.whatsapp.set(Behaviour::Hold);
    let report = {
        let request = app
            .client
            .post(format!("{}/api/partner/v1/missed-calls", app.address))
            .bearer_auth(&app.restaurant.token)
            .json(&json!({"caller_phone_number": "+33612345678"}));
        tokio::spawn(async move { request.send().await })
    };
    app.whatsapp.wait_for_requests(1).await;
    let removed = Command::new(env!("CARGO_BIN_EXE_ringback"))
        .arg("--db")
        .arg(&app.db_path)
        .args(["restaurant", "remove", &app.restaurant.id, "--yes"])
        .output()
        .expect("run ringback");
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );

    app.whatsapp.release();
    let response = report.await.expect("join").expect("an answer");

    let (status, body) = contract
        .check(
            reqwest::Method::POST,
            "/api/partner/v1/missed-calls",
            response,
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
}
