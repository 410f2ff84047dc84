//! SPEC §8 health, readiness, metrics and the per-token rate limit, against the real server.

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::contract::Contract;
use crate::disk::SmallDisk;
use crate::helpers::*;

async fn get(app: &TestApp, path: &str) -> (u16, String) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Asks `path` until it answers `status` (a readiness answer is reused for a second, so a
/// change shows within about that); returns the body.
async fn until_status(app: &TestApp, path: &str, status: u16) -> Value {
    for _ in 0..200 {
        let (got, body) = get(app, path).await;
        if got == status {
            return json_of(&body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{path} never answered {status}");
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("json")
}

/// The value of one sample line of the exposition (`name{labels} value`), if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let app = spawn_app().await;

    let (status, body) = get(&app, "/healthz").await;

    assert_eq!(status, 200);
    assert_eq!(json_of(&body), json!({"status": "ok"}));
}

#[tokio::test]
async fn readyz_is_ready_when_the_database_reads_the_schema_is_current_and_the_writer_commits() {
    let app = spawn_app().await;

    let (status, body) = get(&app, "/readyz").await;

    assert_eq!(status, 200, "{body}");
    let body = json_of(&body);
    assert_eq!(body["status"], "ready");
    for check in ["database", "migrations", "writer"] {
        assert_eq!(body["checks"][check]["status"], "ok", "{body}");
    }
    let ledger: i64 = app
        .db()
        .query_row("SELECT count(*) FROM calls", [], |r| r.get(0))
        .expect("count");
    assert_eq!(ledger, 0, "readiness never touches the ledger");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_naming_the_writer_when_it_cannot_commit_within_a_second() {
    let app = spawn_app().await;
    let release = hold_writer(&app.writer);

    let (status, body) = get(&app, "/readyz").await;
    drop(release);

    assert_eq!(status, 503, "{body}");
    let body = json_of(&body);
    assert_eq!(body["failing"], json!(["writer"]), "{body}");
    assert_eq!(body["checks"]["database"]["status"], "ok");
    until_status(&app, "/readyz", 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_a_full_disk_stops_every_commit_and_ready_again_once_space_returns() {
    let disk = SmallDisk::mount("2m");
    let app = spawn_app_with(|c| c.database.path = disk.path("ringback.db")).await;
    assert_eq!(get(&app, "/readyz").await.0, 200);

    disk.fill();
    // Reports fill what room the database had left, until one cannot be stored.
    let mut n = 0u32;
    loop {
        n += 1;
        let body = json!({"caller_phone_number": format!("+336{:08}", 10_000_000 + n)});
        let (status, _) = app.report_json(body).await;
        if status == 503 {
            break;
        }
        assert!(n < 20_000, "the disk never filled");
    }
    let refused = until_status(&app, "/readyz", 503).await;
    disk.free();

    assert_eq!(refused["failing"], json!(["writer"]), "{refused}");
    until_status(&app, "/readyz", 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_readiness_checks_costs_the_writer_one_probe_not_one_each() {
    // Retention off: its start-up jobs would be counted with the probes. One client opens 100
    // connections at once, as a monitoring proxy would: no per-address cap.
    let app = spawn_app_with(|c| {
        c.missed_calls.retention_days = 0;
        c.server.max_connections_per_address = 0;
    })
    .await;
    let before = app.writer.stats().queued.load(Ordering::SeqCst);
    let started = std::time::Instant::now();

    let checks: Vec<_> = (0..100)
        .map(|_| {
            let (client, url) = (app.client.clone(), format!("{}/readyz", app.address));
            tokio::spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    for check in checks {
        assert_eq!(check.await.expect("join").expect("request"), 200);
    }

    let probes = app.writer.stats().queued.load(Ordering::SeqCst) - before;
    // One probe a second at most, however long a slow machine takes to answer the hundred.
    let seconds = started.elapsed().as_secs() + 2;
    assert!(
        probes <= seconds,
        "{probes} writer jobs for 100 readiness checks in under {seconds} s"
    );
}

#[tokio::test]
async fn metrics_count_real_reports_by_outcome_and_requests_by_route_template() {
    let app = spawn_app().await;
    let body = json!({"caller_phone_number": "+33612345678", "external_call_id": "pbx-1"});
    let (status, first) = app.report_json(body.clone()).await;
    assert_eq!(status, 201);
    assert_eq!(app.report_json(body).await.0, 201);
    let id = first["data"]["id"].as_str().expect("id");
    let lookup = app
        .call(
            reqwest::Method::GET,
            &format!("/missed-calls/{id}"),
            &app.restaurant.token,
            None,
        )
        .await;
    assert_eq!(lookup.0, 200);

    let (status, text) = get(&app, "/metrics").await;

    assert_eq!(status, 200);
    assert_eq!(
        sample(&text, r#"ringback_reports_total{outcome="SENT"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"ringback_reports_total{outcome="SKIPPED_DUPLICATE"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"ringback_http_requests_total{route="/api/partner/v1/missed-calls",status="201"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"ringback_http_requests_total{route="/api/partner/v1/missed-calls/{id}",status="200"}"#
        ),
        Some(1.0),
        "the route template, not the raw path: {text}"
    );
    assert_eq!(
        sample(&text, r#"ringback_dispatch_seconds_count{result="sent"}"#),
        Some(1.0)
    );
    assert!(sample(&text, "ringback_write_batch_size_count").is_some_and(|n| n >= 1.0));
    assert_eq!(sample(&text, "ringback_write_queue_depth"), Some(0.0));
    assert_eq!(sample(&text, "ringback_whatsapp_inflight"), Some(0.0));
    assert!(text.contains("ringback_http_request_seconds_bucket{route="));
    for private in [
        "+33612345678",
        "33612345678",
        &app.restaurant.token,
        "Chez Test",
        id,
    ] {
        assert!(!text.contains(private), "{private} leaked into the metrics");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_inflight_counts_a_send_waiting_on_whatsapp() {
    let app = spawn_app().await;
    app.whatsapp.set(Behaviour::Hold);
    let report = app.report_in_background(json!({"caller_phone_number": "+33612345678"}));
    app.whatsapp.wait_for_requests(1).await;

    let (_, during) = get(&app, "/metrics").await;
    app.whatsapp.release();
    let (status, _) = report.await.expect("join");

    assert_eq!(status, 201);
    assert_eq!(sample(&during, "ringback_whatsapp_inflight"), Some(1.0));
    let (_, after) = get(&app, "/metrics").await;
    assert_eq!(sample(&after, "ringback_whatsapp_inflight"), Some(0.0));
}

#[tokio::test]
async fn metrics_are_not_served_when_turned_off() {
    let app = spawn_app_with(|c| c.server.metrics = false).await;

    let (status, body) = get(&app, "/metrics").await;

    assert_eq!(status, 404);
    assert_eq!(json_of(&body)["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_token_over_its_rate_limit_gets_429_with_retry_after_and_nothing_is_recorded() {
    let app = spawn_app_with(|c| c.server.rate_limit_per_minute = 3).await;
    let other = {
        let conn = app.db();
        seed_restaurant(&conn, "Other", "FR", "Europe/Paris")
    };
    let body = json!({"caller_phone_number": "+33612345678", "external_call_id": "pbx-7"});
    // A replay counts like any request.
    for _ in 0..3 {
        assert_eq!(app.report_json(body.clone()).await.0, 201);
    }

    let response = app
        .report(json!({"caller_phone_number": "+33698765432", "external_call_id": "pbx-8"}))
        .await;

    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert!(response.headers().contains_key("x-request-id"));
    let contract = Contract::fetch(&app).await;
    let (_, body) = contract
        .check(
            reqwest::Method::POST,
            "/api/partner/v1/missed-calls",
            response,
        )
        .await;
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    let rows: i64 = app
        .db()
        .query_row("SELECT count(*) FROM calls", [], |r| r.get(0))
        .expect("count");
    assert_eq!(rows, 1, "the refused report left no row");
    let other_report = app
        .report_as(&other.token, json!({"caller_phone_number": "+33698765432"}))
        .await;
    assert_eq!(
        other_report.status().as_u16(),
        201,
        "another token has its own bucket"
    );
}
