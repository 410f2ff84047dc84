//! Statuses: a sent call's delivery state only moves forward whatever the order they arrive in,
//! each (message, status) counts once, and a `failed` carrying 131050 suppresses the customer.

use serde_json::{Value, json};

use super::*;

/// Posts one status per entry of `statuses` for `message_id`, in that order.
async fn post_statuses(app: &TestApp, message_id: &str, statuses: &[&str]) {
    for status in statuses {
        deliver(app, &status_payload(message_id, status, None)).await;
    }
}

#[tokio::test]
async fn statuses_arriving_out_of_order_leave_the_message_read() {
    let app = whatsapp_app().await;
    let (call_id, message_id) = sent_call(&app, CALLER).await;

    post_statuses(&app, &message_id, &["read", "delivered", "sent"]).await;

    assert_eq!(delivery_state(&app, &call_id).await, "read");
}

#[tokio::test]
async fn a_status_delivered_twice_counts_once_with_the_time_of_the_first() {
    let app = whatsapp_app().await;
    let (call_id, message_id) = sent_call(&app, CALLER).await;
    let at = |secs: i64| {
        let mut payload = status_payload(&message_id, "delivered", None);
        payload["entry"][0]["changes"][0]["value"]["statuses"][0]["timestamp"] =
            json!(secs.to_string());
        payload
    };

    deliver(&app, &at(1_767_225_600)).await;
    deliver(&app, &at(1_767_225_660)).await;

    assert_eq!(delivery_state(&app, &call_id).await, "delivered");
    let counted: Vec<(String, i64)> = app
        .db()
        .prepare("SELECT status, at FROM message_statuses WHERE message_id = ?1")
        .expect("prepare")
        .query_map([&message_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(counted, vec![("delivered".to_string(), 1_767_225_600_000)]);
}

#[tokio::test]
async fn a_read_without_a_delivered_is_read() {
    let app = whatsapp_app().await;
    let (call_id, message_id) = sent_call(&app, CALLER).await;

    post_statuses(&app, &message_id, &["read"]).await;

    assert_eq!(delivery_state(&app, &call_id).await, "read");
}

#[tokio::test]
async fn a_delivered_after_a_failed_replaces_it() {
    let app = whatsapp_app().await;
    let (call_id, message_id) = sent_call(&app, CALLER).await;

    post_statuses(&app, &message_id, &["failed"]).await;
    let failed = delivery_state(&app, &call_id).await;
    post_statuses(&app, &message_id, &["delivered"]).await;

    assert_eq!(failed, "failed");
    assert_eq!(delivery_state(&app, &call_id).await, "delivered");
}

#[tokio::test]
async fn a_failed_after_a_sent_replaces_it() {
    let app = whatsapp_app().await;
    let (call_id, message_id) = sent_call(&app, CALLER).await;

    post_statuses(&app, &message_id, &["sent"]).await;
    let sent = delivery_state(&app, &call_id).await;
    post_statuses(&app, &message_id, &["failed"]).await;

    assert_eq!(sent, "sent");
    assert_eq!(delivery_state(&app, &call_id).await, "failed");
}

#[tokio::test]
async fn a_failed_after_a_delivered_leaves_the_message_delivered() {
    let app = whatsapp_app().await;
    let (call_id, message_id) = sent_call(&app, CALLER).await;

    post_statuses(&app, &message_id, &["delivered", "failed"]).await;

    assert_eq!(delivery_state(&app, &call_id).await, "delivered");
}

#[tokio::test]
async fn a_status_for_a_message_this_box_did_not_send_changes_nothing() {
    let app = whatsapp_app().await;
    let (call_id, _) = sent_call(&app, CALLER).await;

    // Unknown outright, and unknown while naming the call in `biz_opaque_callback_data`.
    deliver(&app, &status_payload("wamid.ELSEWHERE", "read", None)).await;
    deliver(
        &app,
        &status_payload("wamid.ELSEWHERE2", "read", Some(&call_id)),
    )
    .await;

    assert_eq!(delivery_state(&app, &call_id).await, Value::Null);
    assert_eq!(rows(&app, "message_statuses"), 0);
}

#[tokio::test]
async fn a_status_naming_another_restaurant_s_number_leaves_this_restaurant_s_call_alone() {
    let app = whatsapp_app().await;
    let (call_id, message_id) = sent_call(&app, CALLER).await;
    let other = app.other_restaurant("Chez Autre", "FR", "Europe/Paris");
    ringback::cli::restaurants::set_whatsapp(
        &app.db(),
        &other.id,
        Some(("109999999999999", ACCESS_TOKEN)),
        &crate::helpers::vault_of(&app.db()),
    )
    .expect("the other restaurant's number");

    deliver(
        &app,
        &for_number(
            status_payload(&message_id, "read", Some(&call_id)),
            "109999999999999",
        ),
    )
    .await;

    assert_eq!(delivery_state(&app, &call_id).await, Value::Null);
    assert_eq!(rows(&app, "message_statuses"), 0);
}

#[tokio::test]
async fn a_failed_status_carrying_131050_suppresses_the_customer_for_131050() {
    let app = whatsapp_app().await;
    let (call_id, message_id) = sent_call(&app, CALLER).await;

    deliver(&app, &failed_status(&message_id, 131050)).await;

    assert_eq!(delivery_state(&app, &call_id).await, "failed");
    assert_eq!(
        suppression(&app, CALLER).await,
        (json!(true), json!("131050"))
    );
    assert_eq!(next_call_outcome(&app, CALLER).await, "SKIPPED_SUPPRESSED");
}

#[tokio::test]
async fn a_start_does_not_lift_a_131050_suppression() {
    let app = whatsapp_app().await;
    let (_, message_id) = sent_call(&app, CALLER).await;
    deliver(&app, &failed_status(&message_id, 131050)).await;

    deliver(&app, &text_reply("wamid.IN1", CALLER_WA_ID, "START")).await;

    assert_eq!(
        suppression(&app, CALLER).await,
        (json!(true), json!("131050"))
    );
    assert_eq!(next_call_outcome(&app, CALLER).await, "SKIPPED_SUPPRESSED");
}
