//! Test harness: the real app on port 0 with a temporary database, its real `cloud` WhatsApp
//! client pointed at a fake Cloud API server on loopback that each test controls.

use std::path::PathBuf;

use reqwest::Response;
use ringback::app::App;
use ringback::cli::{customers, restaurants, templates, tokens};
use ringback::config::Config;
use ringback::db::Writer;
use ringback::db::restaurants::RestaurantChanges;
use ringback::domain::TemplateType;
use ringback::vault::Vault;
use rusqlite::Connection;
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::oneshot;

pub use crate::fake_whatsapp::{Behaviour, FakeWhatsApp};

pub const ACCESS_TOKEN: &str = "EAAGtestaccesstoken0123456789secret";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const BOOKING_URL: &str = "https://book.example.com/chez-test";

/// A restaurant seeded for a test, with its partner token.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub id: String,
    pub token: String,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db_path: PathBuf,
    pub whatsapp: FakeWhatsApp,
    pub restaurant: Seeded,
    /// The app's single writer, to watch its queue.
    pub writer: Writer,
    shutdown: Option<oneshot::Sender<()>>,
    /// The app serving, and how it ended once it has.
    running: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn test_config(db_path: PathBuf, api_base: &str) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.database.path = db_path;
    config.whatsapp.api_base = api_base.to_string();
    config.whatsapp.timeout_ms = 2_000;
    // Tests drive many requests with one token; the limit's own tests turn it on.
    config.server.rate_limit_per_minute = 0;
    config
}

/// A French restaurant, feature on, WhatsApp connected, both templates approved.
pub fn seed_restaurant(conn: &Connection, name: &str, country: &str, timezone: &str) -> Seeded {
    let id = restaurants::add_restaurant(conn, name, country, timezone, Some(BOOKING_URL))
        .expect("restaurant");
    restaurants::update_restaurant(
        conn,
        &id,
        RestaurantChanges {
            missed_calls_enabled: Some(true),
            ..Default::default()
        },
    )
    .expect("feature on");
    restaurants::set_whatsapp(
        conn,
        &id,
        Some((PHONE_NUMBER_ID, ACCESS_TOKEN)),
        &vault_of(conn),
    )
    .expect("wa");
    set_template(conn, &id, TemplateType::MissedCall, "APPROVED", true);
    set_template(
        conn,
        &id,
        TemplateType::MissedCallWithReservation,
        "APPROVED",
        true,
    );
    let (_, token) = tokens::create_token(conn, &id, Some("pbx")).expect("token");
    Seeded { id, token }
}

/// The key that seals access tokens, where the app looks for it: `ringback.key` beside the
/// database. Created on first use, as `serve` would.
pub fn vault_of(conn: &Connection) -> Vault {
    let db = PathBuf::from(conn.path().expect("a database file"));
    let key = db.with_file_name(ringback::config::KEY_FILE_NAME);
    Vault::create_if_missing(&key).expect("key file");
    Vault::load(&key)
}

pub fn set_template(
    conn: &Connection,
    restaurant_id: &str,
    template_type: TemplateType,
    status: &str,
    active: bool,
) {
    let (name, body): (&str, &[&str]) = match template_type {
        TemplateType::MissedCall => ("missed_call_v1", &["customer_name", "restaurant_name"]),
        TemplateType::MissedCallWithReservation => (
            "missed_call_reservation_v1",
            &[
                "customer_name",
                "reservation_date",
                "reservation_time",
                "party_size",
            ],
        ),
    };
    templates::set_template(
        conn,
        &templates::TemplateSpec {
            restaurant_id: restaurant_id.into(),
            template_type,
            name: name.into(),
            language: "fr".into(),
            status: status.into(),
            body_params: body.iter().map(|s| s.to_string()).collect(),
            button_param: Some("booking_token".into()),
            name_fallback: None,
            active,
        },
    )
    .expect("template");
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app with its configuration adjusted first; the database is seeded wherever
/// `database.path` then points (a test may move it, e.g. onto a small file system).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_transport(adjust, None).await
}

