//! Builds the application: the database, the writer, the transport, the one route table, and
//! the listener (port 0 works); then serves until the shutdown future resolves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::config::{Config, Replication, ServerConfig, TransportKind};
use crate::console::ConsoleState;
use crate::db::lock::{DatabaseLock, LockError};
use crate::db::token_use::TokenUse;
use crate::db::{DbError, Stopped, Writer};
use crate::jobs::timers::Timers;
use crate::listener::{self, Limits};
use crate::missed_call::Pipeline;
use crate::ops::health::Readiness;
use crate::rate_limit::RateLimit;
use crate::state::AppState;
use crate::telemetry::metrics::Metrics;
use crate::webhooks::Webhooks;
use crate::whatsapp::Transport;
use crate::whatsapp::cloud::Cloud;
use crate::whatsapp::sandbox::Sandbox;

/// How long shutdown waits for in-flight dispatches.
mod route_table;
mod run;
mod storage;

use route_table::{Rooms, routes};
use storage::{Storage, open_storage_off_runtime};

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
            live_tokens: Arc::default(),
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
}
