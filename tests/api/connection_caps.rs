//! SPEC §6.4 (HTTP): a response is activity until its last byte, one client address cannot hold
//! more than its share of connections, and at the cap the connection idle longest makes room.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::*;

fn server_address(app: &TestApp) -> SocketAddr {
    app.address
        .trim_start_matches("http://")
        .parse()
        .expect("address")
}

/// A connection to `app` from the loopback address `source` (any of 127.0.0.0/8).
async fn connect_from(app: &TestApp, source: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((source, 0)))
        .expect("bind a loopback source");
    socket.connect(server_address(app)).await.expect("connect")
}

/// Asks for the whole log as CSV over a connection with a small receive window, so that the
/// server cannot hand the file to the kernel at once. HTTP/1.0: the body ends when the server
/// closes, so a cut body shows as a short one.
async fn ask_for_the_export(app: &TestApp, cookie: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(16 * 1024)
        .expect("small buffer");
    let mut stream = socket.connect(server_address(app)).await.expect("connect");
    let request =
        format!("GET /console/export.csv HTTP/1.0\r\nHost: x\r\nCookie: {cookie}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request");
    stream
}

/// Whether the server has closed `stream` (a read ends or fails) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// A request answered on `stream`, which then stays open, idle between requests.
async fn answered_and_kept(stream: &mut TcpStream) {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("request");
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(15).any(|w| w == b"{\"status\":\"ok\"}") {
        let n = stream.read(&mut buf).await.expect("answer");
        assert!(n > 0, "the server closed a kept connection");
        answer.extend_from_slice(&buf[..n]);
    }
}

/// `n` SKIPPED rows of the test restaurant's log, a second apart.
fn seed_log(app: &TestApp, n: i64) {
    let start = jiff::Timestamp::now().as_millisecond() - n * 1000;
    app.db()
        .execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)
             INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, occurred_at,
                                created_at, updated_at, outcome)
             SELECT printf('call_s%08d', i), ?1, printf('+336%08d', i), printf('+336%08d', i),
                    ?2 + i * 1000, ?2 + i * 1000, ?2 + i * 1000, 'SKIPPED_COOLDOWN'
             FROM n",
            rusqlite::params![app.restaurant.id, start, n],
        )
        .expect("rows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_export_read_slower_than_the_idle_timeout_arrives_whole() {
    let app = spawn_app_with(|c| c.server.idle_timeout_ms = 1000).await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    let rows = 40_000;
    seed_log(&app, rows);
    let mut stream = ask_for_the_export(&app, &cookie).await;

    let started = std::time::Instant::now();
    let mut body = Vec::new();
    let mut buf = vec![0u8; 4 * 1024];
    let slow_reader = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => body.extend_from_slice(&buf[..n]),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(120), slow_reader)
        .await
        .expect("the download ends");
    let took = started.elapsed();

    let text = String::from_utf8_lossy(&body);
    let (head, csv) = text.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    assert!(
        took > Duration::from_secs(2),
        "the download took {took:?}: longer than the idle timeout, or it proves nothing"
    );
    assert_eq!(
        csv.matches("\r\n").count() as i64,
        rows + 1,
        "a header and every row, after {took:?}; it ends {:?}",
        &csv[csv.len().saturating_sub(300)..]
    );
    assert!(csv.ends_with("\r\n"), "the last row whole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_a_response_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(|c| c.server.idle_timeout_ms = 500).await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    // Larger than what the kernel's buffers take in on the client's behalf.
    seed_log(&app, 200_000);
    let mut stream = ask_for_the_export(&app, &cookie).await;

    // Reads nothing for six idle timeouts: the server's writes wait all that time.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let drained = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got += n,
            }
        }
    })
    .await;

    assert!(drained.is_ok(), "the server closed the connection");
    assert!(
        got < 8_000_000,
        "closed while it waited, not after writing the whole file: {got} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_at_most_max_connections_per_address_and_others_still_connect() {
    let app = spawn_app_with(|c| c.server.max_connections_per_address = 10).await;
    let mut held = Vec::new();
    for _ in 0..100 {
        held.push(connect_from(&app, [127, 0, 0, 2]).await);
    }

    let mut open = 0;
    for stream in &mut held {
        if !closed_within(stream, Duration::from_millis(200)).await {
            open += 1;
        }
    }
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    assert_eq!(open, 10, "connections from 127.0.0.2 still open");
    assert_eq!(
        (status, body["data"]["outcome"].clone()),
        (201, json!("SENT"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_max_connections_the_connection_idle_longest_makes_room_for_the_pbx() {
    // Generous timeouts: only making room can let the PBX in quickly.
    let app = spawn_app_with(|c| {
        c.server.max_connections = 20;
        c.server.header_timeout_ms = 60_000;
        c.server.idle_timeout_ms = 60_000;
    })
    .await;
    // Every slot held by other addresses: half idle between requests, half that never sent a
    // whole head.
    let mut idle = Vec::new();
    for n in 0..10u8 {
        let mut stream = connect_from(&app, [127, 0, 0, 10 + n]).await;
        answered_and_kept(&mut stream).await;
        idle.push(stream);
    }
    let mut half_sent = Vec::new();
    for n in 0..10u8 {
        let mut stream = connect_from(&app, [127, 0, 1, 10 + n]).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost")
            .await
            .expect("half a head");
        half_sent.push(stream);
    }
    // All twenty are being served: a twenty-first from them would wait.
    tokio::time::sleep(Duration::from_millis(100)).await;

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let report = client
        .post(format!("{}/api/partner/v1/missed-calls", app.address))
        .bearer_auth(&app.restaurant.token)
        .json(&json!({"caller_phone_number": "+33612345678"}))
        .send()
        .await;

    let status = report.map(|r| r.status().as_u16());
    assert!(
        matches!(status, Ok(201)),
        "the PBX is answered within a second: {status:?}"
    );
    assert!(
        closed_within(&mut idle[0], Duration::from_secs(5)).await,
        "the connection idle longest was the one closed"
    );
    assert!(
        !closed_within(&mut half_sent[9], Duration::from_millis(200)).await,
        "the newest are kept"
    );
}
