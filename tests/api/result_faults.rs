//! SPEC §6.4: no row stays DISPATCHING while the process lives. A send's result whose job fails
//! for a reason other than storage (a bug, injected here as a trigger that aborts a write) is
//! stored as its outcome alone; if even that cannot be, the process stops for start-up
//! recovery. Shutdown is never held by either.

use std::time::{Duration, Instant};

use ringback::app::App;
use serde_json::json;

use crate::helpers::*;

fn dispatching(app: &TestApp) -> i64 {
    app.db()
        .query_row(
            "SELECT count(*) FROM calls WHERE outcome = 'DISPATCHING'",
            [],
            |r| r.get(0),
        )
        .expect("count")
}

/// A trigger that aborts every write `when` matches, as a bug in a job would: an error that is
/// not storage's, and comes back however often the job is tried.
fn refuse(app: &TestApp, name: &str, when: &str) {
    app.db()
        .execute_batch(&format!(
            "CREATE TRIGGER {name} {when}
             BEGIN SELECT RAISE(ABORT, 'injected: {name}'); END;"
        ))
        .expect("trigger");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_job_that_always_fails_stores_the_outcome_alone_and_holds_no_row_or_shutdown() {
    let mut app = spawn_app().await;
    // The 131050 refusal suppresses the customer, and that write always fails.
    refuse(
        &app,
        "refuse_suppression",
        "BEFORE UPDATE OF whatsapp_suppressed ON customers",
    );
    app.whatsapp.fail_with(400, 131050);

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "bug"}))
        .await;

    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("UNDELIVERABLE")),
        "{body}"
    );
    assert_eq!(dispatching(&app), 0, "no row left DISPATCHING");
    assert_eq!(app.balance(), None, "unlimited balance untouched");
    let asked = Instant::now();
    let ended = app.stop().await;
    assert!(ended.is_ok(), "{ended:?}");
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "shutdown waited {:?} for a result that cannot be stored",
        asked.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_that_can_be_stored_in_no_way_stops_the_process_and_recovery_settles_the_row() {
    let mut app = spawn_app().await;
    // WhatsApp accepts, and no call may ever become SENT.
    refuse(
        &app,
        "refuse_sent",
        "BEFORE UPDATE OF outcome ON calls WHEN NEW.outcome = 'SENT'",
    );

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "stuck"}))
        .await;
    let ended = tokio::time::timeout(Duration::from_secs(10), app.stopped())
        .await
        .expect("the process stops by itself");

    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "STORAGE_UNAVAILABLE");
    assert!(ended.is_err(), "it stops with an error, for its supervisor");
    let restarted = App::build(test_config(app.db_path.clone(), &app.whatsapp.base_url))
        .await
        .expect("restarts");
    let (outcome, code): (String, Option<String>) = app
        .db()
        .query_row(
            "SELECT outcome, error_code FROM calls WHERE external_call_id = 'stuck'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the call");
    assert_eq!(
        (outcome.as_str(), code.as_deref()),
        ("FAILED", Some("interrupted"))
    );
    drop(restarted);
}
