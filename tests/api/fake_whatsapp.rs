//! A fake WhatsApp Cloud API on loopback: records every message request and answers as the test
//! says (success, an error code, a 5xx, slowness); tells about a phone number to the right token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// How the fake Cloud API answers the next requests.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// 200 with `messages[0].id`.
    Accept,
    /// This status and JSON body.
    Reply(u16, Value),
    /// Accept, after holding the request this long.
    Delay(Duration),
    /// Accept once the test calls `release` — or answer the `Reply` set by then.
    Hold,
    /// A different answer per request, chosen from the request's number: mostly accepted, with
    /// 5xx, rate limits, refusals, 131050 and slow answers mixed in.
    Mixed,
    /// The first this many requests are held (as `Hold`); every later one is accepted.
    HoldFirst(usize),
}

/// The answer `Behaviour::Mixed` gives to the `n`th request.
fn mixed(n: usize) -> Behaviour {
    // A multiplicative hash spreads consecutive request numbers over the cases.
    let h = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56;
    let error = |status: u16, code: i64| {
        Behaviour::Reply(
            status,
            json!({"error": {"code": code, "message": format!("e{code}")}}),
        )
    };
    match h % 20 {
        0 | 1 => error(500, 2),
        2 => error(429, 130429),
        3 | 4 => error(400, 131026),
        5 => error(400, 131050),
        6 => Behaviour::Delay(Duration::from_millis(30)),
        _ => Behaviour::Accept,
    }
}

#[derive(Debug, Clone)]
pub struct Received {
    pub phone_number_id: String,
    pub authorization: Option<String>,
    pub body: Value,
}

struct FakeState {
    behaviour: Mutex<Option<Behaviour>>,
    received: Mutex<Vec<Received>>,
    arrived: Notify,
    /// Requests being answered right now, and the most there ever were at once.
    open: AtomicUsize,
    most_open: AtomicUsize,
    released: tokio::sync::watch::Sender<bool>,
}

/// Counts a request as open for as long as it lives.
struct Open<'a>(&'a FakeState);

impl<'a> Open<'a> {
    fn new(state: &'a FakeState) -> Open<'a> {
        let now = state.open.fetch_add(1, Ordering::SeqCst) + 1;
        state.most_open.fetch_max(now, Ordering::SeqCst);
        Open(state)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A fake WhatsApp Cloud API on loopback.
#[derive(Clone)]
pub struct FakeWhatsApp {
    pub base_url: String,
    state: Arc<FakeState>,
}

async fn fake_messages(
    State(state): State<Arc<FakeState>>,
    Path(phone_number_id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, axum::Json<Value>) {
    let number = {
        let mut received = state.received.lock().expect("lock");
        received.push(Received {
            phone_number_id,
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: serde_json::from_str(&body).unwrap_or(Value::Null),
        });
        received.len()
    };
    let _open = Open::new(&state);
    state.arrived.notify_waiters();
    let mut behaviour = state
        .behaviour
        .lock()
        .expect("lock")
        .clone()
        .unwrap_or(Behaviour::Accept);
    match behaviour {
        Behaviour::Mixed => behaviour = mixed(number),
        Behaviour::HoldFirst(n) if number <= n => behaviour = Behaviour::Hold,
        Behaviour::HoldFirst(_) => behaviour = Behaviour::Accept,
        _ => {}
    }
    let accepted = json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": "x", "wa_id": "x"}],
        "messages": [{"id": format!("wamid.TEST{number}")}]
    });
    match behaviour {
        Behaviour::Accept | Behaviour::Mixed | Behaviour::HoldFirst(_) => {
            (StatusCode::OK, axum::Json(accepted))
        }
        Behaviour::Delay(d) => {
            tokio::time::sleep(d).await;
            (StatusCode::OK, axum::Json(accepted))
        }
        Behaviour::Hold => {
            let mut released = state.released.subscribe();
            let _ = released.wait_for(|r| *r).await;
            // A refusal set while the request was held is its answer; anything else accepts.
            let now = state.behaviour.lock().expect("lock").clone();
            match now {
                Some(Behaviour::Reply(status, body)) => (
                    StatusCode::from_u16(status).expect("status"),
                    axum::Json(body),
                ),
                _ => (StatusCode::OK, axum::Json(accepted)),
            }
        }
        Behaviour::Reply(status, body) => (
            StatusCode::from_u16(status).expect("status"),
            axum::Json(body),
        ),
    }
}

/// The number as the fake Cloud API shows it.
pub const DISPLAY_PHONE_NUMBER: &str = "+33 1 23 45 67 89";
pub const VERIFIED_NAME: &str = "Chez Test";

/// `GET /{phone_number_id}?fields=…`: the fields asked for, as Meta answers them, when the token
/// is `helpers::ACCESS_TOKEN`; Meta's OAuth error otherwise.
async fn fake_phone_number(
    Path(phone_number_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> (StatusCode, axum::Json<Value>) {
    let expected = format!("Bearer {}", crate::helpers::ACCESS_TOKEN);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": {
                "message": "Invalid OAuth access token - Cannot parse access token",
                "type": "OAuthException", "code": 190, "fbtrace_id": "AZf3xTkq0bNFakeTrace"}})),
        );
    }
    let mut answer = json!({"id": phone_number_id});
    for field in query.get("fields").map_or("", String::as_str).split(',') {
        let value = match field {
            "display_phone_number" => DISPLAY_PHONE_NUMBER,
            "verified_name" => VERIFIED_NAME,
            "quality_rating" => "GREEN",
            _ => continue,
        };
        answer[field] = json!(value);
    }
    (StatusCode::OK, axum::Json(answer))
}

impl FakeWhatsApp {
    pub async fn start() -> FakeWhatsApp {
        let state = Arc::new(FakeState {
            behaviour: Mutex::default(),
            received: Mutex::default(),
            arrived: Notify::new(),
            open: AtomicUsize::new(0),
            most_open: AtomicUsize::new(0),
            released: tokio::sync::watch::Sender::new(false),
        });
        let router = Router::new()
            .route("/{phone_number_id}/messages", post(fake_messages))
            .route("/{phone_number_id}", get(fake_phone_number))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeWhatsApp { base_url, state }
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.state.behaviour.lock().expect("lock") = Some(behaviour);
    }

    /// Lets every held request (`Behaviour::Hold`) through, and those still to come.
    pub fn release(&self) {
        self.state.released.send_replace(true);
    }

    /// Answers with a WhatsApp error body: `{"error": {"code": …}}`.
    pub fn fail_with(&self, status: u16, code: i64) {
        self.set(Behaviour::Reply(
            status,
            json!({"error": {"message": format!("error {code}"), "type": "OAuthException",
                             "code": code, "fbtrace_id": "AbC"}}),
        ));
    }

    /// The most requests the fake was answering at the same time.
    pub fn most_at_once(&self) -> usize {
        self.state.most_open.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }

    /// Waits until at least `n` requests have arrived (a test fails after 10 s).
    pub async fn wait_for_requests(&self, n: usize) {
        let waiting = async {
            loop {
                let arrived = self.state.arrived.notified();
                if self.requests().len() >= n {
                    return;
                }
                arrived.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the fake WhatsApp server did not get the expected requests");
    }
}
