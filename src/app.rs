//! Builds the application: the database, the writer, the transport, the one route table, and
//! the listener (port 0 works); then serves until the shutdown future resolves.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::sync::oneshot::error::RecvError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Replication, ServerConfig, TransportKind};
use crate::console::ConsoleState;
use crate::db::lock::{DatabaseLock, LockError};
use crate::db::token_use::TokenUse;
use crate::db::{self, Checkpointer, DbError, ReadPool, Stopped, Writer};
use crate::jobs;
use crate::jobs::timers::Timers;
use crate::listener::{self, Limits};
use crate::missed_call::{Fatal, Pipeline, recover_interrupted};
use crate::ops::health::{self, Readiness};
use crate::ops::openapi;
use crate::rate_limit::RateLimit;
use crate::routes::{self, customers, partner, reservations};
use crate::state::{AppState, RoomState};
use crate::telemetry::metrics::Metrics;
use crate::vault::Vault;
use crate::webhooks::{self, Webhooks};
use crate::whatsapp::Transport;
use crate::whatsapp::cloud::Cloud;
use crate::whatsapp::sandbox::Sandbox;

/// How long shutdown waits for in-flight dispatches.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database {path}: {source}")]
    Database { path: String, source: DbError },
    #[error("{0}")]
    Tls(String),
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

pub struct App {
    listener: TcpListener,
    router: Router,
    pipeline: Pipeline,
    writer: Writer,
    limits: Limits,
    tls: Option<listener::TlsAcceptor>,
    retention_days: i64,
    /// Settles Telnyx sessions, retries failed Telnyx calls, ends holds (SPEC §10).
    timers: Timers,
    /// The partner tokens' last use, written once a minute and at shutdown.
    token_use: Arc<TokenUse>,
    started: Started,
    /// Held while the app lives: `restore` refuses, and a second server does not start.
    _lock: DatabaseLock,
    /// Resolve if the writer or the checkpointer thread dies.
    writer_stopped: Stopped,
    checkpointer_stopped: Stopped,
}

/// What the start-up log line says.
#[derive(Debug, Clone)]
pub struct Started {
    pub database: String,
    pub transport: TransportKind,
    pub restaurants_enabled: i64,
    pub tls: bool,
    /// Which webhooks of SPEC §10 are on: `telnyx`, `whatsapp`, both or `none`.
    pub webhooks: &'static str,
    /// `database.replication`: `none` or `litestream` (SPEC §8.1).
    pub replication: Replication,
    /// The key file that seals access tokens (SPEC §8.2).
    pub key_file: String,
}

/// The database side of the app, opened together on a blocking thread.
struct Storage {
    vault: Arc<Vault>,
    restaurants_enabled: i64,
    reads: ReadPool,
    writer: Writer,
    writer_stopped: Stopped,
    checkpointer: Checkpointer,
    checkpointer_stopped: Stopped,
}

/// Opens (and migrates) the database, turns rows a crash left in flight into FAILED, and starts
/// the writer and the checkpointer. Blocking: file I/O and SQLite.
fn open_storage(config: &Config) -> Result<Storage, DbError> {
    let (path, max_pending_writes) = (&config.database.path, config.database.max_pending_writes);
    let mut conn = db::open(path)?;
    let whatsapp = &config.whatsapp;
    let hold_ms = whatsapp
        .webhook_on()
        .then_some(whatsapp.reconcile_seconds * 1000);
    let stale_ms = config.missed_calls.stale_after_minutes * 60_000;
    let recovered = recover_interrupted(&mut conn, hold_ms, stale_ms)?;
    if recovered.failed > 0 {
        tracing::warn!(
            calls = recovered.failed,
            "dispatches interrupted by a restart are now FAILED; a retry sends them"
        );
    }
    if recovered.sent > 0 {
        tracing::info!(
            calls = recovered.sent,
            "dispatches interrupted by a restart had already reached WhatsApp (its status said so): SENT"
        );
    }
    if recovered.held > 0 {
        tracing::warn!(
            calls = recovered.held,
            seconds = whatsapp.reconcile_seconds,
            "dispatches interrupted by a restart wait for WhatsApp's status before they count as FAILED"
        );
    }
    let owns_wal = config.database.replication.owns_wal();
    if owns_wal && db::replicated_by_litestream(&conn)? {
        // Under Litestream with replication = "none", ringback's checkpoints and `customer
        // forget` would restart the WAL under Litestream's feet.
        tracing::warn!(
            "Litestream has replicated this database, but [database] replication is \"none\": \
             if Litestream still runs, set replication = \"litestream\" in the configuration \
             (docs/operations.md, \"Replication\")"
        );
    }
    let sealing = db::sealing::prepare(&mut conn, &config.database)?;
    sealing.log();
    let restaurants_enabled = db::restaurants::count_enabled(&conn)?;
    let reads = db::open_read_pool(path, 16)?;
    let (writer, writer_stopped) =
        Writer::start(conn, max_pending_writes).map_err(|e| DbError::Task(e.to_string()))?;
    let (checkpointer, checkpointer_stopped) = Checkpointer::start(path, owns_wal)?;
    Ok(Storage {
        vault: Arc::new(sealing.vault),
        restaurants_enabled,
        reads,
        writer,
        writer_stopped,
        checkpointer,
        checkpointer_stopped,
    })
}

