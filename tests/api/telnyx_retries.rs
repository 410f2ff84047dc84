//! SPEC §10, Telnyx: a detected call whose send fails is sent again by ringback itself — 30 s,
//! doubling, at most 30 min apart, never past the stale limit — and only while that is right.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::telnyx::{CALLER, call_of, hangup, initiated, settled, telnyx_app};
use crate::webhook_kit::*;

/// Makes the call's planned retry due now, as if its back-off had passed.
fn make_retry_due(app: &TestApp, session: &str) {
    app.db()
        .execute(
            "UPDATE calls SET next_attempt_at = ?2 WHERE external_call_id = ?1",
            rusqlite::params![session, jiff::Timestamp::now().as_millisecond() - 1],
        )
        .expect("due");
}

/// How long after its last failure the session's call is planned to be sent again, in seconds:
/// read from the row, where both times are written together, so that a slow machine between the
/// failure and the look changes nothing.
pub(crate) fn planned_pause_secs(app: &TestApp, session: &str) -> Option<i64> {
    app.db()
        .query_row(
            "SELECT (next_attempt_at - updated_at) / 1000 FROM calls WHERE external_call_id = ?1",
            [session],
            |r| r.get(0),
        )
        .expect("the call")
}

#[tokio::test]
async fn a_failed_telnyx_call_is_sent_again_after_30_s_then_60_s_and_stops_when_it_succeeds() {
    let (app, keys) = telnyx_app(0).await;
    app.whatsapp.fail_with(500, 2);

    assert_eq!(app.telnyx(&keys, &initiated("retry")).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("retry")).await, 200);
    assert_eq!(settled(&app, "retry").await, "missed");
    let first = call_of(&app, "retry").expect("call");
    assert_eq!(first["outcome"], "FAILED");
    assert_eq!(first["attempts"], 1);
    // The manager reads that ringback, not the PBX, will send it again.
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let (_, log) = app.console_get(&cookie, "/console/api/calls").await;
    let reason = log["data"][0]["reason"]
        .as_str()
        .expect("a reason")
        .to_string();
    assert!(reason.contains("; ringback sends it again at "), "{reason}");
    assert_eq!(planned_pause_secs(&app, "retry"), Some(30), "{first}");

    make_retry_due(&app, "retry");
    eventually("the second attempt", || {
        call_of(&app, "retry").is_some_and(|c| c["attempts"] == 2 && c["outcome"] == "FAILED")
    })
    .await;
    let second = call_of(&app, "retry").expect("call");
    assert_eq!(planned_pause_secs(&app, "retry"), Some(60), "{second}");

    app.whatsapp.set(Behaviour::Accept);
    make_retry_due(&app, "retry");
    eventually("the third attempt", || {
        call_of(&app, "retry").is_some_and(|c| c["outcome"] == "SENT")
    })
    .await;
    let third = call_of(&app, "retry").expect("call");
    assert_eq!(third["attempts"], 3);
    assert_eq!(third["next_attempt_at"], Value::Null);
    assert_eq!(third["id"], first["id"], "the same ledger row");
    assert_eq!(app.whatsapp.requests().len(), 3);
}

#[tokio::test]
async fn the_pause_between_attempts_stops_growing_at_30_minutes() {
    let (app, keys) = telnyx_app(0).await;
    app.whatsapp.fail_with(503, 131000);
    assert_eq!(app.telnyx(&keys, &initiated("capped")).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("capped")).await, 200);
    assert_eq!(settled(&app, "capped").await, "missed");
    // Six attempts failed already: the seventh would wait 32 minutes uncapped.
    app.db()
        .execute(
            "UPDATE calls SET attempts = 6 WHERE external_call_id = 'capped'",
            [],
        )
        .expect("attempts");

    make_retry_due(&app, "capped");
    eventually("the seventh attempt", || {
        call_of(&app, "capped").is_some_and(|c| c["attempts"] == 7 && c["outcome"] == "FAILED")
    })
    .await;

    let call = call_of(&app, "capped").expect("call");
    assert_eq!(planned_pause_secs(&app, "capped"), Some(1800), "{call}");
}

