//! The HTTP layer alone: an axum handler that parses a report's JSON and answers `201`, run as
//! its own process (this benchmark binary started again with `--http-only-server`), so that its
//! CPU and disk writes per request are measured the way ringback's are.

use axum::Json;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;

/// The argument that makes this binary the baseline server instead of the benchmark.
pub const SERVE_ARG: &str = "--http-only-server";

#[derive(Deserialize)]
struct Report {
    caller_phone_number: String,
    external_call_id: String,
}

async fn report(Json(report): Json<Report>) -> (StatusCode, Json<serde_json::Value>) {
    let body = serde_json::json!({
        "outcome": "SENT",
        "external_call_id": report.external_call_id,
        "caller": report.caller_phone_number.len(),
    });
    (StatusCode::CREATED, Json(body))
}

/// Serves until killed, on a loopback port of its own; says where on stderr, as ringback does.
pub fn serve() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        eprintln!("listening on http://{addr}");
        let app = axum::Router::new().route("/api/partner/v1/missed-calls", post(report));
        axum::serve(listener, app).await.expect("serve");
    });
}
