//! SPEC §10, Telnyx: signed call events, folded per session in any order, settle into a missed
//! call that runs the same pipeline as a partner report; a failed send is retried by ringback.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::webhook_kit::*;

const CALLER: &str = "+33612345678";
const LANDLINE: &str = "+33140000000";

async fn telnyx_app(settle_seconds: i64) -> (TestApp, TelnyxKeys) {
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| webhooks_on(c, &keys, settle_seconds)).await;
    app.tie_telnyx_number(&app.restaurant.id.clone(), TELNYX_NUMBER);
    (app, keys)
}

fn initiated(session: &str) -> Value {
    telnyx_event(
        &format!("{session}-init"),
        "call.initiated",
        session,
        &format!("{session}-leg-a"),
        Some("incoming"),
        CALLER,
        TELNYX_NUMBER,
    )
}

fn hangup(session: &str) -> Value {
    telnyx_event(
        &format!("{session}-hangup"),
        "call.hangup",
        session,
        &format!("{session}-leg-a"),
        None,
        CALLER,
        TELNYX_NUMBER,
    )
}

fn answered(session: &str, leg: &str) -> Value {
    telnyx_event(
        &format!("{session}-answered-{leg}"),
        "call.answered",
        session,
        &format!("{session}-{leg}"),
        None,
        CALLER,
        TELNYX_NUMBER,
    )
}

/// The ledger row the session became, as the partner API shows it.
fn call_of(app: &TestApp, session: &str) -> Option<Value> {
    let id: String = app
        .db()
        .query_row(
            "SELECT id FROM calls WHERE external_call_id = ?1",
            [session],
            |r| r.get(0),
        )
        .ok()?;
    let conn = app.db();
    let row = ringback::db::calls::find_call_by_id(&conn, &id).ok()??;
    Some(json!(ringback::views::CallView::from_row(&row)))
}

async fn settled(app: &TestApp, session: &str) -> String {
    let mut settlement = String::new();
    eventually("the session settles", || {
        settlement = app
            .db()
            .query_row(
                "SELECT settlement FROM telnyx_sessions WHERE session_id = ?1 AND settled_at IS NOT NULL",
                [session],
                |r| r.get(0),
            )
            .unwrap_or_default();
        !settlement.is_empty()
    })
    .await;
    settlement
}

#[tokio::test]
async fn an_incoming_call_hung_up_unanswered_becomes_a_missed_call_sent_through_the_pipeline() {
    let (app, keys) = telnyx_app(0).await;

    assert_eq!(app.telnyx(&keys, &initiated("s1")).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("s1")).await, 200);

    assert_eq!(settled(&app, "s1").await, "missed");
    let call = call_of(&app, "s1").expect("a call");
    assert_eq!(call["outcome"], "SENT");
    assert_eq!(call["source"], "TELNYX");
    assert_eq!(call["caller_phone_number"], CALLER);
    assert_eq!(call["external_call_id"], "s1");
    assert_eq!(call["attempts"], 1);
    assert_eq!(call["next_attempt_at"], Value::Null);
    assert_eq!(app.whatsapp.requests().len(), 1);
}

fn telnyx_event_count(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT count(*) FROM telnyx_events", [], |r| r.get(0))
        .expect("count")
}

#[tokio::test]
async fn only_an_event_signed_by_the_accounts_key_over_its_exact_bytes_and_recent_is_recorded() {
    let (app, keys) = telnyx_app(60).await;
    let body = serde_json::to_vec(&initiated("sig")).expect("json");
    let now = now_secs();

    let other_key = TelnyxKeys::new();
    let (forged, envelope) = post_telnyx_at(&app.address, &other_key, now, &body).await;
    let mut changed = body.clone();
    let at = changed.len() - 3;
    changed[at] ^= 0x01;
    let signature = keys.sign(now, &body);
    let one_byte_changed = reqwest::Client::new()
        .post(format!("{}/webhooks/telnyx", app.address))
        .header("telnyx-timestamp", now.to_string())
        .header("telnyx-signature-ed25519", &signature)
        .body(changed)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16();
    let (old, _) = post_telnyx_at(&app.address, &keys, now - 301, &body).await;
    let (future, _) = post_telnyx_at(&app.address, &keys, now + 301, &body).await;
    let unsigned = reqwest::Client::new()
        .post(format!("{}/webhooks/telnyx", app.address))
        .body(body.clone())
        .send()
        .await
        .expect("request")
        .status()
        .as_u16();

    assert_eq!(forged, 401);
    assert_eq!(envelope["error"]["code"], "INVALID_SIGNATURE");
    assert_eq!(one_byte_changed, 401);
    assert_eq!(old, 401);
    assert_eq!(future, 401);
    assert_eq!(unsigned, 401);
    assert_eq!(
        telnyx_event_count(&app),
        0,
        "nothing of a refused event is kept"
    );

    let (good, _) = post_telnyx_at(&app.address, &keys, now - 299, &body).await;
    assert_eq!(good, 200);
    assert_eq!(telnyx_event_count(&app), 1);
}