#[tokio::test]
async fn no_attempt_is_planned_past_the_stale_limit_and_the_call_stays_failed() {
    let (app, keys) = telnyx_app(0).await;
    app.whatsapp.fail_with(500, 2);
    // The call began 20 s before the stale limit: the first send happens, a second would be
    // 30 s later, past it.
    let mut started = initiated("stale");
    let began = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_secs(24 * 3600 - 20))
        .expect("time");
    started["data"]["payload"]["start_time"] = json!(began.to_string());

    assert_eq!(app.telnyx(&keys, &started).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("stale")).await, 200);
    assert_eq!(settled(&app, "stale").await, "missed");

    let call = call_of(&app, "stale").expect("call");
    assert_eq!(call["outcome"], "FAILED");
    assert_eq!(call["attempts"], 1);
    assert_eq!(call["next_attempt_at"], Value::Null);
}

#[tokio::test]
async fn a_retry_that_comes_due_after_the_call_went_stale_is_not_sent() {
    let (app, keys) = telnyx_app(0).await;
    app.whatsapp.fail_with(500, 2);
    assert_eq!(app.telnyx(&keys, &initiated("went-stale")).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("went-stale")).await, 200);
    assert_eq!(settled(&app, "went-stale").await, "missed");
    app.db()
        .execute(
            "UPDATE calls SET occurred_at = occurred_at - 25 * 3600 * 1000
             WHERE external_call_id = 'went-stale'",
            [],
        )
        .expect("age the call");

    make_retry_due(&app, "went-stale");
    eventually("the retry is dropped", || {
        call_of(&app, "went-stale").is_some_and(|c| c["next_attempt_at"].is_null())
    })
    .await;

    let call = call_of(&app, "went-stale").expect("call");
    assert_eq!(call["outcome"], "FAILED");
    assert_eq!(call["attempts"], 1);
    assert_eq!(app.whatsapp.requests().len(), 1);
}

#[tokio::test]
async fn a_partner_call_that_failed_is_left_for_the_partner_to_retry() {
    let app = spawn_app().await;
    app.whatsapp.fail_with(500, 2);

    let (status, body) = app
        .report_json(json!({"caller_phone_number": CALLER, "external_call_id": "pbx-1"}))
        .await;
    let (_, stored) = app
        .get_call(
            &app.restaurant.token,
            body["error"]["details"]["call_id"].as_str().expect("id"),
        )
        .await;

    assert_eq!(status, 502);
    assert_eq!(stored["data"]["source"], "PARTNER");
    assert_eq!(stored["data"]["attempts"], 1);
    assert_eq!(stored["data"]["next_attempt_at"], Value::Null);
    assert_eq!(stored["data"]["delivery_state"], Value::Null);
}

