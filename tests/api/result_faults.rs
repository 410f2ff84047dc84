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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_that_waits_for_another_connection_s_write_lock_is_stored_once_the_lock_goes() {
    let mut app = spawn_app_with(|c| c.whatsapp.timeout_ms = 30_000).await;
    app.whatsapp.set(Behaviour::Hold);
    let report = app.report_in_background(
        json!({"caller_phone_number": "+33612345678", "external_call_id": "locked-out"}),
    );
    app.whatsapp.wait_for_requests(1).await;
    // An operator's session holds the write lock past the writer's busy timeout (5 s).
    let mut holder = app.db();
    let lock = holder
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("the write lock");
    app.whatsapp.release();

    let (status, body) = report.await.expect("join");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "STORAGE_UNAVAILABLE");
    assert_eq!(dispatching(&app), 1, "the result waits for the lock");
    lock.rollback().expect("the lock goes");

    eventually("the result is stored", || dispatching(&app) == 0).await;
    let (_, replay) = app
        .report_json(
            json!({"caller_phone_number": "+33612345678", "external_call_id": "locked-out"}),
        )
        .await;
    assert_eq!(replay["data"]["original_outcome"], "SENT", "{replay}");
    assert_eq!(app.whatsapp.requests().len(), 1, "sent once");
    let stopped = tokio::time::timeout(Duration::from_millis(200), app.stopped()).await;
    assert!(stopped.is_err(), "the server still runs: {stopped:?}");
}

/// A transport with a bug: every send panics, after its request may have left. It sends
/// without blocking, as the sandbox does, so that it runs on the pipeline's own task.
struct Panicking;

impl ringback::whatsapp::Transport for Panicking {
    fn send(&self, _: &ringback::whatsapp::Outgoing) -> ringback::whatsapp::DispatchResult {
        panic!("a bug in the transport")
    }

    fn blocks(&self) -> bool {
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_panics_ends_failed_and_leaves_no_row_dispatching() {
    let app = spawn_app_with_transport(|_| {}, Some(std::sync::Arc::new(Panicking))).await;

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "bug"}))
        .await;

    assert_eq!(status, 502, "{body}");
    assert_eq!(
        body["error"]["details"]["whatsapp_error"]["code"],
        "transport"
    );
    assert_eq!(dispatching(&app), 0);
}
