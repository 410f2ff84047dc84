//! SPEC §6.4 and §8 logs: text or one JSON object per line, the start-up line, and the masking
//! of phone numbers and secrets in both formats.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_and_keep_numbers_masked_and_secrets_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    let restaurant = {
        let conn = ringback::db::open(&db).expect("db");
        seed_restaurant(&conn, "Chez Json", "FR", "Europe/Paris")
    };
    let whatsapp = FakeWhatsApp::start().await;
    let server = Server::start_with(
        dir.path(),
        &db,
        &whatsapp.base_url,
        &[("RINGBACK_LOG_FORMAT", "json")],
        None,
    )
    .await;

    let (status, body) = post_json(
        &server.address,
        &restaurant.token,
        &json!({"caller_phone_number": "+33612345678"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    server.wait_for_log("missed call handled").await;
    let log = server.log();
    let address = server.address.clone();
    server.terminate().await;

    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(lines.iter().all(Value::is_object));
    let started = lines
        .iter()
        .find(|l| l.get("version").is_some())
        .expect("a start-up line");
    assert_eq!(started["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(started["database"], db.display().to_string());
    assert_eq!(started["transport"], "cloud");
    assert_eq!(started["restaurants_enabled"], 1);
    assert_eq!(started["listen"], address);
    let handled = lines
        .iter()
        .find(|l| l["message"] == "missed call handled")
        .expect("the report's line");
    assert_eq!(handled["caller"], "+33612***");
    for secret in [
        "+33612345678",
        "33612345678",
        &restaurant.token,
        ACCESS_TOKEN,
    ] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_start_up_line_names_the_version_database_address_transport_and_enabled_restaurants()
 {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    {
        let conn = ringback::db::open(&db).expect("db");
        seed_restaurant(&conn, "One", "FR", "Europe/Paris");
        seed_restaurant(&conn, "Two", "FR", "Europe/Paris");
    }
    let server = Server::start(dir.path(), &db, "http://127.0.0.1:9").await;
    let log = server.log();
    server.terminate().await;

    let line = log
        .lines()
        .find(|l| l.contains("ringback started"))
        .expect("a start-up line");
    for part in [
        format!("version=\"{}\"", env!("CARGO_PKG_VERSION")),
        format!("database={}", db.display()),
        "transport=\"cloud\"".to_string(),
        "restaurants_enabled=2".to_string(),
    ] {
        assert!(line.contains(&part), "{part} missing from {line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_warns_when_the_descriptor_limit_is_below_what_max_connections_needs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    let server = Server::start_with(dir.path(), &db, "http://127.0.0.1:9", &[], Some(256)).await;
    let log = server.log();
    server.terminate().await;

    let warning = log
        .lines()
        .find(|l| l.contains("open files"))
        .expect("a warning about the descriptor limit");
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains("LimitNOFILE"), "{warning}");
}

#[test]
fn with_json_logs_a_server_that_cannot_start_says_why_in_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("missing-directory").join("ringback.db");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ringback"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RINGBACK_LOG_FORMAT", "json")
        .env_remove("RUST_LOG")
        .output()
        .expect("run ringback");

    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let last = lines.last().expect("a line");
    assert_eq!(last["level"], "ERROR");
    assert!(
        last["reason"]
            .as_str()
            .is_some_and(|r| r.contains("does not exist")),
        "{last}"
    );
}

#[test]
fn with_json_logs_a_bad_configuration_value_stops_the_server_with_a_json_event_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("ringback.toml");
    std::fs::write(
        &config,
        "[whatsapp]\ndispatch_threads = 0\n[log]\nformat = \"json\"\n",
    )
    .expect("config");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ringback"))
        .arg("--config")
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .output()
        .expect("run ringback");

    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let event: Value =
        serde_json::from_str(stderr.trim()).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let reason = event["reason"].as_str().expect("reason");
    assert!(reason.contains("whatsapp.dispatch_threads"), "{reason}");
    assert!(reason.contains("line 2"), "{reason}");
}
