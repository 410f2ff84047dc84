//! SPEC §10, "a send that may have left": a send cut short after its request was written is not
//! dispatched again before WhatsApp's status has had `reconcile_seconds` to say it arrived, and
//! the status makes it SENT; a send that never reached WhatsApp is retried at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

use crate::helpers::*;
use crate::telnyx::{call_of, hangup, initiated, settled};
use crate::telnyx_retries::planned_pause_secs;
use crate::webhook_kit::{TelnyxKeys, status_payload, webhooks_on};

/// A Cloud API that reads each request whole, then closes the connection without answering:
/// WhatsApp may have sent the message, and ringback cannot know.
struct CutAfterRequest {
    base_url: String,
    requests: Arc<AtomicUsize>,
}

impl CutAfterRequest {
    async fn start() -> CutAfterRequest {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    if read_request(&mut stream).await {
                        counted.fetch_add(1, Ordering::SeqCst);
                    }
                    // Dropped here: the connection closes with no answer.
                });
            }
        });
        CutAfterRequest { base_url, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads a request's head and its `Content-Length` body; whether it came whole.
async fn read_request(stream: &mut tokio::net::TcpStream) -> bool {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return true;
            }
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// The app with the WhatsApp webhook on (`reconcile_seconds` 120) and its Cloud API `cut`.
async fn app_with_the_webhook(cut: &CutAfterRequest) -> (TestApp, TelnyxKeys) {
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| {
        webhooks_on(c, &keys, 0);
        c.whatsapp.api_base = cut.base_url.clone();
        c.whatsapp.reconcile_seconds = 120;
    })
    .await;
    (app, keys)
}

/// The attempts so far of the call a `502` names.
async fn attempts(app: &TestApp, failed: &Value) -> Value {
    let call_id = failed["error"]["details"]["call_id"].as_str().expect("id");
    let (_, read) = app.get_call(&app.restaurant.token, call_id).await;
    read["data"]["attempts"].clone()
}

fn report() -> Value {
    json!({"caller_phone_number": "+33612345678", "external_call_id": "pbx-cut"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_cut_after_its_request_waits_for_whatsapp_s_status_and_is_sent_once() {
    let cut = CutAfterRequest::start().await;
    let (app, _) = app_with_the_webhook(&cut).await;

    let (status, failed) = app.report_json(report()).await;
    assert_eq!(status, 502, "{failed}");
    assert_eq!(
        failed["error"]["details"]["whatsapp_error"]["code"],
        "transport"
    );
    let call_id = failed["error"]["details"]["call_id"]
        .as_str()
        .expect("call id")
        .to_string();
    let replay = app.report(report()).await;
    let retry_after: u64 = replay
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .expect("Retry-After in seconds");
    let (replay_status, replay_body): (u16, Value) =
        (replay.status().as_u16(), replay.json().await.expect("json"));
    let acknowledged = app
        .meta(&status_payload("wamid.LEFT", "sent", Some(&call_id)))
        .await;
    let (_, read) = app.get_call(&app.restaurant.token, &call_id).await;
    let (after_status, after) = app.report_json(report()).await;

    assert_eq!(replay_status, 409, "{replay_body}");
    assert_eq!(replay_body["error"]["code"], "CALL_IN_PROGRESS");
    assert!(
        (100..=120).contains(&retry_after),
        "retry once the status had its time: {retry_after}"
    );
    assert_eq!(acknowledged, 200);
    assert_eq!(read["data"]["outcome"], "SENT", "{read}");
    assert_eq!(read["data"]["message_id"], "wamid.LEFT");
    assert_eq!(after_status, 201);
    assert_eq!(
        (
            &after["data"]["outcome"],
            &after["data"]["original_outcome"]
        ),
        (&json!("SKIPPED_DUPLICATE"), &json!("SENT"))
    );
    assert_eq!(cut.requests(), 1, "one send in all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_never_reached_whatsapp_is_retried_at_once_even_with_the_webhook_on() {
    // Nothing listens there: the connection is refused before any request is written.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let nowhere = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| {
        webhooks_on(c, &keys, 0);
        c.whatsapp.api_base = nowhere;
    })
    .await;

    let (first, _) = app.report_json(report()).await;
    let (again, body) = app.report_json(report()).await;

    assert_eq!(first, 502);
    assert_eq!(again, 502, "dispatched again, not held: {body}");
    assert_eq!(attempts(&app, &body).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_webhook_a_send_cut_after_its_request_may_be_retried_at_once() {
    let cut = CutAfterRequest::start().await;
    let app = spawn_app_with(|c| c.whatsapp.api_base = cut.base_url.clone()).await;

    let (first, _) = app.report_json(report()).await;
    let (again, body) = app.report_json(report()).await;

    assert_eq!((first, again), (502, 502), "{body}");
    assert_eq!(
        cut.requests(),
        2,
        "no status can say it left: at least once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ringback_s_own_retry_of_a_telnyx_call_cut_after_its_request_waits_for_the_status() {
    let cut = CutAfterRequest::start().await;
    let (app, keys) = app_with_the_webhook(&cut).await;
    app.tie_telnyx_number(
        &app.restaurant.id.clone(),
        crate::webhook_kit::TELNYX_NUMBER,
    );

    assert_eq!(app.telnyx(&keys, &initiated("cut-session")).await, 200);
    assert_eq!(app.telnyx(&keys, &hangup("cut-session")).await, 200);
    assert_eq!(settled(&app, "cut-session").await, "missed");
    let call = call_of(&app, "cut-session").expect("call");

    assert_eq!(call["outcome"], "FAILED", "{call}");
    assert_eq!(
        planned_pause_secs(&app, "cut-session"),
        Some(120),
        "the retry waits reconcile_seconds, not 30 s"
    );
    assert_eq!(cut.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_connection_never_opens_is_not_held_and_a_replay_sends_at_once() {
    // A Cloud API whose accept queue is full: new connections hang in their handshake.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let full = socket.listen(1).expect("listen");
    let address = full.local_addr().expect("addr");
    let mut queued = Vec::new();
    for _ in 0..4 {
        let connect = tokio::net::TcpStream::connect(address);
        if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_millis(200), connect).await {
            queued.push(stream);
        }
    }
    let keys = TelnyxKeys::new();
    let app = spawn_app_with(|c| {
        webhooks_on(c, &keys, 0);
        c.whatsapp.api_base = format!("http://{address}");
        c.whatsapp.timeout_ms = 1_000;
    })
    .await;

    let (first, failed) = app.report_json(report()).await;
    let (again, body) = app.report_json(report()).await;

    assert_eq!(first, 502, "{failed}");
    assert_eq!(
        failed["error"]["details"]["whatsapp_error"]["code"],
        "timeout"
    );
    assert_eq!(again, 502, "dispatched again at once, not held: {body}");
    assert_eq!(attempts(&app, &body).await, 2);
    drop((full, queued));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_a_send_that_may_have_left_waits_for_its_status_the_caller_is_in_cooldown() {
    let cut = CutAfterRequest::start().await;
    let (app, _) = app_with_the_webhook(&cut).await;
    let (first, _) = app.report_json(report()).await;

    let (status, next) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "external_call_id": "pbx-next"}))
        .await;

    assert_eq!(first, 502);
    assert_eq!(
        (status, next["data"]["outcome"].as_str()),
        (201, Some("SKIPPED_COOLDOWN")),
        "the first message may have reached the guest: {next}"
    );
    assert_eq!(cut.requests(), 1);
}
