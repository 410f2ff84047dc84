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
