//! SPEC §10 and §9: what WhatsApp's statuses say of a message shows wherever the call does, and
//! a status that beats the send's own answer is not lost.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::webhook_kit::*;

async fn webhook_app(adjust: impl FnOnce(&mut ringback::config::Config)) -> TestApp {
    let keys = TelnyxKeys::new();
    spawn_app_with(|c| {
        webhooks_on(c, &keys, 5);
        adjust(c);
    })
    .await
}

/// A report of +33612345678 to the restaurant of `token`; the answer's body.
async fn report_for(app: &TestApp, token: &str) -> Value {
    app.report_as(token, json!({"caller_phone_number": "+33612345678"}))
        .await
        .json()
        .await
        .expect("json")
}

/// The customers with number +33612345678 at the restaurant of `token`.
async fn customer_of(app: &TestApp, token: &str) -> Value {
    let path = "/customers?phone_number=%2B33612345678";
    app.call(reqwest::Method::GET, path, token, None).await.1
}

#[tokio::test]
async fn a_delivered_message_shows_delivered_in_the_console_log_and_its_csv() {
    let app = webhook_app(|_| {}).await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let (_, sent) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    let message_id = sent["data"]["message_id"]
        .as_str()
        .expect("wamid")
        .to_string();

    assert_eq!(
        app.meta(&status_payload(&message_id, "delivered", None))
            .await,
        200
    );

    let cookie = app.console_session("marie").await;
    let (status, log) = app.console_get(&cookie, "/console/api/calls").await;
    assert_eq!(status, 200);
    assert_eq!(log["data"][0]["delivery_state"], "delivered");
    let csv = app
        .client
        .get(format!("{}/console/export.csv", app.address))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    let header: Vec<&str> = csv
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .expect("header")
        .split(',')
        .collect();
    let row: Vec<&str> = csv.lines().nth(1).expect("row").split(',').collect();
    let delivery = header
        .iter()
        .position(|h| *h == "delivery")
        .expect("column");
    assert_eq!(row[delivery], "delivered");
}

#[tokio::test]
async fn a_status_that_arrives_before_the_sends_own_unusable_answer_makes_the_call_sent() {
    // WhatsApp holds the send until its status is in, then answers without a message id: the
    // answer is no proof either way, the status is.
    let app = webhook_app(|c| c.whatsapp.timeout_ms = 30_000).await;
    app.whatsapp.set(Behaviour::Hold);
    let report = app.report_in_background(
        json!({"caller_phone_number": "+33612345678", "external_call_id": "slow-1"}),
    );
    app.whatsapp.wait_for_requests(1).await;
    let call_id = app.whatsapp.requests()[0].body["biz_opaque_callback_data"]
        .as_str()
        .expect("call id")
        .to_string();

    let status = status_payload("wamid.beat-the-answer", "sent", Some(&call_id));
    assert_eq!(app.meta(&status).await, 200);
    app.whatsapp.set(Behaviour::Reply(
        200,
        json!({"messaging_product": "whatsapp"}),
    ));
    app.whatsapp.release();
    let (code, body) = report.await.expect("join");

    assert_eq!(code, 201, "{body}");
    assert_eq!(body["data"]["outcome"], "SENT");
    assert_eq!(body["data"]["message_id"], "wamid.beat-the-answer");
    assert_eq!(body["data"]["delivery_state"], "sent");
    let (_, replay) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "slow-1"}))
        .await;
    assert_eq!(replay["data"]["outcome"], "SKIPPED_DUPLICATE");
    assert_eq!(app.whatsapp.requests().len(), 1);
}

#[tokio::test]
async fn a_status_for_a_message_the_box_did_not_send_changes_nothing() {
    let app = webhook_app(|_| {}).await;
    let (_, sent) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    let id = sent["data"]["id"].as_str().expect("id").to_string();

    assert_eq!(
        app.meta(&status_payload("wamid.unknown", "read", None))
            .await,
        200
    );
    assert_eq!(
        app.meta(&status_payload(
            "wamid.unknown-2",
            "read",
            Some("call_not_ours")
        ))
        .await,
        200
    );

    let (_, call) = app.get_call(&app.restaurant.token, &id).await;
    assert_eq!(call["data"]["delivery_state"], Value::Null);
    let statuses: i64 = app
        .db()
        .query_row("SELECT count(*) FROM message_statuses", [], |r| r.get(0))
        .expect("count");
    assert_eq!(statuses, 0);
    // The same webhook does move the call's own message.
    let message_id = sent["data"]["message_id"].as_str().expect("wamid");
    assert_eq!(
        app.meta(&status_payload(message_id, "read", None)).await,
        200
    );
    let (_, call) = app.get_call(&app.restaurant.token, &id).await;
    assert_eq!(call["data"]["delivery_state"], "read");
}

#[tokio::test]
async fn a_stop_to_a_whatsapp_number_two_restaurants_share_holds_at_both() {
    let app = webhook_app(|_| {}).await;
    // Seeded with the same WhatsApp number as the first: a group's shared line.
    let sister = app.other_restaurant("Chez Soeur", "FR", "Europe/Paris");

    assert_eq!(
        app.meta(&text_reply("wamid.stop-shared", "33612345678", "STOP"))
            .await,
        200
    );

    let (_, here) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    let there = report_for(&app, &sister.token).await;
    assert_eq!(here["data"]["outcome"], "SKIPPED_SUPPRESSED");
    assert_eq!(there["data"]["outcome"], "SKIPPED_SUPPRESSED");
    assert!(app.whatsapp.requests().is_empty());
}

#[tokio::test]
async fn a_131050_refusal_holds_at_every_restaurant_sending_from_that_whatsapp_number() {
    let app = webhook_app(|_| {}).await;
    let sister = app.other_restaurant("Chez Soeur", "FR", "Europe/Paris");
    app.whatsapp.fail_with(400, 131050);

    let (_, refused) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    app.whatsapp.set(Behaviour::Accept);
    let there = report_for(&app, &sister.token).await;

    assert_eq!(refused["data"]["outcome"], "UNDELIVERABLE");
    assert_eq!(there["data"]["outcome"], "SKIPPED_SUPPRESSED");
    let found = customer_of(&app, &sister.token).await;
    assert_eq!(found["data"][0]["suppression_reason"], "131050");
    assert_eq!(app.whatsapp.requests().len(), 1);
}

#[tokio::test]
async fn a_booking_system_saying_again_that_a_guest_is_suppressed_keeps_the_guests_own_stop() {
    let app = webhook_app(|_| {}).await;
    assert_eq!(
        app.meta(&text_reply("wamid.stop-sync", "33612345678", "STOP"))
            .await,
        200
    );
    let found = customer_of(&app, &app.restaurant.token).await;
    let id = found["data"][0]["id"]
        .as_str()
        .expect("customer")
        .to_string();

    let (status, patched) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/customers/{id}"),
            &app.restaurant.token,
            Some(json!({"whatsapp_suppressed": true})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(patched["data"]["suppression_reason"], "reply");

    assert_eq!(
        app.meta(&text_reply("wamid.start-sync", "33612345678", "START"))
            .await,
        200
    );
    let (_, sent) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    assert_eq!(
        sent["data"]["outcome"], "SENT",
        "the guest's START still lifts it"
    );
}
