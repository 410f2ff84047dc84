//! SPEC §8 "OpenAPI", the requests: the contract tests check every body they send against the
//! operation's request schema, and a body the handlers accept is one the document admits.

use reqwest::Method;
use serde_json::json;

use crate::contract::{Body, Probe};

#[tokio::test]
#[should_panic(expected = "the request body does not match")]
async fn a_request_body_its_schema_does_not_admit_fails_the_check() {
    let probe = &Probe::start().await;

    probe
        .call(
            Method::POST,
            "/missed-calls",
            "/missed-calls",
            Body::Json(json!({"caller_phone_number": 612345678})),
        )
        .await;
}

#[tokio::test]
#[should_panic(expected = "the document admits this body")]
async fn a_body_sent_as_malformed_that_the_document_admits_fails_the_check() {
    let probe = &Probe::start().await;

    probe
        .call_malformed(
            Method::POST,
            "/missed-calls",
            "/missed-calls",
            Body::Json(json!({"caller_phone_number": "+33612345678"})),
        )
        .await;
}

#[tokio::test]
#[should_panic(expected = "a raw body cannot be checked")]
async fn a_raw_body_must_be_sent_as_malformed() {
    let probe = &Probe::start().await;

    probe
        .call(
            Method::POST,
            "/missed-calls",
            "/missed-calls",
            Body::Raw("application/json", "{}".into()),
        )
        .await;
}

#[tokio::test]
async fn a_caller_number_within_40_characters_once_trimmed_is_accepted_and_admitted() {
    let probe = &Probe::start().await;
    // 50 characters as sent; 12 once the spaces around it are trimmed, as the handler does.
    let padded = format!("  +33612345678{}", " ".repeat(36));
    assert_eq!(padded.chars().count(), 50);

    let (status, body) = probe
        .call(
            Method::POST,
            "/missed-calls",
            "/missed-calls",
            Body::Json(json!({"caller_phone_number": padded})),
        )
        .await;

    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SENT"))
    );
    let (status, _) = probe
        .call_malformed(
            Method::POST,
            "/missed-calls",
            "/missed-calls",
            Body::Json(json!({"caller_phone_number": format!("  {}  ", "1".repeat(41))})),
        )
        .await;
    assert_eq!(status, 422, "41 characters once trimmed are too many");
}

#[tokio::test]
async fn a_name_within_200_characters_once_trimmed_is_accepted_and_admitted() {
    let probe = &Probe::start().await;
    // 220 characters as sent, 200 once trimmed: every name field trims before it counts.
    let name = format!("{}{}{}", " ".repeat(10), "C".repeat(200), " ".repeat(10));
    let booking = json!({
        "customer": {"name": name, "phone_number": "06 12 34 56 78"},
        "start_at": "2099-07-14T20:30",
        "party_size": 2,
    });

    let (status, body) = probe
        .call(
            Method::POST,
            "/reservations",
            "/reservations",
            Body::Json(booking),
        )
        .await;

    assert_eq!(status, 201, "{body}");
    let reservation = format!("/reservations/{}", body["data"]["id"].as_str().expect("id"));
    let customer = format!(
        "/customers/{}",
        body["data"]["customer"]["id"].as_str().expect("customer")
    );
    let (status, body) = probe
        .call(
            Method::PATCH,
            "/reservations/{id}",
            &reservation,
            Body::Json(json!({"customer": {"name": name}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = probe
        .call(
            Method::PATCH,
            "/customers/{id}",
            &customer,
            Body::Json(json!({"name": name})),
        )
        .await;
    assert_eq!(
        (status, body["data"]["name"].as_str().map(str::len)),
        (200, Some(200))
    );
}
