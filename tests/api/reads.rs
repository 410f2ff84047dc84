//! SPEC §2.4 and §2.5: reading a call back, and checking a token.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_call_can_be_read_back_with_its_stored_outcome() {
    let app = spawn_app().await;
    let report = json!({"caller_phone_number": "+33612345678", "external_call_id": "r-1"});
    let (_, created) = app.report_json(report.clone()).await;
    app.report_json(report).await;
    let id = created["data"]["id"].as_str().expect("id");

    let (status, body) = app.get_call(&app.restaurant.token, id).await;

    assert_eq!(status, 200);
    assert_eq!(body["data"], created["data"]);
    assert_eq!(body["data"]["outcome"], "SENT");
}

#[tokio::test]
async fn another_restaurants_call_is_not_found() {
    let app = spawn_app().await;
    let other = app.other_restaurant("Autre", "FR", "Europe/Paris");
    let (_, created) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    let id = created["data"]["id"].as_str().expect("id");

    let (status, body) = app.get_call(&other.token, id).await;

    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn me_describes_the_tokens_restaurant_and_features() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(format!("{}/api/partner/v1/me", app.address))
        .bearer_auth(&app.restaurant.token)
        .send()
        .await
        .expect("request");

    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    let data = &body["data"];
    assert_eq!(data["restaurant"]["id"], app.restaurant.id.as_str());
    assert_eq!(data["restaurant"]["name"], "Chez Test");
    assert_eq!(data["restaurant"]["country"], "FR");
    assert_eq!(data["restaurant"]["timezone"], "Europe/Paris");
    assert_eq!(data["token"]["name"], "pbx");
    assert!(
        data["token"]["id"]
            .as_str()
            .unwrap_or_default()
            .starts_with("tok_")
    );
    assert_eq!(
        data["features"],
        json!({"missed_calls": true, "whatsapp": true})
    );
}

#[tokio::test]
async fn an_id_that_does_not_decode_is_not_found_with_the_envelope() {
    let app = spawn_app().await;

    let (status, body) = app.get_call(&app.restaurant.token, "%FF%FE").await;

    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}
