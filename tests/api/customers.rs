//! SPEC §7: customers over the partner API.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_customer_is_found_by_number_in_any_format() {
    let app = spawn_app().await;
    let id = app.add_customer("+33612345678", Some("Camille"));

    let (status, body) = app
        .call(
            Method::GET,
            "/customers?phone_number=06%2012%2034%2056%2078",
            &app.restaurant.token,
            None,
        )
        .await;

    assert_eq!(status, 200);
    assert_eq!(
        body["data"][0],
        json!({"id": id, "name": "Camille", "phone_number": "+33612345678",
               "whatsapp_suppressed": false, "suppression_reason": null,
               "created_at": body["data"][0]["created_at"]})
    );
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn an_unknown_number_finds_an_empty_list_and_a_bad_one_is_rejected() {
    let app = spawn_app().await;
    let token = app.restaurant.token.clone();

    let (_, none) = app
        .call(
            Method::GET,
            "/customers?phone_number=%2B33698765432",
            &token,
            None,
        )
        .await;
    let (invalid, body) = app
        .call(Method::GET, "/customers?phone_number=123", &token, None)
        .await;
    let (missing, _) = app.call(Method::GET, "/customers", &token, None).await;

    assert_eq!(none["data"], json!([]));
    assert_eq!(invalid, 422);
    assert_eq!(body["error"]["details"]["field"], "phone_number");
    assert_eq!(missing, 400);
}

#[tokio::test]
async fn another_restaurants_customer_is_neither_found_nor_changed() {
    let app = spawn_app().await;
    let other = app.other_restaurant("Autre", "FR", "Europe/Paris");
    let id = app.add_customer("+33612345678", None);

    let (found, body) = app
        .call(
            Method::GET,
            "/customers?phone_number=%2B33612345678",
            &other.token,
            None,
        )
        .await;
    let (patched, _) = app
        .call(
            Method::PATCH,
            &format!("/customers/{id}"),
            &other.token,
            Some(json!({"name": "X"})),
        )
        .await;

    assert_eq!((found, patched), (200, 404));
    assert_eq!(body["data"], json!([]));
}

#[tokio::test]
async fn suppressing_a_customer_over_the_api_skips_their_next_missed_call() {
    let app = spawn_app().await;
    let id = app.add_customer("+33612345678", None);

    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/customers/{id}"),
            &app.restaurant.token,
            Some(json!({"whatsapp_suppressed": true, "name": "Camille"})),
        )
        .await;
    let (_, call) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(status, 200);
    assert_eq!(body["data"]["whatsapp_suppressed"], true);
    assert_eq!(body["data"]["suppression_reason"], "operator");
    assert_eq!(body["data"]["name"], "Camille");
    assert_eq!(call["data"]["outcome"], "SKIPPED_SUPPRESSED");

    let (_, lifted) = app
        .call(
            Method::PATCH,
            &format!("/customers/{id}"),
            &app.restaurant.token,
            Some(json!({"whatsapp_suppressed": false})),
        )
        .await;
    assert_eq!(lifted["data"]["whatsapp_suppressed"], false);
    assert_eq!(lifted["data"]["suppression_reason"], json!(null));
}

#[tokio::test]
async fn a_customer_patch_checks_types_and_null_clears_the_name() {
    let app = spawn_app().await;
    let id = app.add_customer("+33612345678", Some("Camille"));
    let path = format!("/customers/{id}");
    let token = app.restaurant.token.clone();

    let (wrong, body) = app
        .call(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"whatsapp_suppressed": "yes"})),
        )
        .await;
    let (long, _) = app
        .call(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"name": "x".repeat(201)})),
        )
        .await;
    let (cleared, cleared_body) = app
        .call(Method::PATCH, &path, &token, Some(json!({"name": null})))
        .await;

    assert_eq!(wrong, 400);
    assert_eq!(body["error"]["details"]["field"], "whatsapp_suppressed");
    assert_eq!(long, 422);
    assert_eq!(cleared, 200);
    assert_eq!(cleared_body["data"]["name"], Value::Null);
}
