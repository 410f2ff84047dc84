//! A missed-call report's token is remembered once seen live, and checked again in the claim's
//! own transaction (SPEC §2.1): revocation and the restaurant's changes hold from the next report.

use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_whatsapp::Behaviour;
use crate::helpers::{TestApp, eventually, spawn_app, spawn_app_with};
use ringback::db::restaurants::RestaurantChanges;

fn token_id(app: &TestApp) -> String {
    app.db()
        .query_row(
            "SELECT id FROM partner_tokens WHERE restaurant_id = ?1",
            [&app.restaurant.id],
            |row| row.get(0),
        )
        .expect("the restaurant's token")
}

/// When the stored call of this caller happened (Unix ms).
fn occurred_at(app: &TestApp, caller: &str) -> i64 {
    app.db()
        .query_row(
            "SELECT occurred_at FROM calls WHERE caller_e164 = ?1",
            [caller],
            |row| row.get(0),
        )
        .expect("the caller's call")
}

/// Reports a call from `caller`, so that the app remembers the token as live.
async fn remember_token(app: &TestApp, caller: &str) {
    let (status, body) = app
        .report_json(json!({"caller_phone_number": caller}))
        .await;
    assert_eq!(status, 201, "{body}");
}

fn revoke(app: &TestApp) {
    ringback::cli::tokens::revoke_token(&app.db(), &token_id(app)).expect("revoke");
}

#[tokio::test]
async fn a_token_revoked_after_it_reported_a_call_is_refused_at_its_next_report_and_nothing_is_stored()
 {
    let app = spawn_app().await;
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "c-1"}))
        .await;
    assert_eq!(status, 201);

    revoke(&app);
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33698765432", "external_call_id": "c-2"}))
        .await;

    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    assert_eq!(app.ledger_rows(), 1, "the refused report stored no call");
    assert_eq!(
        app.whatsapp.requests().len(),
        1,
        "one message, for the first call"
    );
    // A replay of the first call is refused too: the token no longer reads anything.
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "c-1"}))
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_token_revoked_after_its_first_use_hears_401_whatever_else_its_request_gets_wrong() {
    let app = spawn_app().await;
    remember_token(&app, "+33612345678").await;
    revoke(&app);

    let bodies: Vec<Value> = vec![
        json!({"caller_phone_number": "not a number"}),
        json!({"caller_phone_number": "+33612345678", "occurred_at": "yesterday"}),
        json!({"external_call_id": "c-3"}),
        json!([1, 2, 3]),
    ];
    for body in bodies {
        let (status, answer) = app.report_json(body.clone()).await;
        assert_eq!(status, 401, "{body} → {answer}");
        assert_eq!(answer["error"]["code"], "UNAUTHORIZED");
    }
    // Its own error still reaches a live token.
    let other = app.other_restaurant("Chez Autre", "FR", "Europe/Paris");
    let response = app
        .report_as(&other.token, json!({"caller_phone_number": "not a number"}))
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert_eq!(app.ledger_rows(), 1);
}

#[tokio::test]
async fn a_restaurant_whose_country_changed_after_its_token_was_used_reads_the_next_caller_with_the_new_country()
 {
    let app = spawn_app().await;
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "06 12 34 56 78"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["caller_phone_number"], "+33612345678");

    app.update_restaurant(RestaurantChanges {
        country: Some("GB".into()),
        timezone: Some("Europe/London".into()),
        ..Default::default()
    });
    // A British national number: not one in France.
    let (status, body) = app
        .report_json(
            json!({"caller_phone_number": "07911 123456", "occurred_at": "2026-12-07T12:30:00"}),
        )
        .await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["caller_phone_number"], "+447911123456");
    // The local time is London's now: 12:30 there is 12:30 UTC in December, not 11:30.
    assert_eq!(occurred_at(&app, "+447911123456"), 1_796_646_600_000);
}

