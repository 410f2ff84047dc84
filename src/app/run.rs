//! Serving until stopped: the background jobs, what makes the server stop, and the drain.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::Notify;
use tokio::sync::oneshot::error::RecvError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{App, DRAIN_TIMEOUT};
use crate::db::token_use::TokenUse;
use crate::db::{Stopped, Writer};
use crate::jobs;
use crate::jobs::timers::Timers;
use crate::listener;
use crate::missed_call::{Fatal, Pipeline};

impl App {
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
