//! A soak: mixed load from many clients against several restaurants while WhatsApp fails at
//! random; afterwards the ledger must keep every invariant. `cargo test` runs it for 5 s;
//! `SOAK_SECONDS=60 cargo test --release --test api soak -- --nocapture` runs the full soak.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngExt;
use ringback::db::restaurants::RestaurantChanges;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::invariants::{Tally, check_invariants};

const CLIENTS: usize = 16;

fn soak_duration() -> Duration {
    let seconds = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(seconds)
}

/// The next report a client sends: a new call, a call without a key, a hidden caller, or a
/// replay of one sent before.
fn next_report(sent: &[Value]) -> Value {
    let mut rng = rand::rng();
    let roll = rng.random_range(0..100);
    if roll < 20 && !sent.is_empty() {
        return sent[rng.random_range(0..sent.len())].clone();
    }
    let caller = if roll < 25 {
        "anonymous".to_string()
    } else {
        format!("+3361234{:04}", rng.random_range(0..2000))
    };
    let mut body = json!({
        "caller_phone_number": caller,
        "occurred_at": minutes_from_now(-rng.random_range(0..600)),
    });
    if roll >= 35 {
        body["external_call_id"] = json!(format!("soak-{}", rng.random::<u64>()));
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soak_of_mixed_load_with_random_whatsapp_failures_keeps_the_invariants() {
    let app = spawn_app().await;
    app.update_restaurant(RestaurantChanges {
        balance_cents: Some(Some(1_000_000)),
        message_cost_cents: Some(3),
        ..Default::default()
    });
    let unlimited = app.other_restaurant("Sans Limite", "FR", "Europe/Paris");
    let off = app.other_restaurant("Fermé", "FR", "Europe/Paris");
    ringback::cli::restaurants::update_restaurant(
        &app.db(),
        &off.id,
        RestaurantChanges {
            missed_calls_enabled: Some(false),
            ..Default::default()
        },
    )
    .expect("feature off");
    app.whatsapp.set(Behaviour::Mixed);
    let restaurants = Arc::new(vec![
        (app.restaurant.id.clone(), app.restaurant.token.clone()),
        (unlimited.id.clone(), unlimited.token.clone()),
        (off.id.clone(), off.token.clone()),
    ]);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let url = format!("{}/api/partner/v1/missed-calls", app.address);
    let deadline = Instant::now() + soak_duration();

    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (client, url) = (app.client.clone(), url.clone());
            let (restaurants, tally) = (Arc::clone(&restaurants), Arc::clone(&tally));
            tokio::spawn(async move {
                let (rid, token) = &restaurants[i % restaurants.len()];
                let mut sent = Vec::new();
                let mut reports = 0usize;
                while Instant::now() < deadline {
                    let body = next_report(&sent);
                    let response = client
                        .post(&url)
                        .bearer_auth(token)
                        .json(&body)
                        .send()
                        .await
                        .expect("report");
                    let status = response.status().as_u16();
                    let answer: Value = response.json().await.expect("json");
                    assert!([201, 409, 422, 502].contains(&status), "{status} {answer}");
                    tally
                        .lock()
                        .expect("lock")
                        .record(rid, &body, status, &answer);
                    sent.push(body);
                    reports += 1;
                }
                reports
            })
        })
        .collect();
    let mut reports = 0;
    for client in clients {
        reports += client.await.expect("client");
    }

    let tally = tally.lock().expect("lock");
    println!(
        "soak: {reports} reports, {} ledger rows, {} WhatsApp requests",
        tally.unkeyed + tally.keys.len(),
        tally.dispatches
    );
    let balances = HashMap::from([(app.restaurant.id.clone(), (1_000_000, 3))]);
    check_invariants(&app, &tally, &balances, 360);
}
