//! SPEC §8 "OpenAPI": the document is served without a token, lists every partner route, and
//! every partner endpoint's real answers — successes and errors — match what it declares.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::contract::{BASE, Body, Contract, OPENAPI_PATH, Probe, send_unchecked};
use crate::helpers::*;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_token() {
    let app = spawn_app().await;

    let response = send_unchecked(&app, Method::GET, "/openapi.json", None, Body::None).await;

    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers().get("content-type").cloned();
    assert_eq!(content_type.expect("content type"), "application/json");
    let contract = Contract::new(response.json().await.expect("json"));
    let doc = &contract.document;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "ringback partner API");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let again = send_unchecked(&app, Method::GET, "/openapi.json", None, Body::None).await;
    contract.check(Method::GET, OPENAPI_PATH, again).await;
}

/// The partner paths of the one route table (`app/route_table.rs`), read from its source.
fn routed_paths() -> BTreeSet<String> {
    include_str!("../../src/app/route_table.rs")
        .split('"')
        .filter(|s| s.starts_with(BASE))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_openapi_document_lists_every_partner_route_and_only_those() {
    let probe = &Probe::start().await;
    let documented: BTreeSet<(String, String)> = probe.contract.operations().into_iter().collect();
    let paths: BTreeSet<String> = documented.iter().map(|(_, p)| p.clone()).collect();
    assert_eq!(paths, routed_paths());

    // Which methods each path is routed for, as the running router says: a routed method
    // refuses a request without a token (401; the document itself is served), any other is
    // answered 405 by the fallback.
    let mut routed = BTreeSet::new();
    for path in routed_paths() {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let concrete = path.trim_start_matches(BASE).replace("{id}", "x_1");
            let response =
                send_unchecked(&probe.app, method.clone(), &concrete, None, Body::None).await;
            match response.status().as_u16() {
                405 => {}
                status => {
                    let wanted = if path == OPENAPI_PATH { 200 } else { 401 };
                    assert_eq!(status, wanted, "{method} {path}");
                    routed.insert((method.as_str().to_ascii_lowercase(), path.clone()));
                }
            }
        }
    }
    assert_eq!(documented, routed);
}

#[tokio::test]
#[should_panic(expected = "which the document does not declare for it")]
async fn a_status_the_operation_does_not_declare_fails_the_check() {
    let probe = &Probe::start().await;
    // A real 404, checked as an answer of GET /me, which declares no 404.
    let response = send_unchecked(
        &probe.app,
        Method::GET,
        "/missed-calls/call_nope",
        Some(&probe.app.restaurant.token),
        Body::None,
    )
    .await;
    assert_eq!(response.status().as_u16(), 404);

    probe
        .contract
        .check(Method::GET, &format!("{BASE}/me"), response)
        .await;
}

#[tokio::test]
#[should_panic(expected = "the body does not match")]
async fn a_body_its_schema_does_not_admit_fails_the_check() {
    let probe = &Probe::start().await;
    // A real 200 of GET /me, checked as an answer of GET /reservations/{id}.
    let response = send_unchecked(
        &probe.app,
        Method::GET,
        "/me",
        Some(&probe.app.restaurant.token),
        Body::None,
    )
    .await;

    probe
        .contract
        .check(
            Method::GET,
            &format!("{BASE}/reservations/{{id}}"),
            response,
        )
        .await;
}