/// Like `spawn_app_with`, sending through `transport` instead of the real `cloud` client.
pub async fn spawn_app_with_transport(
    adjust: impl FnOnce(&mut Config),
    transport: Option<std::sync::Arc<dyn ringback::whatsapp::Transport>>,
) -> TestApp {
    ringback::telemetry::init_for_tests();
    let dir = tempfile::tempdir().expect("tempdir");
    let whatsapp = FakeWhatsApp::start().await;
    let mut config = test_config(dir.path().join("ringback.db"), &whatsapp.base_url);
    adjust(&mut config);
    let db_path = config.database.path.clone();
    let restaurant = {
        let conn = ringback::db::open(&db_path).expect("db");
        seed_restaurant(&conn, "Chez Test", "FR", "Europe/Paris")
    };
    let app = match transport {
        Some(transport) => App::build_with_transport(config, transport).await,
        None => App::build(config).await,
    }
    .expect("app builds");
    let writer = app.writer();
    let address = format!("http://{}", app.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until_stopped(async {
        let _ = rx.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::new(),
        db_path,
        whatsapp,
        restaurant,
        writer,
        shutdown: Some(tx),
        running: Some(running),
        _dir: dir,
    }
}

impl TestApp {
    /// Asks the app to stop as SIGTERM does, and waits until it has: how it ended.
    pub async fn stop(&mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.stopped().await
    }

    /// Waits until the app stops (on its own, or once asked): how it ended.
    pub async fn stopped(&mut self) -> std::io::Result<()> {
        let running = self.running.take().expect("the app was started once");
        running.await.expect("the app's task")
    }

    /// A direct connection, as the CLI has, for arranging and inspecting the database.
    pub fn db(&self) -> Connection {
        ringback::db::open(&self.db_path).expect("db")
    }

    pub async fn report(&self, body: Value) -> Response {
        self.report_as(&self.restaurant.token, body).await
    }

    pub async fn report_as(&self, token: &str, body: Value) -> Response {
        self.client
            .post(format!("{}/api/partner/v1/missed-calls", self.address))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Reports and returns `(status, body)`.
    /// Reports on a task of its own, for a test that acts while the report is being handled.
    pub fn report_in_background(&self, body: Value) -> tokio::task::JoinHandle<(u16, Value)> {
        let (address, token) = (self.address.clone(), self.restaurant.token.clone());
        tokio::spawn(async move { post_json(&address, &token, &body).await })
    }

    pub async fn report_json(&self, body: Value) -> (u16, Value) {
        let response = self.report(body).await;
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    /// Any partner API call as `token`, with an optional JSON body; returns `(status, body)`.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/api/partner/v1{path}", self.address))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    pub async fn get_call(&self, token: &str, id: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}/api/partner/v1/missed-calls/{id}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    pub fn ledger_rows(&self) -> i64 {
        self.db()
            .query_row("SELECT COUNT(*) FROM calls", [], |r| r.get(0))
            .expect("count")
    }

    pub fn balance(&self) -> Option<i64> {
        self.db()
            .query_row(
                "SELECT balance_cents FROM restaurants WHERE id = ?1",
                [&self.restaurant.id],
                |r| r.get(0),
            )
            .expect("balance")
    }

    pub fn update_restaurant(&self, changes: RestaurantChanges) {
        restaurants::update_restaurant(&self.db(), &self.restaurant.id, changes).expect("update");
    }

    pub fn add_customer(&self, phone: &str, name: Option<&str>) -> String {
        customers::add_customer(&self.db(), &self.restaurant.id, phone, name).expect("customer")
    }

    /// Adds a reservation `minutes_from_now` away for this number.
    pub fn add_reservation(&self, phone: &str, minutes_from_now: i64, status: &str) -> String {
        let start = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_mins(minutes_from_now))
            .expect("time")
            .to_string();
        ringback::cli::reservations::add_reservation(
            &self.db(),
            &ringback::cli::reservations::ReservationSpec {
                restaurant_id: &self.restaurant.id,
                phone,
                start: &start,
                party_size: 4,
                status,
                name: None,
                external_id: None,
            },
            ringback::config::MissedCallsConfig::default().conversion_window_days,
        )
        .expect("reservation")
    }

    pub fn other_restaurant(&self, name: &str, country: &str, timezone: &str) -> Seeded {
        seed_restaurant(&self.db(), name, country, timezone)
    }
}

/// An RFC 3339 instant `minutes` from now (negative: in the past).
pub fn minutes_from_now(minutes: i64) -> String {
    jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_mins(minutes))
        .expect("time")
        .to_string()
}

/// Waits until `done` holds, checking every 20 ms for up to 30 s: for what the app does on its
/// own schedule (a result it records after answering, a retry's back-off), never a fixed pause.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1500 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{what} did not happen within 30 s");
}

