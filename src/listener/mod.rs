//! Serving connections: at most `server.max_connections` at once and
//! `server.max_connections_per_address` per client, a head that must arrive within
//! `server.header_timeout_ms`, idle keep-alive connections closed after `server.idle_timeout_ms`
//! (a response counts as activity until its last byte), and hyper's own refusals (a head too
//! large, too many headers, a request that is not HTTP) answered in the error envelope like
//! every other error.
//!
//! Idle or half-sent connections therefore hold a bounded number of descriptors and a bounded
//! buffer each, and at the cap the one idle longest makes room: one client cannot lock the
//! others out.

mod activity;
mod bind;
mod deadline;
mod registry;
mod tls;
mod watched;

pub use bind::{bind, check_descriptor_limit};

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service;

use activity::{Activity, InRequest, Responding};
pub use deadline::BodyTimedOut;
use deadline::Deadline;
use registry::Registry;
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
    /// Connections one client address may hold (`0`: no cap, as behind a reverse proxy).
    pub max_connections_per_address: usize,
}

/// How long the accept loop waits for a connection it closed to make room to give back its
/// slot before it closes another; and how often it looks again while every connection is busy.
const ROOM_WAIT: Duration = Duration::from_secs(1);
const BUSY_LOOK: Duration = Duration::from_millis(50);

/// Accepts and serves connections until `shutdown` resolves; then lets every open connection
/// finish its request in flight and returns once all are closed.
///
/// A client address already holding `max_connections_per_address` has its new connections
/// closed at once. At `max_connections`, the connection that has waited longest on its client
/// is closed for the new one; when every connection is answering a request, the new one waits
/// for a slot (and the connections after it in the listen backlog).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let registry = Arc::new(Registry::default());
    let stop = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
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
        if !registry.admits(peer.ip(), limits.max_connections_per_address) {
            continue;
        }
        let slot = tokio::select! {
            slot = make_room(&slots, &registry) => match slot {
                Some(slot) => slot,
                None => break,
            },
            () = &mut shutdown => break,
        };
        let activity = Arc::new(Activity::new());
        let close = CancellationToken::new();
        let registered = registry.register(peer.ip(), &activity, &close);
        let (router, stop, tls) = (router.clone(), stop.clone(), tls.clone());
        let watch = Watch {
            activity,
            limits,
            stop,
            close,
        };
        connections.spawn(async move {
            serve_accepted(stream, peer, router, tls, watch).await;
            drop(registered);
            drop(slot);
        });
    }
    stop.cancel();
    connections.close();
    connections.wait().await;
}

/// A free slot, or one made by closing the connection that has waited longest on its client.
/// `None` once the slots are shut.
async fn make_room(slots: &Arc<Semaphore>, registry: &Registry) -> Option<OwnedSemaphorePermit> {
    loop {
        match Arc::clone(slots).try_acquire_owned() {
            Ok(slot) => return Some(slot),
            Err(TryAcquireError::Closed) => return None,
            Err(TryAcquireError::NoPermits) => {}
        }
        let wait = if registry.close_longest_idle() {
            ROOM_WAIT
        } else {
            BUSY_LOOK
        };
        match tokio::time::timeout(wait, Arc::clone(slots).acquire_owned()).await {
            Ok(Ok(slot)) => return Some(slot),
            Ok(Err(_)) => return None,
            Err(_) => {}
        }
    }
}

/// What a connection's watchdog looks at.
struct Watch {
    activity: Arc<Activity>,
    limits: Limits,
    /// The server is stopping: finish the request in flight, then close.
    stop: CancellationToken,
    /// A new connection needs this one's slot.
    close: CancellationToken,
}

/// Serves one accepted connection, after its TLS handshake when the listener has TLS.
async fn serve_accepted(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    tls: Option<TlsAcceptor>,
    watch: Watch,
) {
    match tls {
        None => serve_connection(stream, peer, router, watch).await,
        Some(tls) => {
            // Made room for before it is done: it gives up its slot at once.
            let handshake = handshake(&tls, stream, watch.limits.header_timeout);
            let stream = tokio::select! {
                stream = handshake => stream,
                () = watch.close.cancelled() => None,
            };
            if let Some(stream) = stream {
                serve_connection(stream, peer, router, watch).await;
            }
        }
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

async fn serve_connection<S>(stream: S, peer: SocketAddr, router: Router, watch: Watch)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Watch {
        activity,
        limits,
        stop,
        close,
    } = watch;
    let io = TokioIo::new(Watched::new(stream, Arc::clone(&activity)));
    let service = service(peer, router, Arc::clone(&activity), limits.header_timeout);
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
    let mut ticks = timeout_ticks(limits);
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = ticks.tick() => {
                // Dropping the connection closes it.
                let deadline = activity.deadline(limits.header_timeout, limits.idle_timeout);
                if deadline.is_some_and(|at| at <= Instant::now()) {
                    tracing::debug!(client = %peer.ip(), "a connection timed out: closed");
                    return;
                }
            }
            () = close.cancelled(), if !stopping => {
                // Chosen while it waited on its client; a request that arrived since is
                // answered first.
                if !activity.is_busy() {
                    return;
                }
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
            () = stop.cancelled(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The router as hyper's service: each request with the client's address and a body deadline.
fn service(
    peer: SocketAddr,
    router: Router,
    activity: Arc<Activity>,
    header_timeout: Duration,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = hyper::Response<Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<hyper::Response<Body>, Infallible>> + Send,
> + Send {
    hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let in_request = InRequest::start(&activity);
        let mut router = router.clone();
        let request = request.map(|b| Body::new(Deadline::new(Body::new(b), header_timeout)));
        let response = router.call(request);
        async move {
            // The request counts until its response's last byte, or until this is dropped.
            let response = response.await?;
            Ok::<_, Infallible>(response.map(|body| Body::new(Responding::new(body, in_request))))
        }
    })
}

/// The tick on which a connection's timeouts are checked.
fn timeout_ticks(limits: Limits) -> tokio::time::Interval {
    // A quarter of the shorter timeout: a connection closes at most that late, and a request
    // re-arms no timer.
    let tick = (limits.header_timeout.min(limits.idle_timeout) / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut ticks = tokio::time::interval_at(Instant::now() + tick, tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks
}