#[tokio::test]
async fn a_replayed_event_is_a_no_op_and_the_call_is_sent_once() {
    let (app, keys) = telnyx_app(0).await;
    let body = serde_json::to_vec(&hangup("replay")).expect("json");
    let now = now_secs();

    assert_eq!(app.telnyx(&keys, &initiated("replay")).await, 200);
    let (first, _) = post_telnyx_at(&app.address, &keys, now, &body).await;
    let (same_request, _) = post_telnyx_at(&app.address, &keys, now, &body).await;
    assert_eq!(settled(&app, "replay").await, "missed");
    let (later, _) = post_telnyx_at(&app.address, &keys, now_secs(), &body).await;
    assert_eq!(app.telnyx(&keys, &initiated("replay")).await, 200);

    assert_eq!((first, same_request, later), (200, 200, 200));
    assert_eq!(telnyx_event_count(&app), 2);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(app.ledger_rows(), 1);
    assert_eq!(app.whatsapp.requests().len(), 1);
}

#[tokio::test]
async fn a_hangup_that_arrives_before_its_initiated_event_still_makes_one_missed_call() {
    let (app, keys) = telnyx_app(1).await;

    assert_eq!(app.telnyx(&keys, &hangup("late-init")).await, 200);
    assert_eq!(app.telnyx(&keys, &initiated("late-init")).await, 200);

    assert_eq!(settled(&app, "late-init").await, "missed");
    let call = call_of(&app, "late-init").expect("a call");
    assert_eq!(call["outcome"], "SENT");
    assert_eq!(call["caller_phone_number"], CALLER);
    assert_eq!(app.whatsapp.requests().len(), 1);
}

#[tokio::test]
async fn an_answered_call_is_not_a_missed_call() {
    let (app, keys) = telnyx_app(0).await;

    assert_eq!(app.telnyx(&keys, &initiated("picked-up")).await, 200);
    assert_eq!(
        app.telnyx(&keys, &answered("picked-up", "leg-a")).await,
        200
    );
    assert_eq!(app.telnyx(&keys, &hangup("picked-up")).await, 200);

    assert_eq!(settled(&app, "picked-up").await, "answered");
    assert_eq!(app.ledger_rows(), 0);
    assert!(app.whatsapp.requests().is_empty());
}

#[tokio::test]
async fn an_answer_that_arrives_after_the_hangup_but_within_the_settle_delay_keeps_the_call_answered()
 {
    let (app, keys) = telnyx_app(3).await;

    assert_eq!(app.telnyx(&keys, &initiated("late-answer")).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("late-answer")).await, 200);
    assert_eq!(
        app.telnyx(&keys, &answered("late-answer", "leg-a")).await,
        200
    );

    assert_eq!(settled(&app, "late-answer").await, "answered");
    assert_eq!(app.ledger_rows(), 0);
    assert!(app.whatsapp.requests().is_empty());
}

#[tokio::test]
async fn an_answer_that_arrives_after_the_settle_delay_changes_nothing() {
    let (app, keys) = telnyx_app(0).await;

    assert_eq!(app.telnyx(&keys, &initiated("too-late")).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("too-late")).await, 200);
    assert_eq!(settled(&app, "too-late").await, "missed");
    assert_eq!(app.telnyx(&keys, &answered("too-late", "leg-a")).await, 200);

    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(settled(&app, "too-late").await, "missed");
    assert_eq!(call_of(&app, "too-late").expect("call")["outcome"], "SENT");
    assert_eq!(app.whatsapp.requests().len(), 1);
}

