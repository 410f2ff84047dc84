//! The webhooks of SPEC §10 under a burst: signed Telnyx call events (each call's initiated, then
//! its hangup a little later, so that the calls settle into missed calls and are sent during the
//! burst) and Meta's statuses (delivered, then read) of messages sent just before, posted from a
//! fixed number of connections while partner reports arrive at a steady rate. Every request is
//! signed before the clock starts: the measure is the server's, not the signing's.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use ringback::cli::restaurants::update_restaurant;
use ringback::db::restaurants::RestaurantChanges;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::Notify;

use crate::drive::{Stats, Target, closed_loop, closed_loop_get, open_loop_until};
use crate::seed::{self, PHONE_NUMBER_ID};
use crate::server::{ServerProcess, webhook_config};

const CONNECTIONS: usize = 32;
/// Calls posted as two Telnyx events each, and sent messages given two Meta statuses each.
const CALLS: usize = 2000;
/// How many requests later a call's hangup (or a message's read) follows its first event.
const LAG: usize = 64;
const REPORTS_PER_SECOND: f64 = 200.0;
/// Calls settle, and their messages are sent, as soon as their hangup is in: during the burst,
/// as a steady stream of calls would have it. The default 5 s would push that work past its end.
const SETTLE_SECONDS: u32 = 0;
const TELNYX_NUMBER: &str = "+33187654321";
const APP_SECRET: &str = "bench-app-secret";
const VERIFY_TOKEN: &str = "bench-verify-token";

pub struct WebhookResult {
    pub stats: Stats,
    pub reports: Stats,
    pub peak_rss_kb: u64,
}

#[derive(Clone, Copy)]
enum Kind {
    Telnyx,
    Meta,
}

/// One webhook request, built and signed ahead.
struct Signed {
    kind: Kind,
    request: reqwest::Request,
}

pub async fn run() -> WebhookResult {
    let dir = tempfile::tempdir_in(std::env::temp_dir()).expect("tempdir");
    let db = dir.path().join("ringback.db");
    let restaurant = seed::restaurant(&db, "Bench", true);
    update_restaurant(
        &ringback::db::open(&db).expect("db"),
        &restaurant.id,
        RestaurantChanges {
            telnyx_number: Some(Some(TELNYX_NUMBER.into())),
            ..Default::default()
        },
    )
    .expect("tie the Telnyx number");
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let public_key = BASE64.encode(key.verifying_key().as_bytes());
    let server = ServerProcess::start(
        dir.path(),
        &webhook_config(&db, &public_key, APP_SECRET, VERIFY_TOKEN, SETTLE_SECONDS),
    );

    // The messages the statuses are about: sent to partner reports, which also warm the server.
    let reports = Target::new(
        &server.base,
        &restaurant.token,
        seed::numbers(10_000_000, 400_000),
    );
    let mut messages = Vec::new();
    while messages.len() < CALLS {
        closed_loop(&reports, CONNECTIONS, Duration::from_secs(1)).await;
        messages = sent_messages(&db, CALLS);
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS * 2)
        .build()
        .expect("client");
    let requests = sign_all(&client, &server.base, &key, &messages);
    // Opens the connections (Meta's handshake, unsigned), so the burst does not time their setup.
    let handshake = format!(
        "{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1",
        server.base
    );
    let header = ("accept", "text/plain".to_string());
    let warm = closed_loop_get(
        &client,
        &handshake,
        header,
        CONNECTIONS,
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(warm.errors, 0, "the WhatsApp webhook is on");

    let done = Notify::new();
    let ((telnyx, meta, stats), background) = tokio::join!(
        async {
            let burst = burst(&client, requests).await;
            done.notify_one();
            burst
        },
        open_loop_until(&reports, REPORTS_PER_SECOND, done.notified()),
    );
    println!(
        "\n[webhooks] {} signed Telnyx events (initiated and hangup of {CALLS} calls) and {} Meta \
         statuses (delivered and read of {CALLS} messages just sent), {CONNECTIONS} connections; \
         partner reports at {REPORTS_PER_SECOND:.0}/s meanwhile; calls settle \
         {SETTLE_SECONDS} s after their hangup",
        2 * CALLS,
        2 * CALLS
    );
    println!("      all webhooks:    {}", stats.summary_in("answers"));
    println!("      Telnyx events:   {}", telnyx.summary_in("answers"));
    println!("      Meta statuses:   {}", meta.summary_in("answers"));
    println!("      partner reports: {}", background.summary());
    let waited = Instant::now();
    let after = aftermath(&db).await;
    println!(
        "      then: {} of {CALLS} calls settled as missed and {} of them sent (after {:.1} s \
         more), {} of {CALLS} messages read",
        after.missed,
        after.sent,
        waited.elapsed().as_secs_f64(),
        after.read
    );
    let result = WebhookResult {
        stats,
        reports: background,
        peak_rss_kb: server.peak_rss_kb(),
    };
    server.stop();
    result
}

/// `count` calls the sandbox sent, with their message ids.
fn sent_messages(db: &Path, count: usize) -> Vec<(String, String)> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("db");
    conn.prepare("SELECT id, message_id FROM calls WHERE message_id IS NOT NULL LIMIT ?1")
        .expect("prepare")
        .query_map([count as i64], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

/// Every request of the burst, signed now: call `i`'s initiated event and message `i`'s
/// delivered status, and `LAG` steps later call `i`'s hangup and message `i`'s read status.
fn sign_all(
    client: &reqwest::Client,
    base: &str,
    key: &SigningKey,
    messages: &[(String, String)],
) -> Vec<Signed> {
    let callers = seed::numbers(70_000_000, CALLS);
    let now = jiff::Timestamp::now();
    let telnyx = |event: Value| Signed {
        kind: Kind::Telnyx,
        request: sign_telnyx(client, base, key, now.as_second(), &event),
    };
    let meta = |payload: Value| Signed {
        kind: Kind::Meta,
        request: sign_meta(client, base, &payload),
    };
    let mut requests = Vec::with_capacity(4 * CALLS);
    for step in 0..CALLS + LAG {
        if step < CALLS {
            let (call, message) = &messages[step];
            requests.push(telnyx(telnyx_event(
                step,
                "call.initiated",
                &callers[step],
                now,
            )));
            requests.push(meta(status(message, call, "delivered", now)));
        }
        if let Some(i) = step.checked_sub(LAG) {
            let (call, message) = &messages[i];
            requests.push(telnyx(telnyx_event(i, "call.hangup", &callers[i], now)));
            requests.push(meta(status(message, call, "read", now)));
        }
    }
    requests
}

/// A Call Control v2 event of the incoming leg of call `i` to the restaurant's Telnyx number
/// (Telnyx's hangup does not say its direction).
fn telnyx_event(i: usize, event_type: &str, from: &str, now: jiff::Timestamp) -> Value {
    let mut payload = json!({
        "call_control_id": format!("v3:bench-leg-{i}"),
        "call_leg_id": format!("bench-leg-{i}"),
        "call_session_id": format!("bench-session-{i}"),
        "connection_id": "1494404757140276705",
        "from": from,
        "to": TELNYX_NUMBER,
        "start_time": now.to_string(),
        "state": "parked",
    });
    if event_type == "call.initiated" {
        payload["direction"] = json!("incoming");
    }
    json!({
        "data": {"record_type": "event", "event_type": event_type,
                 "id": format!("bench-{event_type}-{i}"), "occurred_at": now.to_string(),
                 "payload": payload},
        "meta": {"attempt": 1, "delivered_to": "https://box.example.com/webhooks/telnyx"}
    })
}

/// Meta's envelope around one status of a message ringback sent for `call`.
fn status(message: &str, call: &str, status: &str, now: jiff::Timestamp) -> Value {
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33187654321", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [{"id": message, "status": status, "timestamp": now.as_second().to_string(),
                      "recipient_id": "33612345678", "biz_opaque_callback_data": call}]
    });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]
    })
}

