//! SPEC §3 and §6.4: a crash during a dispatch, and a graceful stop.

use std::time::Duration;

use ringback::db::restaurants::RestaurantChanges;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::Server;

async fn post(address: &str, token: &str, body: &Value) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(format!("{address}/api/partner/v1/missed-calls"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatch_killed_mid_flight_reads_failed_after_restart_and_a_retry_sends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    let restaurant = {
        let conn = ringback::db::open(&db).expect("db");
        let seeded = seed_restaurant(&conn, "Chez Crash", "FR", "Europe/Paris");
        ringback::cli::restaurants::update_restaurant(
            &conn,
            &seeded.id,
            RestaurantChanges {
                balance_cents: Some(Some(100)),
                message_cost_cents: Some(10),
                ..Default::default()
            },
        )
        .expect("balance");
        seeded
    };
    let whatsapp = FakeWhatsApp::start().await;
    whatsapp.set(Behaviour::Delay(Duration::from_secs(60)));
    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;
    let report = json!({"caller_phone_number": "+33612345678", "external_call_id": "crash-1"});
    let in_flight = {
        let (address, token, report) = (
            server.address.clone(),
            restaurant.token.clone(),
            report.clone(),
        );
        tokio::spawn(async move { post(&address, &token, &report).await })
    };
    whatsapp.wait_for_requests(1).await;

    server.kill();

    assert!(
        in_flight.await.expect("join").is_err(),
        "the answer died with the process"
    );
    whatsapp.set(Behaviour::Accept);
    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;
    let call_id: String = ringback::db::open(&db)
        .expect("db")
        .query_row(
            "SELECT id FROM calls WHERE external_call_id = 'crash-1'",
            [],
            |r| r.get(0),
        )
        .expect("row");
    let stored: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/partner/v1/missed-calls/{call_id}",
            server.address
        ))
        .bearer_auth(&restaurant.token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(stored["data"]["outcome"], "FAILED");
    assert_eq!(stored["data"]["error"]["code"], "interrupted");
    let balance_after_restart: i64 = ringback::db::open(&db)
        .expect("db")
        .query_row("SELECT balance_cents FROM restaurants", [], |r| r.get(0))
        .expect("balance");
    assert_eq!(balance_after_restart, 100);

    let retried: Value = post(&server.address, &restaurant.token, &report)
        .await
        .expect("retry")
        .json()
        .await
        .expect("json");

    assert_eq!(retried["data"]["outcome"], "SENT");
    assert_eq!(retried["data"]["id"], call_id.as_str());
    assert_eq!(whatsapp.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_in_flight_dispatch_finish_and_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    let restaurant = seed_restaurant(
        &ringback::db::open(&db).expect("db"),
        "Chez Calme",
        "FR",
        "Europe/Paris",
    );
    let whatsapp = FakeWhatsApp::start().await;
    whatsapp.set(Behaviour::Delay(Duration::from_millis(800)));
    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;
    let in_flight = {
        let (address, token) = (server.address.clone(), restaurant.token.clone());
        tokio::spawn(async move {
            post(
                &address,
                &token,
                &json!({"caller_phone_number": "+33612345678"}),
            )
            .await
        })
    };
    whatsapp.wait_for_requests(1).await;
    let address = server.address.clone();

    let code = server.terminate().await;

    assert_eq!(code, Some(0));
    let answer: Value = in_flight
        .await
        .expect("join")
        .expect("answered before exit")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["data"]["outcome"], "SENT");
    assert!(
        post(&address, &restaurant.token, &json!({})).await.is_err(),
        "no longer accepting"
    );
}