#[tokio::test]
async fn a_restaurant_whose_zone_changed_after_its_token_was_used_reads_the_next_local_time_in_the_new_zone()
 {
    let app = spawn_app().await;
    remember_token(&app, "+33612345678").await;

    app.update_restaurant(RestaurantChanges {
        timezone: Some("America/Martinique".into()),
        ..Default::default()
    });
    let (status, body) = app
        .report_json(
            json!({"caller_phone_number": "+33698765432", "occurred_at": "2026-12-07T12:30:00"}),
        )
        .await;

    assert_eq!(status, 201, "{body}");
    // 12:30 in Martinique (UTC−4) is 16:30 UTC; in Paris it would have been 11:30 UTC.
    assert_eq!(occurred_at(&app, "+33698765432"), 1_796_661_000_000);
    assert_eq!(app.ledger_rows(), 2, "the stale reading stored nothing");
}

#[tokio::test]
async fn a_request_refused_because_its_token_was_revoked_is_not_noted_as_the_token_s_use() {
    let mut app = spawn_app().await;
    remember_token(&app, "+33612345678").await;
    revoke(&app);
    tokio::time::sleep(Duration::from_millis(5)).await;

    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33698765432"}))
        .await;
    assert_eq!(status, 401);
    app.stop().await.expect("stop flushes last use");

    let (used, revoked): (i64, i64) = app
        .db()
        .query_row(
            "SELECT last_used_at, revoked_at FROM partner_tokens WHERE restaurant_id = ?1",
            [&app.restaurant.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("token");
    assert!(
        used <= revoked,
        "last_used_at {used} is after revoked_at {revoked}: a 401 counted as a use"
    );
}

/// A report is read again with a changed restaurant only when it was refused before its claim:
/// one whose send left and whose result waits to be stored is one call, however it is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_whose_result_waits_to_be_stored_is_not_run_again_when_its_restaurant_changes_meanwhile()
 {
    let app = spawn_app_with(|c| c.whatsapp.timeout_ms = 30_000).await;
    // Warm the remembered token.
    remember_token(&app, "+33698765432").await;
    app.whatsapp.set(Behaviour::Hold);
    let report = app.report_in_background(json!({"caller_phone_number": "+33612345678"}));
    app.whatsapp.wait_for_requests(2).await;
    // While the message is on its way, the operator fixes the restaurant's zone.
    app.update_restaurant(RestaurantChanges {
        timezone: Some("America/Martinique".into()),
        ..Default::default()
    });
    // And another connection holds the write lock past the writer's busy timeout (5 s).
    let mut holder = app.db();
    let lock = holder
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("lock");
    app.whatsapp.release();
    tokio::time::sleep(Duration::from_millis(7_000)).await;
    lock.rollback().expect("unlock");

    let (status, body) = report.await.expect("join");
    assert_eq!(
        status, 503,
        "the send left, its result is not stored yet: {body}"
    );
    assert_eq!(body["error"]["code"], "STORAGE_UNAVAILABLE");
    eventually("no row dispatching", || {
        app.db()
            .query_row(
                "SELECT count(*) FROM calls WHERE outcome = 'DISPATCHING'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .expect("n")
            == 0
    })
    .await;
    let rows: Vec<(String, String)> = {
        let conn = app.db();
        let mut stmt = conn
            .prepare("SELECT id, outcome FROM calls WHERE caller_e164 = '+33612345678'")
            .expect("q");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(
        rows.len(),
        1,
        "one report, rows {rows:?}; answer {status} {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_while_its_report_is_being_sent_gets_the_pipeline_s_answer_with_its_call_id()
 {
    let app = spawn_app().await;
    remember_token(&app, "+33698765432").await;
    app.whatsapp.set(Behaviour::Hold);
    let report = app.report_in_background(json!({"caller_phone_number": "+33612345678"}));
    app.whatsapp.wait_for_requests(2).await;

    // Revoked after the claim checked it: the call was recorded, and its answer says so.
    revoke(&app);
    app.whatsapp.fail_with(500, 2);
    app.whatsapp.release();
    let (status, body) = report.await.expect("join");

    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "WHATSAPP_DISPATCH_FAILED");
    let call_id = body["error"]["details"]["call_id"]
        .as_str()
        .expect("the call's id");
    let outcome: String = app
        .db()
        .query_row("SELECT outcome FROM calls WHERE id = ?1", [call_id], |r| {
            r.get(0)
        })
        .expect("the call's row");
    assert_eq!(outcome, "FAILED");
}