/// The outcome stored for `external_call_id` in the test restaurant's ledger.
pub fn stored_outcome(app: &TestApp, external_call_id: &str) -> Option<String> {
    app.db()
        .query_row(
            "SELECT outcome FROM calls WHERE restaurant_id = ?1 AND external_call_id = ?2",
            [&app.restaurant.id, external_call_id],
            |r| r.get(0),
        )
        .ok()
}

/// Posts a missed-call report to the server at `address` as `token`; returns `(status, body)`.
pub async fn post_json(address: &str, token: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{address}/api/partner/v1/missed-calls"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

/// Holds the writer inside a job until the returned sender is dropped, so that every job queued
/// meanwhile lands in the next batch, whole.
pub fn hold_writer(writer: &Writer) -> std::sync::mpsc::Sender<()> {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    let w = writer.clone();
    tokio::spawn(async move {
        let _ = w
            .run(move |_| {
                let _ = held_tx.send(());
                let _ = wait.recv();
                Ok::<_, ringback::db::DbError>(())
            })
            .await;
    });
    held_rx.recv().expect("the writer took the holding job");
    release
}

/// How many jobs were ever put in the writer's queue.
pub fn queued(writer: &Writer) -> u64 {
    writer
        .stats()
        .queued
        .load(std::sync::atomic::Ordering::SeqCst)
}

/// Waits until `n` jobs more than `since` were put in the writer's queue.
pub async fn until_queued(writer: &Writer, since: u64, n: u64) {
    while queued(writer) < since + n {
        tokio::task::yield_now().await;
    }
}

/// A console user's password in the tests: long enough for the rule, typed like a manager would.
pub const CONSOLE_PASSWORD: &str = "service du soir 2026";

impl TestApp {
    /// Adds a console user who sees `restaurant` (`None`: every restaurant).
    pub fn add_console_user(&self, username: &str, restaurant: Option<&str>) {
        let hash = ringback::console::password::hash_password(CONSOLE_PASSWORD).expect("hash");
        ringback::db::users::insert_user(&self.db(), username, &hash, restaurant, None, 0)
            .expect("user")
            .expect("new user");
    }

    /// Signs in over the JSON login; returns the `Cookie` header value of the new session.
    pub async fn console_session(&self, username: &str) -> String {
        let response = self
            .client
            .post(format!("{}/console/login", self.address))
            .json(&serde_json::json!({"username": username, "password": CONSOLE_PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status().as_u16(), 204, "login of {username}");
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .expect("set-cookie");
        set_cookie.split(';').next().expect("pair").to_string()
    }

    /// `GET` a console path with a session cookie: the status and the JSON body (or `Null`).
    pub async fn console_get(&self, cookie: &str, path_and_query: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path_and_query}", self.address))
            .header("cookie", cookie)
            .send()
            .await
            .expect("console get");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }
}
