//! SPEC §8 "OpenAPI": the document states every rule a schema can state — the form of a
//! date-time, bounds, required fields — so that what it admits the server reads and what it
//! refuses the server refuses; numbers are integers as JSON Schema counts them; and an error a
//! handler answers is one its operation declares.

use reqwest::Method;
use serde_json::{Value, json};

use crate::connections::{assert_enveloped, raw};
use crate::contract::{BASE, Body, Probe};

/// A date-time in each form the API reads: offset or none, `T`, `t` or a space, a leap second,
/// nine digits of fraction, a comma, `Z` or `z`, a basic offset, white space around it, ISO
/// 8601's basic forms, an hour alone.
const READ: [&str; 9] = [
    "2025-05-10T12:23:00Z",
    "2025-05-10t12:23:00.123456789z",
    "2024-02-29 12:23",
    " 2025-05-10T12:23+0200\t",
    "2025-05-10T12:23:60+02",
    "2025-05-10T12:23:00,5-23:59",
    "2000-01-01T00:00",
    "20250510T122300+020000",
    "2025-05-10T12",
];

/// Dates that do not exist, a date alone, forms mixing basic and extended, years out of range,
/// offsets out of range or with seconds, a time-zone annotation.
const REFUSED: [&str; 10] = [
    "2025-02-29T12:00",
    "2025-04-31T12:00",
    "2025-05-10",
    "2025-05-10T12:2300",
    "1999-12-31T23:59Z",
    "2100-01-01T00:00Z",
    "2025-05-10T12:00+24:00",
    "2025-05-10T12:00+02:00:30",
    "2025-05-10T12:00:00+02:00[Europe/Paris]",
    "2025-05-10 T12:00",
];

/// Creates a reservation, the body checked against the document as it goes.
async fn book(probe: &Probe, booking: Value) -> (u16, Value) {
    let (method, path) = (Method::POST, "/reservations");
    probe.call(method, path, path, Body::Json(booking)).await
}

/// Like `book`, with a body the document must refuse.
async fn book_malformed(probe: &Probe, booking: Value) -> (u16, Value) {
    let (method, path) = (Method::POST, "/reservations");
    probe
        .call_malformed(method, path, path, Body::Json(booking))
        .await
}

#[tokio::test]
async fn a_date_time_the_document_admits_is_read_and_one_it_refuses_is_a_422() {
    let probe = &Probe::start().await;

    for (n, at) in READ.iter().enumerate() {
        let report = json!({"caller_phone_number": "+33612345678",
                            "external_call_id": format!("read-{n}"), "occurred_at": at});
        let (status, body) = probe
            .call(
                Method::POST,
                "/missed-calls",
                "/missed-calls",
                Body::Json(report),
            )
            .await;
        assert_eq!(status, 201, "{at:?}: {body}");
    }
    for at in REFUSED {
        let report = json!({"caller_phone_number": "+33612345678", "occurred_at": at});
        let (status, body) = probe
            .call_malformed(
                Method::POST,
                "/missed-calls",
                "/missed-calls",
                Body::Json(report),
            )
            .await;
        assert_eq!(status, 422, "{at:?}: {body}");
        assert_eq!(body["error"]["details"]["field"], "occurred_at");
    }
    for (n, at) in READ.iter().enumerate() {
        let booking = json!({"start_at": at, "party_size": 2, "external_id": format!("read-{n}")});
        let (status, body) = book(probe, booking).await;
        assert_eq!(status, 201, "{at:?}: {body}");
    }
    for at in REFUSED {
        let booking = json!({"start_at": at, "party_size": 2});
        let (status, _) = book_malformed(probe, booking).await;
        assert_eq!(status, 422, "{at:?}");
    }
}

/// The schema of the query parameter `name` of `GET /reservations`.
fn list_parameter(probe: &Probe, name: &str) -> String {
    let parameters =
        probe.contract.document["paths"][format!("{BASE}/reservations")]["get"]["parameters"]
            .as_array()
            .expect("parameters");
    let n = parameters
        .iter()
        .position(|p| p["name"] == name)
        .expect("the parameter is documented");
    format!("/paths/~1api~1partner~1v1~1reservations/get/parameters/{n}/schema")
}

#[tokio::test]
async fn the_list_s_filters_are_read_exactly_as_the_document_states_them() {
    let probe = &Probe::start().await;
    let cases = [
        ("start_at_from", "2025-05-10 12:00", 200),
        ("start_at_from", "2025-05-10", 422),
        ("start_at_to", "2025-02-29T00:00", 422),
        ("status", "CONFIRMED, ,PENDING_PAYMENT\t", 200),
        ("status", "", 200),
        ("status", "confirmed", 422),
        ("status", "CONFIRMED;PENDING", 422),
    ];

    for (name, value, expected) in cases {
        let admitted = probe
            .contract
            .validate(&list_parameter(probe, name), &json!(value))
            .is_ok();
        let query = format!(
            "/reservations?{name}={}",
            url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
        );
        let (status, body) = probe
            .call(Method::GET, "/reservations", &query, Body::None)
            .await;

        assert_eq!(status, expected, "{name}={value:?}: {body}");
        assert_eq!(
            admitted,
            expected == 200,
            "{name}={value:?}: the document agrees"
        );
    }
}

#[tokio::test]
async fn a_party_size_of_534_0_is_the_integer_534_as_json_schema_counts_it() {
    let probe = &Probe::start().await;
    let booking = json!({"start_at": "2099-07-14T20:30", "party_size": 534.0});

    let (status, body) = book(probe, booking).await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["party_size"], 534);
}

#[tokio::test]
async fn a_new_reservation_s_customer_without_a_phone_number_is_refused_by_the_document_too() {
    let probe = &Probe::start().await;
    let booking = json!({"start_at": "2099-07-14T20:30", "party_size": 2,
                         "customer": {"name": "Camille"}});

    let (status, body) = book_malformed(probe, booking).await;

    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"]["field"], "customer.phone_number");
}

#[tokio::test]
async fn a_cancel_whose_body_stops_arriving_is_a_408_that_its_operation_declares() {
    let probe = &Probe::start_with(|c| c.server.header_timeout_ms = 300).await;
    let booking = json!({"start_at": "2099-07-14T20:30", "party_size": 2});
    let (_, created) = book(probe, booking).await;
    let id = created["data"]["id"].as_str().expect("id");
    let request = format!(
        "POST {BASE}/reservations/{id}/cancel HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"rea",
        probe.app.restaurant.token
    );

    let (status, head, body) = raw(&probe.app.address, request.as_bytes()).await;

    assert_eq!(status, 408, "{body}");
    assert_enveloped(&head, &body, "REQUEST_TIMEOUT");
    let declared: &Value = &probe.contract.document["paths"]
        [format!("{BASE}/reservations/{{id}}/cancel")]["post"]["responses"];
    assert!(declared.get("408").is_some(), "{declared}");
}
