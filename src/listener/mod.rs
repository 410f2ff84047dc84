//! Serving connections: at most `server.max_connections` at once, a head that must arrive within
//! `server.header_timeout_ms`, idle keep-alive connections closed after `server.idle_timeout_ms`,
//! and hyper's own refusals (a head too large, too many headers, a request that is not HTTP)
//! answered in the error envelope like every other error.
//!
//! Idle or half-sent connections therefore hold a bounded number of descriptors and a bounded
//! buffer each: the rest wait in the kernel's listen backlog, costing the process nothing.

mod bind;
mod deadline;
mod tls;
mod watched;

pub use bind::{bind, check_descriptor_limit};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service;

pub use deadline::BodyTimedOut;
use deadline::Deadline;
pub use tls::acceptor as tls_acceptor;
pub use tokio_rustls::TlsAcceptor;
use watched::Watched;

/// Bytes hyper may buffer for one request head. A larger head is refused `431`; with
/// `max_connections` this bounds what half-sent heads can take from memory.
const MAX_HEAD_BYTES: usize = 32 * 1024;

/// Request headers accepted at most; more are refused `431`.
const MAX_HEADERS: usize = 100;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Accepts and serves connections until `shutdown` resolves; then lets every open connection
/// finish its request in flight and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let stop = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A slot first, then accept: past the cap, new connections wait in the listen backlog.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, most likely: give closing connections a moment.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (router, stop, tls) = (router.clone(), stop.clone(), tls.clone());
        connections.spawn(async move {
            match tls {
                None => serve_connection(stream, peer, router, limits, stop).await,
                Some(tls) => {
                    if let Some(stream) = handshake(&tls, stream, limits.header_timeout).await {
                        serve_connection(stream, peer, router, limits, stop).await;
                    }
                }
            }
            drop(slot);
        });
    }
    stop.cancel();
    connections.close();
    connections.wait().await;
}

/// Where a connection stands, for its timeouts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Waiting for (the rest of) a request head since this instant.
    Head(Instant),
    /// This many requests are being answered: no timeout runs.
    Busy(usize),
    /// Answered everything; idle since this instant.
    Idle(Instant),
}

/// Where the connection stands. Updated on the request path (a lock nobody else holds for
/// long); read by the connection's watchdog tick, so a request costs no timer of its own.
struct Activity {
    phase: Mutex<Phase>,
}

impl Activity {
    fn update(&self, change: impl FnOnce(Phase) -> Phase) {
        if let Ok(mut phase) = self.phase.lock() {
            *phase = change(*phase);
        }
    }

    fn phase(&self) -> Phase {
        self.phase.lock().map_or(Phase::Busy(0), |p| *p)
    }

    /// Bytes arrived: on an idle connection they start the next request's head.
    fn bytes_arrived(&self) {
        self.update(|p| match p {
            Phase::Idle(_) => Phase::Head(Instant::now()),
            p => p,
        });
    }

    fn request_started(&self) {
        self.update(|p| match p {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        });
    }

    fn request_finished(&self) {
        self.update(|p| match p {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle(Instant::now()),
        });
    }
}

/// Marks a request finished when its response is ready, or when it is dropped unanswered.
struct InRequest(Arc<Activity>);

impl Drop for InRequest {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// The TLS handshake, which like a request head must be done within `server.header_timeout_ms`:
/// a client that opens a connection and stalls holds its slot no longer than one that sends
/// half a head.
async fn handshake(
    tls: &TlsAcceptor,
    stream: TcpStream,
    within: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(within, tls.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake not done within the head timeout");
            None
        }
    }
}

async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    stop: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity {
        phase: Mutex::new(Phase::Head(Instant::now())),
    });
    let io = TokioIo::new(Watched::new(stream, Arc::clone(&activity)));
    let service_activity = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        service_activity.request_started();
        let guard = InRequest(Arc::clone(&service_activity));
        let mut router = router.clone();
        let body_limit = limits.header_timeout;
        let request = request.map(|b| Body::new(Deadline::new(Body::new(b), body_limit)));
        let response = router.call(request);
        async move {
            let response = response.await;
            drop(guard);
            response
        }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        // The head timeout is ours (below): hyper's would also cut idle keep-alive connections.
        .header_read_timeout(None)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        // One contiguous buffer per response, which is what `Watched` inspects.
        .writev(false)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let mut stopping = false;
    let deadline_of = |phase| match phase {
        Phase::Head(since) => Some(since + limits.header_timeout),
        Phase::Idle(since) => Some(since + limits.idle_timeout),
        Phase::Busy(_) => None,
    };
    // The timeouts are checked on a tick, a quarter of the shorter one: a connection closes at
    // most that late, and a request re-arms no timer.
    let tick = (limits.header_timeout.min(limits.idle_timeout) / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut ticks = tokio::time::interval_at(Instant::now() + tick, tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = ticks.tick() => {
                // Dropping the connection closes it; nothing is in flight on it.
                if deadline_of(activity.phase()).is_some_and(|at| at <= Instant::now()) {
                    return;
                }
            }
            () = stop.cancelled(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}
