//! A missed-call report's token is remembered once seen live, and checked again in the claim's
//! own transaction (SPEC §2.1): revocation and the restaurant's changes hold from the next report.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use ringback::db::restaurants::RestaurantChanges;

fn token_id(app: &TestApp) -> String {
    app.db()
        .query_row(
            "SELECT id FROM partner_tokens WHERE restaurant_id = ?1",
            [&app.restaurant.id],
            |row| row.get(0),
        )
        .expect("the restaurant's token")
}

fn revoke(app: &TestApp) {
    ringback::cli::tokens::revoke_token(&app.db(), &token_id(app)).expect("revoke");
}

#[tokio::test]
async fn a_token_revoked_after_it_reported_a_call_is_refused_at_its_next_report_and_nothing_is_stored()
 {
    let app = spawn_app().await;
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "c-1"}))
        .await;
    assert_eq!(status, 201);

    revoke(&app);
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33698765432", "external_call_id": "c-2"}))
        .await;

    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    assert_eq!(app.ledger_rows(), 1, "the refused report stored no call");
    assert_eq!(
        app.whatsapp.requests().len(),
        1,
        "one message, for the first call"
    );
    // A replay of the first call is refused too: the token no longer reads anything.
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "c-1"}))
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_token_revoked_after_its_first_use_hears_401_whatever_else_its_request_gets_wrong() {
    let app = spawn_app().await;
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    assert_eq!(status, 201);
    revoke(&app);

    let bodies: Vec<Value> = vec![
        json!({"caller_phone_number": "not a number"}),
        json!({"caller_phone_number": "+33612345678", "occurred_at": "yesterday"}),
        json!({"external_call_id": "c-3"}),
        json!([1, 2, 3]),
    ];
    for body in bodies {
        let (status, answer) = app.report_json(body.clone()).await;
        assert_eq!(status, 401, "{body} → {answer}");
        assert_eq!(answer["error"]["code"], "UNAUTHORIZED");
    }
    // Its own error still reaches a live token.
    let other = app.other_restaurant("Chez Autre", "FR", "Europe/Paris");
    let response = app
        .report_as(&other.token, json!({"caller_phone_number": "not a number"}))
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert_eq!(app.ledger_rows(), 1);
}

#[tokio::test]
async fn a_restaurant_whose_country_changed_after_its_token_was_used_reads_the_next_caller_with_the_new_country()
 {
    let app = spawn_app().await;
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "06 12 34 56 78"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["caller_phone_number"], "+33612345678");

    app.update_restaurant(RestaurantChanges {
        country: Some("GB".into()),
        timezone: Some("Europe/London".into()),
        ..Default::default()
    });
    // A British national number: not one in France.
    let (status, body) = app
        .report_json(
            json!({"caller_phone_number": "07911 123456", "occurred_at": "2026-12-07T12:30:00"}),
        )
        .await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["caller_phone_number"], "+447911123456");
    // The local time is London's now: 12:30 there is 12:30 UTC in December, not 11:30.
    let occurred_at: i64 = app
        .db()
        .query_row(
            "SELECT occurred_at FROM calls WHERE caller_e164 = '+447911123456'",
            [],
            |row| row.get(0),
        )
        .expect("the call");
    assert_eq!(occurred_at, 1_796_646_600_000);
}

#[tokio::test]
async fn a_restaurant_whose_zone_changed_after_its_token_was_used_reads_the_next_local_time_in_the_new_zone()
 {
    let app = spawn_app().await;
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    assert_eq!(status, 201);

    app.update_restaurant(RestaurantChanges {
        timezone: Some("America/Martinique".into()),
        ..Default::default()
    });
    let (status, body) = app
        .report_json(
            json!({"caller_phone_number": "+33698765432", "occurred_at": "2026-12-07T12:30:00"}),
        )
        .await;

    assert_eq!(status, 201, "{body}");
    // 12:30 in Martinique (UTC−4) is 16:30 UTC; in Paris it would have been 11:30 UTC.
    let occurred_at: i64 = app
        .db()
        .query_row(
            "SELECT occurred_at FROM calls WHERE caller_e164 = '+33698765432'",
            [],
            |row| row.get(0),
        )
        .expect("the call");
    assert_eq!(occurred_at, 1_796_661_000_000);
    assert_eq!(app.ledger_rows(), 2, "the stale reading stored nothing");
}
