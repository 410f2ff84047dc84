//! SPEC §2.1 and §6.4: tokens are stored hashed; logs hold no secret and no full number.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;
use crate::process::Server;

#[tokio::test]
async fn the_database_file_holds_no_partner_token_in_plaintext() {
    let app = spawn_app().await;
    app.report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    let mut bytes = std::fs::read(&app.db_path).expect("db file");
    let wal = app.db_path.with_extension("db-wal");
    if let Ok(more) = std::fs::read(&wal) {
        bytes.extend(more);
    }
    let haystack = String::from_utf8_lossy(&bytes);

    assert!(!haystack.contains(&app.restaurant.token));
    assert!(haystack.contains(&ringback::auth::hash_token(&app.restaurant.token)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logs_hold_no_token_no_access_token_and_no_full_phone_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    let restaurant = seed_restaurant(
        &ringback::db::open(&db).expect("db"),
        "Chez Discret",
        "FR",
        "Europe/Paris",
    );
    let whatsapp = FakeWhatsApp::start().await;
    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/partner/v1/missed-calls", server.address);
    let behaviours = [
        Behaviour::Accept,
        Behaviour::Reply(
            400,
            json!({"error": {"code": 131026, "message": "undeliverable"}}),
        ),
        Behaviour::Reply(500, json!({"error": {"code": 2, "message": "down"}})),
        Behaviour::Delay(Duration::from_millis(10)),
    ];
    let numbers = [
        "+33612345678",
        "0698765432",
        "+33 7 81 23 45 67",
        "0033611223344",
    ];
    for (behaviour, number) in behaviours.into_iter().zip(numbers) {
        whatsapp.set(behaviour);
        client
            .post(&url)
            .bearer_auth(&restaurant.token)
            .json(&json!({"caller_phone_number": number}))
            .send()
            .await
            .expect("report");
    }
    client
        .post(&url)
        .bearer_auth(format!("{}x", restaurant.token))
        .json(&json!({"caller_phone_number": "+33612345678"}))
        .send()
        .await
        .expect("bad token");

    let log = server.log();

    assert!(
        log.contains("+33612***"),
        "the calls were logged, masked:\n{log}"
    );
    assert!(!log.contains(&restaurant.token));
    assert!(!log.contains(ACCESS_TOKEN));
    for full in ["612345678", "698765432", "781234567", "611223344"] {
        assert!(!log.contains(full), "{full} appears in:\n{log}");
    }
}
