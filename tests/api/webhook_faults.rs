//! SPEC §10 under a full disk: an event the database cannot store is answered 503, so its
//! sender delivers it again, and nothing is lost once space returns.

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
