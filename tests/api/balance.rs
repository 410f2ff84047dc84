//! SPEC §4.5: the balance is debited by a claim and credited back by FAILED or UNDELIVERABLE.

use ringback::db::restaurants::RestaurantChanges;
use serde_json::json;

use crate::helpers::*;

fn with_balance(app: &TestApp, balance: i64, cost: i64) {
    app.update_restaurant(RestaurantChanges {
        balance_cents: Some(Some(balance)),
        message_cost_cents: Some(cost),
        ..Default::default()
    });
}

#[tokio::test]
async fn a_sent_message_debits_its_cost() {
    let app = spawn_app().await;
    with_balance(&app, 100, 7);

    app.report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(app.balance(), Some(93));
}

#[tokio::test]
async fn an_undeliverable_message_is_credited_back() {
    let app = spawn_app().await;
    with_balance(&app, 100, 7);
    app.whatsapp.fail_with(400, 131026);

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(body["data"]["outcome"], "UNDELIVERABLE");
    assert_eq!(app.balance(), Some(100));
}

#[tokio::test]
async fn a_failed_message_is_credited_back() {
    let app = spawn_app().await;
    with_balance(&app, 100, 7);
    app.whatsapp.fail_with(500, 2);

    let response = app
        .report(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(response.status().as_u16(), 502);
    assert_eq!(app.balance(), Some(100));
}

#[tokio::test]
async fn a_balance_equal_to_the_cost_sends_and_reaches_zero() {
    let app = spawn_app().await;
    with_balance(&app, 7, 7);

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(body["data"]["outcome"], "SENT");
    assert_eq!(app.balance(), Some(0));
    let (_, next) = app
        .report_json(json!({"caller_phone_number": "+33698765432"}))
        .await;
    assert_eq!(next["data"]["outcome"], "SKIPPED_LOW_BALANCE");
    assert_eq!(app.balance(), Some(0));
}

#[tokio::test]
async fn an_unlimited_balance_is_never_short() {
    let app = spawn_app().await;
    app.update_restaurant(RestaurantChanges {
        message_cost_cents: Some(1_000_000),
        ..Default::default()
    });

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(body["data"]["outcome"], "SENT");
    assert_eq!(app.balance(), None);
}
