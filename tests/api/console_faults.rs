//! The console and booking links under a real fault: a full disk refuses what it cannot store,
//! clearly and without a half-made session, while a guest's tap still reaches the booking page.

use reqwest::redirect::Policy;
use serde_json::json;

use crate::disk::SmallDisk;
use crate::helpers::*;

async fn sign_in(app: &TestApp) -> reqwest::Response {
    app.client
        .post(format!("{}/console/login", app.address))
        .json(&json!({"username": "marie", "password": CONSOLE_PASSWORD}))
        .send()
        .await
        .expect("sign in")
}

fn sessions(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_full_disk_a_sign_in_is_503_without_a_cookie_and_a_guest_still_reaches_the_booking_page()
 {
    // Arrange: the database on a small tmpfs, a message sent with its link.
    let disk = SmallDisk::mount("3m");
    let app = spawn_app_with(|c| c.database.path = disk.path("ringback.db")).await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let (_, sent) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    let call_id = sent["data"]["id"].as_str().expect("id").to_string();
    let token: String = app
        .db()
        .query_row(
            "SELECT link_token FROM calls WHERE id = ?1",
            [&call_id],
            |r| r.get(0),
        )
        .expect("token");
    let no_redirects = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");

    // Act: the disk fills; sign-ins go on until one cannot be stored.
    disk.fill();
    let mut refused = None;
    for _ in 0..500 {
        let answer = sign_in(&app).await;
        if answer.status().as_u16() == 503 {
            refused = Some(answer);
            break;
        }
        assert_eq!(answer.status().as_u16(), 204);
    }
    let stored_before = sessions(&app);
    let click = no_redirects
        .get(format!("{}/r/{token}", app.address))
        .send()
        .await
        .expect("click");

    // Assert: a clear refusal, no cookie for a session that does not exist; the guest goes on.
    let refused = refused.expect("the full disk refused a sign-in");
    assert!(refused.headers().get("set-cookie").is_none());
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "STORAGE_UNAVAILABLE");
    assert_eq!(click.status().as_u16(), 302);
    assert!(
        click.headers()["location"]
            .to_str()
            .expect("ascii")
            .ends_with(&format!("rb_ref={token}"))
    );

    // And when space returns, sign-ins and clicks are stored again, by themselves.
    disk.free();
    let mut back = false;
    for _ in 0..50 {
        if sign_in(&app).await.status().as_u16() == 204 {
            back = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(back, "sign-in works again once the disk has room");
    assert_eq!(sessions(&app), stored_before + 1);
    no_redirects
        .get(format!("{}/r/{token}", app.address))
        .send()
        .await
        .expect("click");
    let clicks: i64 = app
        .db()
        .query_row("SELECT clicks FROM calls WHERE id = ?1", [&call_id], |r| {
            r.get(0)
        })
        .expect("clicks");
    assert!(clicks >= 1, "a click after the disk freed is counted");
}
