//! SPEC §10, Telnyx: signed call events, folded per session in any order, settle into a missed
//! call that runs the same pipeline as a partner report; a failed send is retried by ringback.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::webhook_kit::*;

pub(crate) const CALLER: &str = "+33612345678";
const LANDLINE: &str = "+33140000000";

pub(crate) async fn telnyx_app(settle_seconds: i64) -> (TestApp, TelnyxKeys) {
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| webhooks_on(c, &keys, settle_seconds)).await;
    app.tie_telnyx_number(&app.restaurant.id.clone(), TELNYX_NUMBER);
    (app, keys)
}

pub(crate) fn initiated(session: &str) -> Value {
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

pub(crate) fn hangup(session: &str) -> Value {
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
pub(crate) fn call_of(app: &TestApp, session: &str) -> Option<Value> {
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

pub(crate) async fn settled(app: &TestApp, session: &str) -> String {
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

    let mut started = initiated("s1");
    let began = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_secs(40))
        .expect("time");
    started["data"]["payload"]["start_time"] = json!(began.to_string());

    assert_eq!(app.telnyx(&keys, &started).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("s1")).await, 200);

    assert_eq!(settled(&app, "s1").await, "missed");
    let call = call_of(&app, "s1").expect("a call");
    let occurred: jiff::Timestamp = call["occurred_at"]
        .as_str()
        .expect("time")
        .parse()
        .expect("rfc 3339");
    assert_eq!(
        occurred.as_millisecond(),
        began.as_millisecond(),
        "the call's start_time"
    );
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
    // The clock is read again for each, and the times kept clear of the 300 s edge, whose
    // exact second `webhooks::telnyx`'s unit tests hold with a fixed clock: a slow machine that
    // crosses a second between the read and the server's own must not turn a refusal around.
    let (old, _) = post_telnyx_at(&app.address, &keys, now_secs() - 310, &body).await;
    let (future, _) = post_telnyx_at(&app.address, &keys, now_secs() + 310, &body).await;
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

    let (good, _) = post_telnyx_at(&app.address, &keys, now_secs() - 290, &body).await;
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

#[tokio::test]
async fn a_session_whose_only_leg_is_outgoing_to_a_tied_number_is_no_missed_call() {
    let (app, keys) = telnyx_app(0).await;
    let outgoing = [
        telnyx_event(
            "out-init",
            "call.initiated",
            "out-only",
            "out-leg",
            Some("outgoing"),
            LANDLINE,
            TELNYX_NUMBER,
        ),
        telnyx_event(
            "out-hangup",
            "call.hangup",
            "out-only",
            "out-leg",
            None,
            LANDLINE,
            TELNYX_NUMBER,
        ),
    ];

    for event in outgoing
        .iter()
        .chain(&[initiated("real-miss"), hangup("real-miss")])
    {
        assert_eq!(app.telnyx(&keys, event).await, 200);
    }

    // The real missed call hung up after it, and is settled: the outgoing one had its turn.
    assert_eq!(settled(&app, "real-miss").await, "missed");
    assert!(call_of(&app, "out-only").is_none(), "no call for it");
    assert_eq!(app.ledger_rows(), 1);
    assert_eq!(
        app.whatsapp.requests().len(),
        1,
        "one message, to the real caller"
    );
}