#[tokio::test]
async fn every_missed_call_report_answer_matches_the_openapi_document() {
    let probe = &Probe::start().await;
    let app = &probe.app;
    let report = |body: Value| Body::Json(body);
    let post = |body: Body| probe.call(Method::POST, "/missed-calls", "/missed-calls", body);
    let malformed =
        |body: Body| probe.call_malformed(Method::POST, "/missed-calls", "/missed-calls", body);

    let sent = json!({"caller_phone_number": "+33612345678", "external_call_id": "oa-1"});
    let (status, body) = post(report(sent.clone())).await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SENT"))
    );
    let (status, body) = post(report(sent)).await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SKIPPED_DUPLICATE"))
    );
    let (_, body) = post(report(json!({"caller_phone_number": "anonymous"}))).await;
    assert_eq!(body["data"]["outcome"], "SKIPPED_HIDDEN_NUMBER");

    app.whatsapp.fail_with(400, 131026);
    let (_, body) = post(report(json!({"caller_phone_number": "+33612345670"}))).await;
    assert_eq!(body["data"]["outcome"], "UNDELIVERABLE");
    app.whatsapp.fail_with(500, 2);
    let (status, body) = post(report(json!({"caller_phone_number": "+33612345671"}))).await;
    assert_eq!((status, code(&body)), (502, "WHATSAPP_DISPATCH_FAILED"));

    app.whatsapp.set(Behaviour::Hold);
    let held = json!({"caller_phone_number": "+33612345672", "external_call_id": "oa-held"});
    let operation = format!("{BASE}/missed-calls");
    // Sent by hand, to be in flight while the replay is answered.
    probe
        .contract
        .check_request(&Method::POST, &operation, &Body::Json(held.clone()));
    let first = {
        let (client, token) = (app.client.clone(), app.restaurant.token.clone());
        let url = format!("{}{BASE}/missed-calls", app.address);
        let held = held.clone();
        tokio::spawn(async move { client.post(url).bearer_auth(token).json(&held).send().await })
    };
    app.whatsapp
        .wait_for_requests(app.whatsapp.requests().len() + 1)
        .await;
    let (status, body) = post(report(held)).await;
    assert_eq!((status, code(&body)), (409, "CALL_IN_PROGRESS"));
    app.whatsapp.release();
    let first = first.await.expect("join").expect("first report");
    probe.contract.check(Method::POST, &operation, first).await;

    let (status, _) = malformed(report(json!([1]))).await;
    assert_eq!(status, 400);
    let (status, _) = malformed(report(json!({"caller_phone_number": 612345678}))).await;
    assert_eq!(status, 400);
    let (status, _) = malformed(report(json!({"caller_phone_number": "12"}))).await;
    assert_eq!(status, 422);
    let (status, _) = malformed(report(
        json!({"caller_phone_number": "+33612345673", "external_call_id": ""}),
    ))
    .await;
    assert_eq!(status, 422);
    let (status, body) = post(report(
        json!({"caller_phone_number": "+33699999999", "external_call_id": "oa-1"}),
    ))
    .await;
    assert_eq!((status, code(&body)), (422, "EXTERNAL_CALL_ID_REUSED"));
    let (status, _) = malformed(Body::Raw("text/plain", "{}".into())).await;
    assert_eq!(status, 415);
    let (status, _) = malformed(Body::Raw(
        "application/json",
        format!("\"{}\"", "x".repeat(20_000)),
    ))
    .await;
    assert_eq!(status, 413);
    let (status, _) = probe
        .call_as(
            None,
            Method::POST,
            "/missed-calls",
            "/missed-calls",
            report(json!({"caller_phone_number": "+33612345674"})),
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn reading_a_call_and_the_token_answers_as_the_openapi_document_says() {
    let probe = &Probe::start().await;
    probe.app.whatsapp.fail_with(400, 131026);
    let (_, body) = probe
        .app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    let id = body["data"]["id"].as_str().expect("id").to_string();

    let (status, body) = probe
        .call(
            Method::GET,
            "/missed-calls/{id}",
            &format!("/missed-calls/{id}"),
            Body::None,
        )
        .await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (200, Some("UNDELIVERABLE"))
    );
    let (status, _) = probe
        .call(
            Method::GET,
            "/missed-calls/{id}",
            "/missed-calls/call_nope",
            Body::None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = probe
        .call_as(
            Some("rbk_nope"),
            Method::GET,
            "/missed-calls/{id}",
            &format!("/missed-calls/{id}"),
            Body::None,
        )
        .await;
    assert_eq!(status, 401);

    let (status, body) = probe.call(Method::GET, "/me", "/me", Body::None).await;
    assert_eq!(
        (status, body["data"]["features"]["whatsapp"].as_bool()),
        (200, Some(true))
    );
    let (status, _) = probe
        .call_as(None, Method::GET, "/me", "/me", Body::None)
        .await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_write_queue_answers_503_service_busy_as_the_openapi_document_says() {
    // No retention run at start-up: its writer job would take a place in the queue.
    let probe = &Probe::start_with(|c| {
        c.database.max_pending_writes = 2;
        c.missed_calls.retention_days = 0;
    })
    .await;
    let app = &probe.app;
    let operation = format!("{BASE}/missed-calls");
    let since = queued(&app.writer);
    let release = hold_writer(&app.writer);
    let waiting: Vec<_> = (0..2)
        .map(|i| {
            let body = json!({"caller_phone_number": format!("+3361234567{i}"), "external_call_id": format!("queued-{i}")});
            probe
                .contract
                .check_request(&Method::POST, &operation, &Body::Json(body.clone()));
            let (address, token) = (app.address.clone(), app.restaurant.token.clone());
            tokio::spawn(async move { post_json(&address, &token, &body).await })
        })
        .collect();
    until_queued(&app.writer, since, 1 + 2).await;

    let busy = json!({"caller_phone_number": "+33612345679", "external_call_id": "busy"});
    let (status, body) = probe
        .call(
            Method::POST,
            "/missed-calls",
            "/missed-calls",
            Body::Json(busy),
        )
        .await;
    drop(release);
    for job in waiting {
        assert_eq!(job.await.expect("join").0, 201);
    }

    assert_eq!((status, code(&body)), (503, "SERVICE_BUSY"));
    assert_eq!(
        app.ledger_rows(),
        2,
        "nothing was recorded for the refused report"
    );
}