/// `open_storage` on a blocking thread, after warming the phone metadata and the password hasher.
async fn open_storage_off_runtime(config: &Config) -> Result<Storage, StartError> {
    let db_error = |source| StartError::Database {
        path: config.database.path.display().to_string(),
        source,
    };
    let open_config = config.clone();
    tokio::task::spawn_blocking(move || {
        crate::phone::warm_up();
        crate::console::password::warm_up();
        open_storage(&open_config)
    })
    .await
    .map_err(|e| db_error(DbError::Task(e.to_string())))?
    .map_err(db_error)
}

/// The TLS acceptor when `server.tls_cert` is set; `None` serves plain HTTP.
fn tls_acceptor(server: &ServerConfig) -> Result<Option<listener::TlsAcceptor>, StartError> {
    if server.tls_cert.as_os_str().is_empty() {
        return Ok(None);
    }
    let (cert, key) = (&server.tls_cert, &server.tls_key);
    listener::tls_acceptor(cert, key)
        .map(Some)
        .map_err(StartError::Tls)
}

/// The missed-call pipeline, on a writer whose batches `metrics` counts.
fn start_pipeline(
    config: &Config,
    storage: &Storage,
    metrics: &Metrics,
    transport: Arc<dyn Transport>,
) -> Pipeline {
    let batches = metrics.clone();
    storage
        .writer
        .observe_batches(move |jobs| batches.write_batch(jobs));
    Pipeline::new(
        metrics.clone(),
        storage.writer.clone(),
        transport,
        &config.whatsapp,
        config.missed_calls.clone(),
        &config.server.public_url,
        Arc::clone(&storage.vault),
    )
}

/// The listener's limits; warns first if the descriptor limit is below `max_connections`.
fn limits(server: &ServerConfig) -> Limits {
    listener::check_descriptor_limit(server.max_connections);
    Limits {
        header_timeout: Duration::from_millis(server.header_timeout_ms),
        idle_timeout: Duration::from_millis(server.idle_timeout_ms),
        max_connections: server.max_connections,
        max_connections_per_address: server.max_connections_per_address,
    }
}

impl Started {
    fn new(config: &Config, storage: &Storage, tls: bool) -> Started {
        Started {
            database: config.database.path.display().to_string(),
            transport: config.whatsapp.transport,
            restaurants_enabled: storage.restaurants_enabled,
            tls,
            webhooks: match (
                !config.telnyx.public_key.is_empty(),
                config.whatsapp.webhook_on(),
            ) {
                (true, true) => "telnyx,whatsapp",
                (true, false) => "telnyx",
                (false, true) => "whatsapp",
                (false, false) => "none",
            },
            replication: config.database.replication,
            key_file: storage.vault.path().display().to_string(),
        }
    }
}

/// The one route table. The console, the webhooks and operations each answer with their own
/// state beside the shared handles (`RoomState`); the partner API with the shared handles alone.
fn routes(state: AppState, rooms: Rooms) -> Router {
    let operations = Router::new()
        .route("/api/partner/v1/openapi.json", get(openapi::get_openapi))
        .route("/healthz", get(health::get_health))
        .route("/readyz", get(health::get_readiness))
        .route("/metrics", get(health::get_metrics))
        .with_state(RoomState::new(state.clone(), rooms.readiness));
    let webhooks = Router::new()
        .route("/webhooks/telnyx", post(webhooks::telnyx::receive))
        .route(
            "/webhooks/whatsapp",
            get(webhooks::whatsapp::handshake).post(webhooks::whatsapp::receive),
        )
        .with_state(RoomState::new(state.clone(), rooms.webhooks));
    let console = RoomState::new(state.clone(), rooms.console);
    Router::new()
        .route(
            "/api/partner/v1/missed-calls",
            post(partner::report_missed_call),
        )
        .route(
            "/api/partner/v1/missed-calls/{id}",
            get(partner::get_missed_call),
        )
        .route("/api/partner/v1/me", get(partner::get_me))
        .route(
            "/api/partner/v1/reservations",
            post(reservations::create_reservation).get(reservations::list_reservations),
        )
        .route(
            "/api/partner/v1/reservations/{id}",
            get(reservations::get_reservation).patch(reservations::update_reservation),
        )
        .route(
            "/api/partner/v1/reservations/{id}/cancel",
            post(reservations::cancel_reservation),
        )
        .route("/api/partner/v1/customers", get(customers::find_customers))
        .route(
            "/api/partner/v1/customers/{id}",
            axum::routing::patch(customers::update_customer),
        )
        .merge(operations)
        .merge(webhooks)
        .merge(crate::console::routes(console.clone()).with_state(console))
        .merge(routes::test_routes())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        // Inside the request layer, so that a panic's 500 gets the envelope and the request id.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            routes::panicked,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            routes::request_layer,
        ))
        .with_state(state)
}