#[tokio::test]
async fn a_send_that_timed_out_but_reached_whatsapp_is_not_sent_again_once_its_status_says_so() {
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| {
        webhooks_on(c, &keys, 0);
        c.whatsapp.timeout_ms = 500;
    })
    .await;
    app.tie_telnyx_number(&app.restaurant.id.clone(), TELNYX_NUMBER);
    app.update_restaurant(ringback::db::restaurants::RestaurantChanges {
        balance_cents: Some(Some(100)),
        message_cost_cents: Some(10),
        ..Default::default()
    });
    app.whatsapp
        .set(Behaviour::Delay(std::time::Duration::from_secs(3)));
    assert_eq!(app.telnyx(&keys, &initiated("timed-out")).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("timed-out")).await, 200);
    eventually("the send times out", || {
        call_of(&app, "timed-out").is_some_and(|c| c["outcome"] == "FAILED")
    })
    .await;
    let failed = call_of(&app, "timed-out").expect("call");
    assert_eq!(failed["error"]["code"], "timeout");
    // The webhook is on: the retry waits for WhatsApp's status (reconcile_seconds, 120 s), not
    // the usual 30 s.
    assert_eq!(planned_pause_secs(&app, "timed-out"), Some(120), "{failed}");
    assert_eq!(app.balance(), Some(100), "refunded");

    let id = failed["id"].as_str().expect("id").to_string();
    let status = status_payload("wamid.late-but-sent", "delivered", Some(&id));
    assert_eq!(app.meta(&status).await, 200);

    let call = call_of(&app, "timed-out").expect("call");
    assert_eq!(call["outcome"], "SENT");
    assert_eq!(call["message_id"], "wamid.late-but-sent");
    assert_eq!(call["delivery_state"], "delivered");
    assert_eq!(
        call["next_attempt_at"],
        Value::Null,
        "no retry of a message that left"
    );
    assert_eq!(app.balance(), Some(90), "the message is paid for after all");
}

#[tokio::test]
async fn a_forgotten_caller_gets_no_planned_retry() {
    let (app, keys) = telnyx_app(0).await;
    app.whatsapp.fail_with(500, 2);
    assert_eq!(app.telnyx(&keys, &initiated("forget")).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("forget")).await, 200);
    assert_eq!(settled(&app, "forget").await, "missed");
    assert!(call_of(&app, "forget").expect("call")["next_attempt_at"].is_string());

    ringback::db::erasure::forget_number(&app.db(), &app.restaurant.id, CALLER, "612345678")
        .expect("forget");
    let after = call_of(&app, "forget").expect("call");
    assert_eq!(
        after["next_attempt_at"],
        Value::Null,
        "the planned retry is dropped"
    );
    // Even a retry that comes due sends nothing to `forgotten`.
    make_retry_due(&app, "forget");
    eventually("the due retry is dropped", || {
        call_of(&app, "forget").is_some_and(|c| c["next_attempt_at"].is_null())
    })
    .await;
    let call = call_of(&app, "forget").expect("call");
    assert_eq!(call["caller_phone_number"], "forgotten");
    assert_eq!(call["outcome"], "FAILED");
    assert_eq!(
        app.whatsapp.requests().len(),
        1,
        "nothing sent to `forgotten`"
    );
    let from: String = app
        .db()
        .query_row(
            "SELECT DISTINCT from_number FROM telnyx_events WHERE session_id = 'forget'",
            [],
            |r| r.get(0),
        )
        .expect("events");
    assert_eq!(from, "forgotten");
}

#[tokio::test]
async fn a_session_left_unmarked_by_a_crash_is_not_run_again_before_its_calls_back_off() {
    let (app, keys) = telnyx_app(0).await;
    app.whatsapp.fail_with(500, 2);
    assert_eq!(app.telnyx(&keys, &initiated("unmarked")).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("unmarked")).await, 200);
    assert_eq!(settled(&app, "unmarked").await, "missed");
    let failed = call_of(&app, "unmarked").expect("call");

    // As if the process had died between the send and marking its session settled.
    app.db()
        .execute(
            "UPDATE telnyx_sessions SET settled_at = NULL, settlement = NULL, call_id = NULL",
            [],
        )
        .expect("unmark");
    assert_eq!(settled(&app, "unmarked").await, "missed");

    let call = call_of(&app, "unmarked").expect("call");
    assert_eq!(call["attempts"], 1, "no early attempt");
    assert_eq!(call["next_attempt_at"], failed["next_attempt_at"]);
    assert_eq!(app.whatsapp.requests().len(), 1);
    let linked: String = app
        .db()
        .query_row("SELECT call_id FROM telnyx_sessions", [], |r| r.get(0))
        .expect("call id");
    assert_eq!(linked, failed["id"].as_str().expect("id"));
}