/// A call Telnyx forwards to the restaurant's landline: an outgoing leg in the same session.
fn forwarded(session: &str, answered_there: bool) -> Vec<Value> {
    let outgoing = |id: &str, kind: &str, direction: Option<&str>| {
        telnyx_event(
            &format!("{session}-{id}"),
            kind,
            session,
            &format!("{session}-leg-b"),
            direction,
            TELNYX_NUMBER,
            LANDLINE,
        )
    };
    let mut events = vec![
        initiated(session),
        outgoing("b-init", "call.initiated", Some("outgoing")),
    ];
    if answered_there {
        events.push(outgoing("b-answered", "call.answered", None));
    }
    events.push(outgoing("b-hangup", "call.hangup", None));
    events.push(hangup(session));
    events
}

#[tokio::test]
async fn a_forwarded_call_answered_on_the_outgoing_leg_is_not_missed_and_one_that_rang_out_is() {
    let (app, keys) = telnyx_app(1).await;

    for event in forwarded("fwd-answered", true)
        .iter()
        .chain(&forwarded("fwd-missed", false))
    {
        assert_eq!(app.telnyx(&keys, event).await, 200);
    }

    assert_eq!(settled(&app, "fwd-answered").await, "answered");
    assert_eq!(settled(&app, "fwd-missed").await, "missed");
    let call = call_of(&app, "fwd-missed").expect("call");
    assert_eq!(
        call["caller_phone_number"], CALLER,
        "the caller, not the box's number"
    );
    assert_eq!(app.ledger_rows(), 1);
}

#[tokio::test]
async fn each_call_belongs_to_the_restaurant_whose_number_it_rang_and_an_unknown_number_is_ignored()
{
    let (app, keys) = telnyx_app(0).await;
    let other = app.other_restaurant("Chez Autre", "FR", "Europe/Paris");
    let other_number = "+33187650000";
    app.tie_telnyx_number(&other.id, other_number);
    let to = |session: &str, number: &str| {
        [
            telnyx_event(
                &format!("{session}-i"),
                "call.initiated",
                session,
                &format!("{session}-a"),
                Some("incoming"),
                CALLER,
                number,
            ),
            telnyx_event(
                &format!("{session}-h"),
                "call.hangup",
                session,
                &format!("{session}-a"),
                None,
                CALLER,
                number,
            ),
        ]
    };

    for event in to("to-first", TELNYX_NUMBER)
        .iter()
        .chain(&to("to-other", other_number))
        .chain(&to("to-nobody", "+33187659999"))
    {
        assert_eq!(app.telnyx(&keys, event).await, 200);
    }

    assert_eq!(settled(&app, "to-first").await, "missed");
    assert_eq!(settled(&app, "to-other").await, "missed");
    assert_eq!(settled(&app, "to-nobody").await, "unknown_number");
    let restaurant_of = |session: &str| -> String {
        app.db()
            .query_row(
                "SELECT restaurant_id FROM calls WHERE external_call_id = ?1",
                [session],
                |r| r.get(0),
            )
            .expect("call")
    };
    assert_eq!(restaurant_of("to-first"), app.restaurant.id);
    assert_eq!(restaurant_of("to-other"), other.id);
    assert_eq!(app.ledger_rows(), 2);
}

#[tokio::test]
async fn the_webhook_is_off_until_a_public_key_is_configured() {
    let app = spawn_app().await;
    let keys = TelnyxKeys::new();

    let (status, body) = post_telnyx_at(&app.address, &keys, now_secs(), b"{}").await;

    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}

/// Makes the call's planned retry due now, as if its back-off had passed.
fn make_retry_due(app: &TestApp, session: &str) {
    app.db()
        .execute(
            "UPDATE calls SET next_attempt_at = ?2 WHERE external_call_id = ?1",
            rusqlite::params![session, jiff::Timestamp::now().as_millisecond() - 1],
        )
        .expect("due");
}

fn seconds_until(at: &Value) -> i64 {
    let at: jiff::Timestamp = at.as_str().expect("a time").parse().expect("RFC 3339");
    (at.as_millisecond() - jiff::Timestamp::now().as_millisecond()) / 1000
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
    assert!(
        (28..=30).contains(&seconds_until(&first["next_attempt_at"])),
        "{first}"
    );

    make_retry_due(&app, "retry");
    eventually("the second attempt", || {
        call_of(&app, "retry").is_some_and(|c| c["attempts"] == 2 && c["outcome"] == "FAILED")
    })
    .await;
    let second = call_of(&app, "retry").expect("call");
    assert!(
        (58..=60).contains(&seconds_until(&second["next_attempt_at"])),
        "{second}"
    );

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
    assert!(
        (1790..=1800).contains(&seconds_until(&call["next_attempt_at"])),
        "{call}"
    );
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
    assert!(failed["next_attempt_at"].is_string());
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
