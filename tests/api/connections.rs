//! SPEC §6.4 (HTTP) and §2.3: connections that send nothing or half a head cannot exhaust the
//! server, and refusals made before routing carry the error envelope and a request id.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;
use crate::process::Server;

/// Sends raw bytes on a new connection and reads the answer until the server closes it.
pub(crate) async fn raw(address: &str, request: &[u8]) -> (u16, String, Value) {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).await.expect("connect");
    // The server may answer (and close) before it has read everything: ignore a broken pipe.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer));
    let _ = read.await.expect("the server answers and closes");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a whole response");
    let status = head[9..12].parse().expect("status");
    (
        status,
        head.to_ascii_lowercase(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

pub(crate) fn assert_enveloped(head: &str, body: &Value, code: &str) {
    assert!(head.contains("\r\nx-request-id: req_"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("req_")),
        "{body}"
    );
}

#[tokio::test]
async fn a_uri_over_8_kib_is_refused_414_in_the_error_envelope() {
    let app = spawn_app().await;
    let path = format!("/api/partner/v1/missed-calls/call_{}", "a".repeat(9000));
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

    let (status, head, body) = raw(&app.address, request.as_bytes()).await;

    assert_eq!(status, 414);
    assert_enveloped(&head, &body, "URI_TOO_LONG");
}

#[tokio::test]
async fn a_uri_larger_than_the_head_buffer_is_still_refused_414_not_431() {
    let app = spawn_app().await;
    let path = format!(
        "/api/partner/v1/missed-calls/call_{}",
        "a".repeat(40 * 1024)
    );
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

    let (status, head, body) = raw(&app.address, request.as_bytes()).await;

    assert_eq!(status, 414);
    assert_enveloped(&head, &body, "URI_TOO_LONG");
}

#[tokio::test]
async fn headers_too_large_or_too_many_are_refused_431_in_the_error_envelope() {
    let app = spawn_app().await;
    let large = format!(
        "GET /api/partner/v1/me HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(300 * 1024)
    );
    let many = format!(
        "GET /api/partner/v1/me HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..150)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );

    for request in [large, many] {
        let (status, head, body) = raw(&app.address, request.as_bytes()).await;

        assert_eq!(status, 431);
        assert_enveloped(&head, &body, "HEADERS_TOO_LARGE");
    }
}

#[tokio::test]
async fn a_request_that_is_not_http_is_refused_400_in_the_error_envelope() {
    let app = spawn_app().await;

    let (status, head, body) = raw(&app.address, b"HELLO THERE\r\n\r\n").await;

    assert_eq!(status, 400);
    assert_enveloped(&head, &body, "MALFORMED_REQUEST");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408_and_records_nothing() {
    let app = spawn_app_with(|c| c.server.header_timeout_ms = 300).await;
    let request = format!(
        "POST /api/partner/v1/missed-calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"caller",
        app.restaurant.token
    );

    let (status, head, body) = raw(&app.address, request.as_bytes()).await;

    assert_eq!(status, 408);
    assert_enveloped(&head, &body, "REQUEST_TIMEOUT");
    assert_eq!(app.ledger_rows(), 0);
}

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_is_cut_off_408_within_header_timeout() {
    let app = spawn_app_with(|c| c.server.header_timeout_ms = 500).await;
    let host = app.address.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&host).await.expect("connect");
    let head = format!(
        "POST /api/partner/v1/missed-calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n",
        app.restaurant.token
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    // The slow client: one byte every 100 ms, never a pause long enough for a per-read timeout.
    let trickle = async {
        for _ in 0..1000 {
            if stream.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), trickle).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);

    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("REQUEST_TIMEOUT"), "{text}");
    assert_eq!(app.ledger_rows(), 0);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_idle_timeout() {
    let app = spawn_app_with(|c| c.server.idle_timeout_ms = 200).await;
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .expect("connect");
    let request = format!(
        "GET /api/partner/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        app.restaurant.token
    );
    stream.write_all(request.as_bytes()).await.expect("request");

    let mut answer = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);

    assert!(text.starts_with("HTTP/1.1 200"), "answered first: {text}");
    assert!(closed.is_ok(), "then closed by the server while idle");
}

#[tokio::test]
async fn a_connection_that_sends_no_head_is_closed_after_header_timeout() {
    let app = spawn_app_with(|c| c.server.header_timeout_ms = 200).await;
    let mut silent = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .expect("connect");

    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut buf)).await;

    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "closed by the server: {read:?}"
    );
}

/// Lets this test process open more sockets than the server is allowed descriptors.
fn raise_open_files() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).expect("setrlimit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_or_half_sent_connections_exhaust_neither_descriptors_nor_memory() {
    raise_open_files();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    let restaurant = {
        let conn = ringback::db::open(&db).expect("db");
        seed_restaurant(&conn, "Chez Foule", "FR", "Europe/Paris")
    };
    let whatsapp = FakeWhatsApp::start().await;
    // 1,024 descriptors: what 1,119 silent connections used to exhaust.
    let server = Server::start_with(
        dir.path(),
        &db,
        &whatsapp.base_url,
        &[
            ("RINGBACK_SERVER_HEADER_TIMEOUT_MS", "1000"),
            ("RINGBACK_SERVER_IDLE_TIMEOUT_MS", "1000"),
            // All from one address: without the per-address cap, only the timeouts bound them.
            ("RINGBACK_SERVER_MAX_CONNECTIONS_PER_ADDRESS", "0"),
            ("RUST_LOG", "info"),
        ],
        Some(1024),
    )
    .await;
    let host = server.address.trim_start_matches("http://").to_string();

    // Half send nothing; half send 20 KB of a head that never ends.
    let opening: Vec<_> = (0..2000)
        .map(|i| {
            let host = host.clone();
            tokio::spawn(async move {
                let connect = TcpStream::connect(&host);
                let mut stream = tokio::time::timeout(Duration::from_secs(5), connect)
                    .await
                    .ok()?
                    .ok()?;
                if i % 2 == 1 {
                    let head = format!(
                        "POST /api/partner/v1/missed-calls HTTP/1.1\r\nHost: x\r\nX-Pad: {}",
                        "a".repeat(20_000)
                    );
                    stream.write_all(head.as_bytes()).await.ok()?;
                }
                Some(stream)
            })
        })
        .collect();
    let mut open = Vec::new();
    for task in opening {
        if let Some(stream) = task.await.expect("join") {
            open.push(stream);
        }
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let report = client
        .post(format!("{}/api/partner/v1/missed-calls", server.address))
        .bearer_auth(&restaurant.token)
        .json(&json!({"caller_phone_number": "+33612345678"}))
        .send()
        .await
        .expect("the report is answered");
    let report_status = report.status().as_u16();
    let peak = server.peak_memory();
    let closing: Vec<_> = open
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let read = tokio::time::timeout(Duration::from_secs(60), async {
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                    }
                });
                read.await.is_ok()
            })
        })
        .collect();
    let mut closed = 0;
    let total = closing.len();
    for task in closing {
        if task.await.expect("join") {
            closed += 1;
        }
    }

    assert!(total >= 1500, "the test opened its connections ({total})");
    assert_eq!(report_status, 201);
    assert!(peak < 64 * 1024 * 1024, "peak memory {} MiB", peak >> 20);
    assert_eq!(
        closed, total,
        "every idle connection is closed by the timeouts"
    );
    assert!(
        !server.log().contains("could not accept"),
        "{}",
        server.log()
    );
}
