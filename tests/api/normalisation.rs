//! SPEC §4.2 and §2.2: caller numbers read with the restaurant's country, and occurred_at.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn french_national_formats_normalise_to_e164_for_a_french_restaurant() {
    let app = spawn_app_with(|c| c.missed_calls.cooldown_minutes = 0).await;
    for raw in [
        "06 12 34 56 78",
        "0612345678",
        "+33 6 12 34 56 78",
        "0033612345678",
        "+33612345678",
    ] {
        let (status, body) = app.report_json(json!({"caller_phone_number": raw})).await;
        assert_eq!(status, 201, "{raw}: {body}");
        assert_eq!(body["data"]["caller_phone_number"], "+33612345678", "{raw}");
    }
    let customers: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM customers", [], |r| r.get(0))
        .expect("count");
    assert_eq!(customers, 1);
}

#[tokio::test]
async fn us_national_formats_normalise_to_e164_for_a_us_restaurant() {
    let app = spawn_app_with(|c| c.missed_calls.cooldown_minutes = 0).await;
    let diner = app.other_restaurant("Diner", "US", "America/New_York");
    for raw in [
        "(201) 555-0123",
        "201-555-0123",
        "+1 201 555 0123",
        "0012015550123",
    ] {
        let response = app
            .report_as(&diner.token, json!({"caller_phone_number": raw}))
            .await;
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(
            body["data"]["caller_phone_number"], "+12015550123",
            "{raw}: {body}"
        );
    }
}

#[tokio::test]
async fn a_number_that_is_not_valid_for_the_restaurants_country_is_422() {
    let app = spawn_app().await;
    for raw in ["12345", "06 12", "not a number", "+33 1"] {
        let (status, body) = app.report_json(json!({"caller_phone_number": raw})).await;
        assert_eq!(status, 422, "{raw}");
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(body["error"]["details"]["field"], "caller_phone_number");
    }
    assert_eq!(app.ledger_rows(), 0);
}

#[tokio::test]
async fn occurred_at_without_an_offset_is_read_as_restaurant_time() {
    let app = spawn_app().await;
    let paris = jiff::tz::TimeZone::get("Europe/Paris").expect("tz");
    let instant = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_mins(90))
        .expect("time");
    let local = instant
        .to_zoned(paris)
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string();

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "occurred_at": local}))
        .await;

    let expected = jiff::Timestamp::from_second(instant.as_second())
        .expect("ts")
        .strftime("%Y-%m-%dT%H:%M:%S.000Z")
        .to_string();
    assert_eq!(body["data"]["occurred_at"], expected);
}

#[tokio::test]
async fn occurred_at_with_an_offset_is_that_instant() {
    let app = spawn_app().await;

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "anonymous",
                            "occurred_at": "2026-11-25T08:00:00.5+05:00"}))
        .await;

    assert_eq!(body["data"]["occurred_at"], "2026-11-25T03:00:00.500Z");
}

#[tokio::test]
async fn occurred_at_defaults_to_the_time_the_request_arrived() {
    let app = spawn_app().await;
    let before = jiff::Timestamp::now();

    let (_, body) = app
        .report_json(json!({"caller_phone_number": "anonymous"}))
        .await;

    let at: jiff::Timestamp = body["data"]["occurred_at"]
        .as_str()
        .expect("str")
        .parse()
        .expect("rfc3339");
    assert!(
        at >= before
            .checked_sub(jiff::SignedDuration::from_millis(1))
            .expect("t")
    );
    assert_eq!(body["data"]["occurred_at"], body["data"]["created_at"]);
}

#[tokio::test]
async fn occurred_at_more_than_the_allowed_skew_in_the_future_is_422() {
    let app = spawn_app().await;

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678",
                            "occurred_at": minutes_from_now(6)}))
        .await;

    assert_eq!(status, 422);
    assert_eq!(body["error"]["details"]["field"], "occurred_at");
}

#[tokio::test]
async fn occurred_at_slightly_in_the_future_is_accepted() {
    let app = spawn_app().await;

    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33612345678",
                            "occurred_at": minutes_from_now(4)}))
        .await;

    assert_eq!(status, 201);
}

#[tokio::test]
async fn an_unparseable_occurred_at_is_422() {
    let app = spawn_app().await;

    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "occurred_at": "yesterday"}))
        .await;

    assert_eq!(status, 422);
    assert_eq!(body["error"]["details"]["field"], "occurred_at");
}
