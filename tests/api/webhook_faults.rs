//! SPEC §10 under a full disk: an event the database cannot store is answered 503, so its
//! sender delivers it again, and nothing is lost once space returns.

use crate::connections::{assert_enveloped, raw};
use crate::disk::SmallDisk;
use crate::helpers::*;
use crate::webhook_kit::*;

#[tokio::test]
async fn an_event_that_cannot_be_stored_is_answered_503_and_its_redelivery_is_kept_once_space_returns()
 {
    let disk = SmallDisk::mount("3m");
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| {
        c.database.path = disk.path("ringback.db");
        webhooks_on(c, &keys, 0);
    })
    .await;
    app.tie_telnyx_number(&app.restaurant.id.clone(), TELNYX_NUMBER);

    disk.fill();
    let mut refused = None;
    for n in 0..500 {
        let event = telnyx_event(
            &format!("ev-{n}"),
            "call.answered",
            &format!("s-{n}"),
            "leg",
            None,
            "+33612345678",
            TELNYX_NUMBER,
        );
        let status = app.telnyx(&keys, &event).await;
        if status == 503 {
            refused = Some(event);
            break;
        }
        assert_eq!(status, 200);
    }
    let refused = refused.expect("the full disk refused an event");
    let stop = text_reply("wamid.full-disk", "33698765432", "STOP");
    let stop_on_full_disk = app.meta(&stop).await;
    let id = refused["data"]["id"].as_str().expect("id").to_string();
    let kept = |id: &str| -> i64 {
        app.db()
            .query_row(
                "SELECT count(*) FROM telnyx_events WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .expect("count")
    };
    assert_eq!(kept(&id), 0, "a 503 keeps nothing");
    assert_eq!(stop_on_full_disk, 503);

    disk.free();
    let mut redelivered = 0;
    for _ in 0..100 {
        redelivered = app.telnyx(&keys, &refused).await;
        if redelivered == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(redelivered, 200);
    assert_eq!(kept(&id), 1);
    assert_eq!(app.meta(&stop).await, 200);
    let reason: String = app
        .db()
        .query_row(
            "SELECT suppression_reason FROM customers WHERE phone_e164 = '+33698765432'",
            [],
            |r| r.get(0),
        )
        .expect("the STOP is kept");
    assert_eq!(reason, "reply");
}

fn telnyx_events_kept(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT count(*) FROM telnyx_events", [], |r| r.get(0))
        .expect("count")
}

#[tokio::test]
async fn a_webhook_body_that_stops_arriving_is_answered_408_and_keeps_nothing() {
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| {
        webhooks_on(c, &keys, 0);
        c.server.header_timeout_ms = 300;
    })
    .await;
    let now = now_secs();
    for path in ["/webhooks/telnyx", "/webhooks/whatsapp"] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\ntelnyx-timestamp: {now}\r\n\
             telnyx-signature-ed25519: AAAA\r\nx-hub-signature-256: sha256=00\r\n\
             Content-Type: application/json\r\nContent-Length: 500\r\nConnection: close\r\n\r\n{{\"data\""
        );

        let (status, head, body) = raw(&app.address, request.as_bytes()).await;

        assert_eq!(status, 408, "{path}");
        assert_enveloped(&head, &body, "REQUEST_TIMEOUT");
    }
    assert_eq!(telnyx_events_kept(&app), 0);
}

#[tokio::test]
async fn a_telnyx_body_over_64_kib_is_refused_413_before_anything_is_kept() {
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| webhooks_on(c, &keys, 0)).await;
    let mut event = telnyx_event(
        "big",
        "call.hangup",
        "s-big",
        "leg",
        None,
        "+33612345678",
        TELNYX_NUMBER,
    );
    event["data"]["payload"]["client_state"] = serde_json::json!("x".repeat(70 * 1024));
    let body = serde_json::to_vec(&event).expect("json");

    let (status, answer) = post_telnyx_at(&app.address, &keys, now_secs(), &body).await;

    assert_eq!(status, 413);
    assert_eq!(answer["error"]["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(telnyx_events_kept(&app), 0);
}

#[tokio::test]
async fn a_signed_telnyx_body_that_is_not_a_call_event_is_acknowledged_and_keeps_nothing() {
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| webhooks_on(c, &keys, 0)).await;
    let mut no_session = telnyx_event(
        "e1",
        "call.hangup",
        "s1",
        "leg",
        None,
        "+33612345678",
        TELNYX_NUMBER,
    );
    no_session["data"]["payload"]
        .as_object_mut()
        .expect("payload")
        .remove("call_session_id");
    let other_kind = telnyx_event(
        "e2",
        "call.playback.ended",
        "s2",
        "leg",
        None,
        "+33612345678",
        TELNYX_NUMBER,
    );

    for body in [
        b"not json at all".to_vec(),
        b"[1, 2, 3]".to_vec(),
        serde_json::to_vec(&no_session).expect("json"),
        serde_json::to_vec(&other_kind).expect("json"),
    ] {
        let (status, _) = post_telnyx_at(&app.address, &keys, now_secs(), &body).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    assert_eq!(telnyx_events_kept(&app), 0);
}
