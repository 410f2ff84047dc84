//! A slow WhatsApp: the `cloud` transport against a fake Cloud API that answers after 250 ms.
//! Sends are bounded by the dispatch threads; reports that skip must not wait behind them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use serde_json::json;

use crate::drive::{Target, closed_loop, open_loop};
use crate::seed;
use crate::server::{ServerProcess, config};

const DELAY: Duration = Duration::from_millis(250);
const DISPATCH_THREADS: f64 = 16.0;

pub struct SlowResult {
    pub sent_per_second: f64,
    pub ceiling: f64,
    pub skipped_p99_ms: f64,
    pub peak_rss_kb: u64,
}

async fn start_fake() -> String {
    let counter = Arc::new(AtomicUsize::new(0));
    let router = Router::new().route(
        "/{phone_number_id}/messages",
        post(move || {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            async move {
                tokio::time::sleep(DELAY).await;
                axum::Json(json!({"messages": [{"id": format!("wamid.slow{n}")}]}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    base
}

pub async fn run(duration: Duration) -> SlowResult {
    let dir = tempfile::tempdir_in(std::env::temp_dir()).expect("tempdir");
    let db = dir.path().join("ringback.db");
    let sending = seed::restaurant(&db, "Sending", true);
    let skipping = seed::restaurant(&db, "Feature off", false);
    let fake = start_fake().await;
    let server = ServerProcess::start(dir.path(), &config(&db, "cloud", &fake));
    let ceiling = DISPATCH_THREADS / DELAY.as_secs_f64();

    let senders = Target::new(
        &server.base,
        &sending.token,
        seed::numbers(50_000_000, 100_000),
    );
    let skippers = Target::new(
        &server.base,
        &skipping.token,
        seed::numbers(60_000_000, 100_000),
    );
    // Twice as many clients as dispatch threads keeps every thread waiting on WhatsApp.
    let (sent, skipped) = tokio::join!(
        closed_loop(&senders, 32, duration),
        open_loop(&skippers, 50.0, duration),
    );
    println!(
        "\n[slow WhatsApp] cloud transport, fake Cloud API answering after 250 ms, 16 dispatch threads"
    );
    println!("      sending restaurant, 32 clients: {}", sent.summary());
    println!("      ceiling 16 / 0.25 s = {ceiling:.0}/s");
    println!(
        "      meanwhile, a restaurant with the feature off at 50/s: {}",
        skipped.summary()
    );
    let result = SlowResult {
        sent_per_second: sent.per_second(),
        ceiling,
        skipped_p99_ms: skipped.percentile_ms(99.0),
        peak_rss_kb: server.peak_rss_kb(),
    };
    server.stop();
    result
}
