//! Builds the application: the database, the writer, the transport, the one route table, and
//! the listener (port 0 works); then serves until the shutdown future resolves.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::config::{Config, TransportKind};
use crate::db::{self, Checkpointer, DbError, ReadPool, Writer};
use crate::missed_call::{Pipeline, recover_interrupted};
use crate::routes::{self, customers, partner, reservations};
use crate::whatsapp::Transport;
use crate::whatsapp::cloud::Cloud;
use crate::whatsapp::sandbox::Sandbox;

/// How long shutdown waits for in-flight dispatches.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pipeline: Pipeline,
    /// The single writer, for the booking endpoints' writes.
    pub writer: Writer,
    pub reads: ReadPool,
    pub config: Arc<Config>,
    /// Keeps the WAL checkpoint thread running as long as the app is.
    pub checkpointer: Checkpointer,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database {path}: {source}")]
    Database { path: String, source: DbError },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot start the database writer: {0}")]
    Writer(std::io::Error),
}

pub struct App {
    listener: TcpListener,
    router: Router,
    pipeline: Pipeline,
}

/// The one route table.
fn routes(state: AppState) -> Router {
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
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn(routes::request_layer))
        .with_state(state)
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
        let path = config.database.path.clone();
        let db_error = |source| StartError::Database {
            path: path.display().to_string(),
            source,
        };
        let path_for_open = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<_, DbError> {
            let conn = db::open(&path_for_open)?;
            let recovered = recover_interrupted(&conn)?;
            if recovered > 0 {
                tracing::warn!(
                    calls = recovered,
                    "dispatches interrupted by a restart are now FAILED; a retry sends them"
                );
            }
            crate::phone::warm_up();
            Ok(conn)
        })
        .await
        .map_err(|e| db_error(DbError::Task(e.to_string())))?
        .map_err(db_error)?;
        let reads = db::open_read_pool(&path, 16).map_err(db_error)?;
        let writer = Writer::start(conn).map_err(StartError::Writer)?;
        let checkpointer = Checkpointer::start(&path).map_err(db_error)?;

        let addr = config.server.listen.clone();
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
        let pipeline = Pipeline::new(
            writer.clone(),
            transport,
            config.whatsapp.dispatch_threads,
            config.missed_calls.clone(),
        );
        let state = AppState {
            pipeline: pipeline.clone(),
            writer,
            reads,
            config: Arc::new(config),
            checkpointer,
        };
        Ok(App {
            listener,
            router: routes(state),
            pipeline,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves; then stops accepting, lets in-flight requests and
    /// dispatches finish (up to 30 s) and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stopping = Arc::new(Notify::new());
        let notify = Arc::clone(&stopping);
        let serve = axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            notify.notify_one();
        });
        let mut serve = std::pin::pin!(serve.into_future());
        tokio::select! {
            result = &mut serve => return result,
            () = stopping.notified() => {}
        }
        let in_flight = self.pipeline.in_flight().clone();
        let drain = async move {
            let result = serve.await;
            in_flight.close();
            in_flight.wait().await;
            result
        };
        match tokio::time::timeout(DRAIN_TIMEOUT, drain).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!("in-flight dispatches did not finish within 30 s; stopping anyway");
                Ok(())
            }
        }
    }
}