/// Each room's own state, made at start-up.
struct Rooms {
    readiness: Readiness,
    webhooks: Webhooks,
    console: ConsoleState,
}

impl App {
    /// Opens (and migrates) the database, turns rows a crash left in flight into FAILED, warms
    /// the phone metadata and binds the listener. Nothing is served until `run_until_stopped`.
    pub async fn build(config: Config) -> Result<App, StartError> {
        let transport: Arc<dyn Transport> = match config.whatsapp.transport {
            TransportKind::Cloud => Arc::new(Cloud::new(
                &config.whatsapp.api_base,
                Duration::from_millis(config.whatsapp.timeout_ms),
            )),
            TransportKind::Sandbox => Arc::new(Sandbox),
        };
        App::build_with_transport(config, transport).await
    }

    pub async fn build_with_transport(
        config: Config,
        transport: Arc<dyn Transport>,
    ) -> Result<App, StartError> {
        let lock = DatabaseLock::acquire(&config.database.path)?;
        let storage = open_storage_off_runtime(&config).await?;
        let tls = tls_acceptor(&config.server)?;
        let addr = config.server.listen.clone();
        let listener =
            listener::bind(&addr).map_err(|source| StartError::Listen { addr, source })?;
        Ok(App::assemble(
            config, transport, storage, lock, tls, listener,
        ))
    }

    /// Wires the opened storage and the bound listener into the app; nothing here can fail.
    fn assemble(
        config: Config,
        transport: Arc<dyn Transport>,
        storage: Storage,
        lock: DatabaseLock,
        tls: Option<listener::TlsAcceptor>,
        listener: TcpListener,
    ) -> App {
        let metrics = Metrics::new();
        let pipeline = start_pipeline(&config, &storage, &metrics, transport);
        let limits = limits(&config.server);
        let started = Started::new(&config, &storage, tls.is_some());
        let config_retention_days = config.missed_calls.retention_days;
        let rate_limit = RateLimit::new(config.server.rate_limit_per_minute);
        let webhooks = Webhooks::new(&config);
        let timers = Timers {
            writer: storage.writer.clone(),
            reads: storage.reads.clone(),
            pipeline: pipeline.clone(),
            settle_ms: config.telnyx.settle_seconds * 1000,
            retention_days: config.missed_calls.retention_days,
            max_running: config.whatsapp.dispatch_threads,
            wake: Arc::clone(&webhooks.timers),
        };
        let token_use = Arc::<TokenUse>::default();
        let state = AppState {
            pipeline: pipeline.clone(),
            writer: storage.writer.clone(),
            reads: storage.reads,
            config: Arc::new(config),
            checkpointer: storage.checkpointer,
            metrics,
            rate_limit,
            token_use: Arc::clone(&token_use),
            vault: storage.vault,
        };
        let rooms = Rooms {
            readiness: Readiness::default(),
            console: ConsoleState::new(tls.is_some()),
            webhooks,
        };
        App {
            listener,
            router: routes(state, rooms),
            pipeline,
            writer: storage.writer,
            limits,
            tls,
            retention_days: config_retention_days,
            timers,
            token_use,
            started,
            _lock: lock,
            writer_stopped: storage.writer_stopped,
            checkpointer_stopped: storage.checkpointer_stopped,
        }
    }

    /// The app's single writer: for tests that need to reach the database thread itself.
    pub fn writer(&self) -> Writer {
        self.writer.clone()
    }