/// `telnyx-signature-ed25519`: Ed25519 over `"{timestamp}|{body}"`, base64.
fn sign_telnyx(
    client: &reqwest::Client,
    base: &str,
    key: &SigningKey,
    timestamp: i64,
    event: &Value,
) -> reqwest::Request {
    let body = serde_json::to_vec(event).expect("json");
    let mut signed = format!("{timestamp}|").into_bytes();
    signed.extend_from_slice(&body);
    client
        .post(format!("{base}/webhooks/telnyx"))
        .header("content-type", "application/json")
        .header("telnyx-timestamp", timestamp.to_string())
        .header(
            "telnyx-signature-ed25519",
            BASE64.encode(key.sign(&signed).to_bytes()),
        )
        .body(body)
        .build()
        .expect("request")
}

/// `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the body with the app secret.
fn sign_meta(client: &reqwest::Client, base: &str, payload: &Value) -> reqwest::Request {
    let body = serde_json::to_vec(payload).expect("json");
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("any key size");
    mac.update(&body);
    client
        .post(format!("{base}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        )
        .body(body)
        .build()
        .expect("request")
}

/// `CONNECTIONS` clients taking the next request from one queue until it is empty; the Telnyx
/// figures, Meta's, and both together, each over the whole burst.
async fn burst(client: &reqwest::Client, requests: Vec<Signed>) -> (Stats, Stats, Stats) {
    let queue = Arc::new(Mutex::new(VecDeque::from(requests)));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, queue) = (client.clone(), Arc::clone(&queue));
            tokio::spawn(async move {
                let (mut telnyx, mut meta) = (Stats::default(), Stats::default());
                loop {
                    let next = queue.lock().expect("queue").pop_front();
                    let Some(signed) = next else { break };
                    let asked = Instant::now();
                    let ok = match client.execute(signed.request).await {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    };
                    let stats = match signed.kind {
                        Kind::Telnyx => &mut telnyx,
                        Kind::Meta => &mut meta,
                    };
                    if ok {
                        stats.latencies.push(asked.elapsed());
                    } else {
                        stats.errors += 1;
                    }
                }
                (telnyx, meta)
            })
        })
        .collect();
    let (mut telnyx, mut meta) = (Stats::default(), Stats::default());
    for task in tasks {
        let (t, m) = task.await.expect("client");
        telnyx.absorb(t);
        meta.absorb(m);
    }
    let elapsed = started.elapsed();
    (telnyx.elapsed, meta.elapsed) = (elapsed, elapsed);
    let all = Stats {
        latencies: [&telnyx.latencies[..], &meta.latencies[..]].concat(),
        errors: telnyx.errors + meta.errors,
        elapsed,
    };
    (telnyx, meta, all)
}

/// What the burst left in the database.
struct Aftermath {
    missed: usize,
    sent: usize,
    read: usize,
}

/// Waits (up to 20 s) for every call to settle and its message to be sent, then counts.
async fn aftermath(db: &Path) -> Aftermath {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("db");
    let count = |sql: &str| -> usize {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .expect("count") as usize
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let after = Aftermath {
            missed: count("SELECT count(*) FROM telnyx_sessions WHERE settlement = 'missed'"),
            sent: count("SELECT count(*) FROM calls WHERE source = 'TELNYX' AND outcome = 'SENT'"),
            read: count("SELECT count(*) FROM calls WHERE delivery_state = 'read'"),
        };
        if (after.missed >= CALLS && after.sent >= CALLS) || Instant::now() > deadline {
            return after;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
