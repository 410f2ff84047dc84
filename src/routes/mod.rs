//! The HTTP edge: the partner endpoints, and the layer every response passes through.

pub mod bodies;
pub mod customers;
pub mod input;
pub mod partner;
mod reservation_input;
pub mod reservations;

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::{ApiError, ErrorEnvelope};
use crate::secret::random_alphanumeric;
use crate::telemetry::metrics::Metrics;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of one request, echoed from the client when it is usable.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// 1 to 64 visible ASCII characters: an id an integrator can grep for in both logs.
fn usable_request_id(value: &HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    ((1..=64).contains(&bytes.len()) && bytes.iter().all(|b| (0x21..=0x7e).contains(b)))
        .then(|| String::from_utf8_lossy(bytes).into_owned())
}

/// Longest request URI (path and query) routed; a longer one is refused `414` before routing.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Gives every request an id and a span, logs it once, and writes the error envelope (which
/// carries the id) for every error answer, including those of the fallbacks.
pub async fn request_layer(
    State(metrics): State<Metrics>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(usable_request_id)
        .unwrap_or_else(|| format!("req_{}", random_alphanumeric(20)));
    request.extensions_mut().insert(RequestId(id.clone()));
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = request.method().clone();
    let span = tracing::info_span!("request", http.method = %method, http.route = %route, request.id = %id);
    let started = Instant::now();
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    let mut response = if uri_bytes > MAX_URI_BYTES {
        ApiError::UriTooLong {
            limit: MAX_URI_BYTES,
        }
        .into_response()
    } else {
        next.run(request).instrument(span.clone()).await
    };

    if let Some(envelope) = response.extensions_mut().remove::<ErrorEnvelope>() {
        let body = envelope.to_json(&id).to_string();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response.headers_mut().remove(header::CONTENT_LENGTH);
        *response.body_mut() = Body::from(body);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    // A report already logs its outcome; the request line matters when something went wrong.
    let status = response.status().as_u16();
    let took = started.elapsed();
    metrics.http(&route, status, took);
    let latency_ms = took.as_millis() as u64;
    span.in_scope(|| {
        if status >= 400 {
            tracing::info!(http.status = status, latency_ms, "request finished");
        } else {
            tracing::debug!(http.status = status, latency_ms, "request finished");
        }
    });
    response
}

/// A handler that panicked: `500 INTERNAL_ERROR`, the panic logged, the connection and the
/// process serving on.
pub fn panicked(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    ApiError::Internal(format!("a handler panicked: {what}")).into_response()
}

/// Routes the integration tests need and nobody else: a handler that panics.
#[cfg(feature = "test-routes")]
pub fn test_routes<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    axum::Router::new().route("/test/panic", axum::routing::get(panic_for_tests))
}

#[cfg(feature = "test-routes")]
async fn panic_for_tests() -> axum::http::StatusCode {
    panic!("a handler made to panic by a test")
}

#[cfg(not(feature = "test-routes"))]
pub fn test_routes<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    axum::Router::new()
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
