//! SPEC §8 "OpenAPI", for the endpoints of SPEC §7: every reservation and customer answer —
//! successes and errors — matches what the document declares for it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::contract::{Body, Probe};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn every_reservation_write_answer_matches_the_openapi_document() {
    let probe = &Probe::start().await;
    let create = |body: Body| probe.call(Method::POST, "/reservations", "/reservations", body);
    let malformed =
        |body: Body| probe.call_malformed(Method::POST, "/reservations", "/reservations", body);
    let booking = json!({
        "customer": {"name": "Camille", "phone_number": "06 12 34 56 78"},
        "start_at": "2099-07-14T20:30",
        "party_size": 4,
        "source": "PHONE",
        "external_id": "oa-bk-1",
    });

    let (status, body) = create(Body::Json(booking.clone())).await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().expect("id").to_string();
    let (status, body) = create(Body::Json(
        json!({"customer": null, "start_at": "2099-07-15T12:00:00Z", "party_size": 2}),
    ))
    .await;
    assert_eq!((status, &body["data"]["customer"]), (201, &Value::Null));
    let (status, body) = create(Body::Json(booking)).await;
    assert_eq!((status, code(&body)), (409, "CONFLICT"));
    let (status, _) = malformed(Body::Json(
        json!({"start_at": "2099-07-14T20:30", "party_size": "four"}),
    ))
    .await;
    assert_eq!(status, 400);
    let (status, _) = malformed(Body::Json(
        json!({"start_at": "2099-07-14T20:30", "party_size": 0}),
    ))
    .await;
    assert_eq!(status, 422);
    let (status, _) = malformed(Body::Json(
        json!({"start_at": "2099-07-14T20:30", "party_size": 2, "source": "FAX"}),
    ))
    .await;
    assert_eq!(status, 422);
    let (status, _) = malformed(Body::Raw("text/plain", "{}".into())).await;
    assert_eq!(status, 415);
    let (status, _) = probe
        .call_as(
            None,
            Method::POST,
            "/reservations",
            "/reservations",
            Body::Json(json!({"start_at": "2099-07-14T20:30", "party_size": 2})),
        )
        .await;
    assert_eq!(status, 401);

    let one = format!("/reservations/{id}");
    let patch = |path: &str, body: Value| {
        let path = path.to_string();
        async move {
            probe
                .call(Method::PATCH, "/reservations/{id}", &path, Body::Json(body))
                .await
        }
    };
    let patch_malformed = |body: Value| {
        let path = one.clone();
        async move {
            probe
                .call_malformed(Method::PATCH, "/reservations/{id}", &path, Body::Json(body))
                .await
        }
    };
    let (status, body) = patch(&one, json!({"party_size": 3, "customer": null})).await;
    assert_eq!((status, &body["data"]["customer"]), (200, &Value::Null));
    let (status, _) = patch(&one, json!({"customer": {"id": "cus_nope"}})).await;
    assert_eq!(status, 404);
    let (status, _) = patch("/reservations/res_nope", json!({"party_size": 3})).await;
    assert_eq!(status, 404);
    let (status, _) = patch_malformed(json!({"status": "NOPE"})).await;
    assert_eq!(status, 422);
    let (status, _) = patch_malformed(json!({"party_size": "x"})).await;
    assert_eq!(status, 400);
    let (status, _) = patch_malformed(json!({"customer": {"id": null}})).await;
    assert_eq!(status, 400);

    let cancel = "/reservations/{id}/cancel";
    let (status, body) = probe
        .call(Method::POST, cancel, &format!("{one}/cancel"), Body::None)
        .await;
    assert_eq!(
        (status, body["data"]["status"].as_str()),
        (200, Some("CANCELED"))
    );
    let (status, _) = probe
        .call(
            Method::POST,
            cancel,
            &format!("{one}/cancel"),
            Body::Json(json!({"reason": "rain"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = probe
        .call_malformed(
            Method::POST,
            cancel,
            &format!("{one}/cancel"),
            Body::Json(json!({"reason": ""})),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = probe
        .call_malformed(
            Method::POST,
            cancel,
            &format!("{one}/cancel"),
            Body::Raw("text/plain", "x".into()),
        )
        .await;
    assert_eq!(status, 415);
    let (status, _) = probe
        .call(
            Method::POST,
            cancel,
            "/reservations/res_nope/cancel",
            Body::None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn every_reservation_read_answer_matches_the_openapi_document() {
    let probe = &Probe::start().await;
    for (n, start_at) in ["2099-07-14T20:30", "2099-07-15T20:30"]
        .into_iter()
        .enumerate()
    {
        let body = json!({"start_at": start_at, "party_size": 2, "external_id": format!("r{n}")});
        let (status, _) = probe
            .call(
                Method::POST,
                "/reservations",
                "/reservations",
                Body::Json(body),
            )
            .await;
        assert_eq!(status, 201);
    }
    let list = |query: &str| {
        let path = format!("/reservations{query}");
        async move {
            probe
                .call(Method::GET, "/reservations", &path, Body::None)
                .await
        }
    };

    let (status, first) = list("?limit=1").await;
    assert_eq!(status, 200);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, last) = list(&format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(last["next_cursor"], Value::Null);
    let (status, _) = list("?limit=many").await;
    assert_eq!(status, 400);
    let (status, _) = list("?limit=0").await;
    assert_eq!(status, 422);

    let id = first["data"][0]["id"].as_str().expect("id");
    let (status, _) = probe
        .call(
            Method::GET,
            "/reservations/{id}",
            &format!("/reservations/{id}"),
            Body::None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = probe
        .call(
            Method::GET,
            "/reservations/{id}",
            "/reservations/res_nope",
            Body::None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = probe
        .call_as(
            None,
            Method::GET,
            "/reservations",
            "/reservations",
            Body::None,
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn every_customer_answer_matches_the_openapi_document() {
    let probe = &Probe::start().await;
    let id = probe.app.add_customer("+33612345678", Some("Camille"));
    let find = |query: &str| {
        let path = format!("/customers{query}");
        async move {
            probe
                .call(Method::GET, "/customers", &path, Body::None)
                .await
        }
    };

    let (status, body) = find("?phone_number=%2B33612345678").await;
    assert_eq!((status, &body["data"][0]["id"]), (200, &json!(id)));
    let (_, body) = find("?phone_number=0699999999").await;
    assert_eq!(body["data"], json!([]));
    let (status, _) = find("").await;
    assert_eq!(status, 400);
    let (status, _) = find("?phone_number=abc").await;
    assert_eq!(status, 422);

    let patch = |path: String, body: Value| async move {
        probe
            .call(Method::PATCH, "/customers/{id}", &path, Body::Json(body))
            .await
    };
    let one = format!("/customers/{id}");
    let patch_malformed = |body: Value| {
        let path = one.clone();
        async move {
            probe
                .call_malformed(Method::PATCH, "/customers/{id}", &path, Body::Json(body))
                .await
        }
    };
    let (status, body) = patch(
        one.clone(),
        json!({"name": null, "whatsapp_suppressed": true}),
    )
    .await;
    assert_eq!((status, &body["data"]["name"]), (200, &Value::Null));
    let (status, _) = patch_malformed(json!({"whatsapp_suppressed": "yes"})).await;
    assert_eq!(status, 400);
    let (status, _) = patch_malformed(json!({"name": "x".repeat(201)})).await;
    assert_eq!(status, 422);
    let (status, _) = patch("/customers/cus_nope".into(), json!({"name": "X"})).await;
    assert_eq!(status, 404);
    let (status, _) = probe
        .call_as(
            None,
            Method::PATCH,
            "/customers/{id}",
            &one,
            Body::Json(json!({})),
        )
        .await;
    assert_eq!(status, 401);
}