    /// What the app was started with, for the start-up log line.
    pub fn started(&self) -> &Started {
        &self.started
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves; then stops accepting, lets in-flight requests and
    /// dispatches finish (up to 30 s) and returns. Returns an error at once if the writer or the
    /// checkpointer thread dies, or a send's result can be stored in no way: a process that
    /// cannot write as it must not go on answering, and its restart recovers the row.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let jobs_stop = CancellationToken::new();
        let watched = start_jobs(
            &self.writer,
            self.retention_days,
            self.timers,
            &self.token_use,
            &jobs_stop,
        );
        let stop_jobs_now = jobs_stop.clone();
        let _stop_jobs = jobs_stop.drop_guard();
        let stopping = Arc::new(Notify::new());
        let notify = Arc::clone(&stopping);
        let serve = listener::serve(
            self.listener,
            self.router,
            self.limits,
            self.tls,
            async move {
                shutdown.await;
                tracing::info!("shutting down: finishing in-flight requests");
                notify.notify_one();
            },
        );
        let mut serve = std::pin::pin!(serve);
        let died = must_stop(
            self.writer_stopped,
            self.checkpointer_stopped,
            watched,
            self.pipeline.fatal().clone(),
        );
        // `serve` ends once shutdown was asked for and every connection closed; a report whose
        // PBX hung up, or a result still being stored, may outlive both, so the drain below
        // runs whichever finished first.
        let served = tokio::select! {
            () = &mut serve => true,
            reason = died => {
                tracing::error!(
                    reason = %reason,
                    "stopping: the ledger can no longer be written as it must; the supervisor's \
                     restart recovers what was in flight"
                );
                return Err(std::io::Error::other(reason));
            }
            () = stopping.notified() => false,
        };
        // No new settle or retry starts once stopping: the drain waits only for what runs.
        stop_jobs_now.cancel();
        drain(serve, served, &self.pipeline, &self.token_use, &self.writer).await
    }
}

/// The jobs whose failure stops the process.
struct WatchedJobs {
    retention: JoinHandle<()>,
    timers: JoinHandle<()>,
}

/// Spawns the retention, timers and token-use jobs, which run until `stop` is cancelled.
fn start_jobs(
    writer: &Writer,
    retention_days: i64,
    timers: Timers,
    token_use: &Arc<TokenUse>,
    stop: &CancellationToken,
) -> WatchedJobs {
    let retention = tokio::spawn(jobs::retention::run(
        writer.clone(),
        retention_days,
        stop.clone(),
    ));
    let timers = tokio::spawn(jobs::timers::run(timers, stop.clone()));
    tokio::spawn(jobs::token_use::run(
        writer.clone(),
        Arc::clone(token_use),
        stop.clone(),
    ));
    WatchedJobs { retention, timers }
}

/// Why the process must stop: a database thread ended, a job failed, or a result went unstored.
async fn must_stop(
    writer_stopped: Stopped,
    checkpointer_stopped: Stopped,
    jobs: WatchedJobs,
    fatal: Fatal,
) -> String {
    let reason = tokio::select! {
        r = writer_stopped => r,
        r = checkpointer_stopped => r,
        r = job_failed(jobs.retention, "retention") => r,
        r = job_failed(jobs.timers, "timers") => r,
        r = fatal.stopped() => Ok(r),
    };
    reason.unwrap_or_else(|_| "a database thread ended".into())
}

/// Resolves only if `job` failed.
async fn job_failed(job: JoinHandle<()>, name: &str) -> Result<String, RecvError> {
    match job.await {
        // Finished (kept forever, or stopping): nothing to watch any more.
        Ok(()) => std::future::pending().await,
        Err(e) => Ok(format!("the {name} job failed: {e}")),
    }
}

/// Lets connections, dispatches and the tokens' last use finish, for up to `DRAIN_TIMEOUT`.
async fn drain(
    serve: Pin<&mut impl Future<Output = ()>>,
    served: bool,
    pipeline: &Pipeline,
    token_use: &Arc<TokenUse>,
    writer: &Writer,
) -> std::io::Result<()> {
    let in_flight = pipeline.in_flight().clone();
    let (token_use, writer) = (Arc::clone(token_use), writer.clone());
    let drain = async move {
        if !served {
            serve.await;
        }
        in_flight.close();
        in_flight.wait().await;
        token_use.flush(&writer).await;
    };
    // A result that cannot be stored in any way while draining still means a row for
    // start-up recovery: the exit says so.
    let fatal = pipeline.fatal().clone();
    tokio::select! {
        drained = tokio::time::timeout(DRAIN_TIMEOUT, drain) => {
            if drained.is_err() {
                tracing::warn!("in-flight dispatches did not finish within 30 s; stopping anyway");
            }
        }
        reason = fatal.stopped() => {
            tracing::error!(reason = %reason, "stopping: a result could not be stored");
            return Err(std::io::Error::other(reason));
        }
    }
    Ok(())
}
