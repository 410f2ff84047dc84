//! SPEC §9, booking links and conversions: `/r/{token}` records the click and sends the guest
//! on; a reservation made after a message counts once, by its `ref` or by a click.

use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::*;

const CALLER: &str = "+33612345678";

/// A SENT call's id and link token.
async fn sent_call(app: &TestApp, caller: &str) -> (String, String) {
    let (status, body) = app
        .report_json(json!({"caller_phone_number": caller}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(body["data"]["outcome"], "SENT");
    let id = body["data"]["id"].as_str().expect("id").to_string();
    let token = app
        .db()
        .query_row("SELECT link_token FROM calls WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .expect("token");
    (id, token)
}

async fn click(app: &TestApp, token: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/r/{token}", app.address))
        .send()
        .await
        .expect("click")
}

/// Books for `caller` through the partner API, with `extra` fields (a `ref`, say).
async fn book(app: &TestApp, caller: &str, extra: Value) -> String {
    let mut body = json!({"customer": {"phone_number": caller},
                          "start_at": minutes_from_now(24 * 60), "party_size": 2});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = app
        .client
        .post(format!("{}/api/partner/v1/reservations", app.address))
        .bearer_auth(&app.restaurant.token)
        .json(&body)
        .send()
        .await
        .expect("book");
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.expect("json");
    body["data"]["id"].as_str().expect("id").to_string()
}

fn converted(app: &TestApp, call_id: &str) -> Option<String> {
    app.db()
        .query_row(
            "SELECT converted_reservation_id FROM calls WHERE id = ?1",
            [call_id],
            |r| r.get(0),
        )
        .expect("call")
}

fn conversions(app: &TestApp) -> i64 {
    app.db()
        .query_row(
            "SELECT COUNT(converted_reservation_id) FROM calls",
            [],
            |r| r.get(0),
        )
        .expect("count")
}

#[tokio::test]
async fn a_click_is_counted_and_sent_on_to_the_booking_page_with_its_own_query_kept() {
    let app = spawn_app().await;
    app.db()
        .execute(
            "UPDATE restaurants SET booking_url = 'https://book.example.com/chez?lang=fr&x=1#top'",
            [],
        )
        .expect("booking url");
    let (id, token) = sent_call(&app, CALLER).await;

    let first = click(&app, &token).await;
    let second = click(&app, &token).await;

    assert_eq!(first.status().as_u16(), 302);
    assert_eq!(
        first.headers()["location"],
        format!(
            "https://book.example.com/chez?lang=fr&x=1&utm_source=whatsapp&utm_medium=missed_call\
             &utm_campaign=ringback&rb_ref={token}#top"
        )
    );
    assert_eq!(second.status().as_u16(), 302);
    let (clicks, first_at): (i64, Option<i64>) = app
        .db()
        .query_row(
            "SELECT clicks, first_clicked_at FROM calls WHERE id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("call");
    assert_eq!(clicks, 2);
    assert!(first_at.is_some());
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let (_, log) = app.console_get(&cookie, "/console/api/calls").await;
    assert_eq!(log["data"][0]["clicks"], 2);
    assert!(log["data"][0]["clicked_at"].is_string());
}

#[tokio::test]
async fn an_unknown_token_is_a_plain_404_page_that_says_nothing_about_any_call() {
    let app = spawn_app().await;
    sent_call(&app, CALLER).await;

    let unknown = click(&app, "AbCdEfGhIjKlMnOpQrStUvWx").await;
    let garbage = click(&app, "x").await;

    assert_eq!(unknown.status().as_u16(), 404);
    assert_eq!(garbage.status().as_u16(), 404);
    assert!(
        unknown.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let (a, b) = (
        unknown.text().await.expect("text"),
        garbage.text().await.expect("text"),
    );
    assert_eq!(a, b);
    assert!(!a.contains("call_") && !a.contains("Chez Test"));
}

#[tokio::test]
async fn a_reservation_after_a_click_converts_the_call_once_and_a_second_one_does_not() {
    let app = spawn_app().await;
    let (id, token) = sent_call(&app, CALLER).await;
    click(&app, &token).await;

    let first = book(&app, CALLER, json!({})).await;
    let second = book(&app, CALLER, json!({})).await;

    assert_eq!(converted(&app, &id), Some(first));
    assert_ne!(converted(&app, &id), Some(second));
    assert_eq!(conversions(&app), 1);
}

#[tokio::test]
async fn without_a_click_or_a_ref_a_reservation_is_no_conversion() {
    let app = spawn_app().await;
    let (id, _) = sent_call(&app, CALLER).await;

    book(&app, CALLER, json!({})).await;

    assert_eq!(converted(&app, &id), None);
}

#[tokio::test]
async fn a_click_does_not_make_another_customers_reservation_a_conversion() {
    let app = spawn_app().await;
    let (id, token) = sent_call(&app, CALLER).await;
    click(&app, &token).await;

    book(&app, "+33698765432", json!({})).await;

    assert_eq!(converted(&app, &id), None);
}

#[tokio::test]
async fn a_reservation_past_the_conversion_window_is_no_conversion() {
    let app = spawn_app().await;
    let (id, token) = sent_call(&app, CALLER).await;
    click(&app, &token).await;
    let eight_days_ago = ringback::time::now_ms() - 8 * 86_400_000;
    app.db()
        .execute(
            "UPDATE calls SET sent_at = ?1, first_clicked_at = ?1",
            [eight_days_ago],
        )
        .expect("age");

    book(&app, CALLER, json!({"ref": token})).await;

    assert_eq!(converted(&app, &id), None);
}

#[tokio::test]
async fn a_ref_attributes_a_booking_without_any_click_even_for_another_number() {
    let app = spawn_app().await;
    let (id, token) = sent_call(&app, CALLER).await;

    let reservation = book(&app, "+33698765432", json!({"ref": token})).await;

    assert_eq!(converted(&app, &id), Some(reservation));
}

#[tokio::test]
async fn a_reservation_converts_only_the_latest_qualifying_call() {
    let app = spawn_app().await;
    let (older, older_token) = sent_call(&app, CALLER).await;
    // Out of the cooldown's reach, so that a second message goes to the same number.
    app.db()
        .execute(
            "UPDATE calls SET occurred_at = occurred_at - 86400000,
                              sent_at = sent_at - 86400000 WHERE id = ?1",
            [&older],
        )
        .expect("age");
    let (newer, newer_token) = sent_call(&app, CALLER).await;
    click(&app, &older_token).await;
    click(&app, &newer_token).await;

    let reservation = book(&app, CALLER, json!({})).await;

    assert_eq!(converted(&app, &newer), Some(reservation));
    assert_eq!(converted(&app, &older), None);
}

#[tokio::test]
async fn a_canceled_conversion_stays_counted_and_the_log_shows_it_canceled() {
    let app = spawn_app().await;
    let (_, token) = sent_call(&app, CALLER).await;
    click(&app, &token).await;
    let reservation = book(&app, CALLER, json!({})).await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let (_, before) = app.console_get(&cookie, "/console/api/indicators").await;

    let canceled = app
        .client
        .post(format!(
            "{}/api/partner/v1/reservations/{reservation}/cancel",
            app.address
        ))
        .bearer_auth(&app.restaurant.token)
        .json(&json!({}))
        .send()
        .await
        .expect("cancel");

    assert_eq!(canceled.status().as_u16(), 200);
    let (_, after) = app.console_get(&cookie, "/console/api/indicators").await;
    assert_eq!(before["data"]["booking_conversions"], 1);
    assert_eq!(after["data"]["booking_conversions"], 1);
    assert_eq!(after["data"]["conversion_rate"], 1.0);
    let (_, log) = app.console_get(&cookie, "/console/api/calls").await;
    assert_eq!(
        log["data"][0]["converted_reservation_id"],
        json!(reservation)
    );
    assert_eq!(log["data"][0]["converted_reservation_status"], "CANCELED");
}

#[tokio::test]
async fn a_reservation_imported_with_a_ref_column_is_attributed() {
    let app = spawn_app().await;
    let (id, token) = sent_call(&app, CALLER).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("bookings.csv");
    std::fs::write(
        &file,
        format!(
            "external_id,phone,name,start,party_size,status,ref\nbk-1,+33698765432,Lou,{},2,,{token}\n",
            minutes_from_now(24 * 60)
        ),
    )
    .expect("csv");

    let out = crate::cli_harness::ringback_in(
        dir.path(),
        &[
            "--db",
            app.db_path.to_str().expect("path"),
            "reservation",
            "import",
            "--restaurant",
            &app.restaurant.id,
            file.to_str().expect("path"),
        ],
        &[],
        None,
    );

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(converted(&app, &id).is_some());
}

#[tokio::test]
async fn a_click_after_the_reservation_does_not_make_it_a_conversion() {
    let app = spawn_app().await;
    let (id, token) = sent_call(&app, CALLER).await;

    book(&app, CALLER, json!({})).await;
    click(&app, &token).await;

    assert_eq!(converted(&app, &id), None);
}

#[tokio::test]
async fn a_ref_naming_another_restaurants_message_converts_nothing() {
    let app = spawn_app().await;
    let (id, token) = sent_call(&app, CALLER).await;
    let other = app.other_restaurant("Chez Autre", "FR", "Europe/Paris");

    let response = app
        .client
        .post(format!("{}/api/partner/v1/reservations", app.address))
        .bearer_auth(&other.token)
        .json(&json!({"customer": {"phone_number": CALLER}, "ref": token,
                      "start_at": minutes_from_now(24 * 60), "party_size": 2}))
        .send()
        .await
        .expect("book");

    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(converted(&app, &id), None);
}

#[tokio::test]
async fn a_link_preview_is_sent_on_but_not_counted_as_a_click() {
    let app = spawn_app().await;
    let (id, token) = sent_call(&app, CALLER).await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let url = format!("{}/r/{token}", app.address);

    let head = client.head(&url).send().await.expect("head");
    let preview = client
        .get(&url)
        .header("user-agent", "facebookexternalhit/1.1")
        .send()
        .await
        .expect("preview");

    assert_eq!(head.status().as_u16(), 302);
    assert_eq!(preview.status().as_u16(), 302);
    let clicks: i64 = app
        .db()
        .query_row("SELECT clicks FROM calls WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .expect("call");
    assert_eq!(clicks, 0);
}
