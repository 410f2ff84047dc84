//! `ApiError`: every error the API answers, its status and code in one match (SPEC §2.3).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::bookings::BookingError;
use crate::db::{DbError, StorageFault};
use crate::missed_call::PipelineError;

pub mod responses;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `MALFORMED_REQUEST`: not JSON, not an object, a wrong type, a required field missing.
    #[error("{message}")]
    Malformed {
        message: String,
        field: Option<&'static str>,
    },
    /// 401 `UNAUTHORIZED`, with `WWW-Authenticate: Bearer`.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// 404 `NOT_FOUND`: an unknown route, or a resource this token cannot see.
    #[error("{0}")]
    NotFound(String),
    /// 405 `METHOD_NOT_ALLOWED`.
    #[error("this method is not allowed on this route")]
    MethodNotAllowed,
    /// 409 `CALL_IN_PROGRESS`, with `Retry-After`: 1 s for a send in flight, or until WhatsApp's
    /// status has had time to say whether a send that may have left did.
    #[error("call {call_id} is being dispatched right now; retry in {retry_after_secs} s")]
    CallInProgress {
        call_id: String,
        retry_after_secs: u64,
    },
    /// 409 `SUPPRESSION_NOT_OPERATOR`: the console may lift only the restaurant's own stop; the
    /// guest's (a STOP reply, WhatsApp's 131050) stays.
    #[error(
        "messages to this customer were stopped by the guest ({reason}); only the guest can resume them"
    )]
    SuppressionNotOperator { reason: String },
    /// 409 `CONFLICT`: the reservation's `external_id` is already used; names that reservation.
    #[error("a reservation with this external_id already exists")]
    Conflict { reservation_id: String },
    /// 413 `PAYLOAD_TOO_LARGE`.
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415 `UNSUPPORTED_MEDIA_TYPE`.
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// 422 `VALIDATION_ERROR`, naming the field.
    #[error("{message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    /// 422 `EXTERNAL_CALL_ID_REUSED`.
    #[error("external_call_id was already used in this restaurant for a different caller number")]
    ExternalCallIdReused,
    /// 502 `WHATSAPP_DISPATCH_FAILED`: the outcome is FAILED and a retry is safe.
    #[error("WhatsApp dispatch failed; retry with the same external_call_id")]
    DispatchFailed {
        call_id: String,
        code: Option<String>,
        message: Option<String>,
    },
    /// 408 `REQUEST_TIMEOUT`: the body did not arrive within `server.header_timeout_ms`.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// 414 `URI_TOO_LONG`: refused before routing.
    #[error("the request URI is longer than {limit} bytes")]
    UriTooLong { limit: usize },
    /// 429 `RATE_LIMITED`, with `Retry-After`: the token used up `server.rate_limit_per_minute`.
    #[error("too many requests for this token; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 503 `SERVICE_BUSY`, with `Retry-After: 1`: the write queue is full; nothing was recorded.
    #[error("the service is busy; nothing was recorded, retry in a moment")]
    ServiceBusy,
    /// 503 `STORAGE_UNAVAILABLE`, with `Retry-After`: the database cannot commit. Nothing was
    /// recorded, or (with `call_id`) what was recorded is reported by a later replay.
    #[error("the database cannot store this report right now; retry in a moment")]
    StorageUnavailable { call_id: Option<String> },
    /// 401 `INVALID_CREDENTIALS`: a console login failed. The same for an unknown username and
    /// a wrong password.
    #[error("wrong username or password")]
    InvalidCredentials,
    /// 401 `UNAUTHORIZED` for the console: no session, or one that expired (no Bearer challenge).
    #[error("sign in to the console first")]
    NoSession,
    /// 403 `FORBIDDEN`: a state-changing console request from another origin.
    #[error("this request must come from the console's own pages")]
    CrossOrigin,
    /// 429 `RATE_LIMITED`, with `Retry-After`: too many failed console logins for this username
    /// or address.
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    LoginThrottled { retry_after_secs: u64 },
    /// 401 `INVALID_SIGNATURE`: a webhook whose signature (or Telnyx timestamp) does not hold;
    /// nothing of it was recorded.
    #[error("{0}")]
    BadSignature(&'static str),
    /// 403 `FORBIDDEN`: Meta's webhook handshake with a wrong verify token.
    #[error("the verify token does not match")]
    WrongVerifyToken,
    /// 500 `INTERNAL_ERROR`: logged here, answered without details.
    #[error("internal error")]
    Internal(String),
}

/// The envelope of an error, without its request id. The request-id layer, which knows the id,
/// writes the body from it, so that every error (fallbacks included) has one shape.
#[derive(Debug, Clone)]
pub struct ErrorEnvelope {
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ErrorEnvelope {
    pub fn to_json(&self, request_id: &str) -> Value {
        json!({"error": {
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
            "details": self.details,
        }})
    }
}

impl ApiError {
    pub fn validation(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Validation {
            field,
            message: message.into(),
        }
    }

    pub fn malformed(field: Option<&'static str>, message: impl Into<String>) -> ApiError {
        ApiError::Malformed {
            message: message.into(),
            field,
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, Value) {
        use ApiError::*;
        let none = json!({});
        match self {
            Malformed { field, .. } => (
                StatusCode::BAD_REQUEST,
                "MALFORMED_REQUEST",
                field.map_or(none, |f| json!({"field": f})),
            ),
            Unauthorized => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED", none),
            NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND", none),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", none),
            CallInProgress { call_id, .. } => (
                StatusCode::CONFLICT,
                "CALL_IN_PROGRESS",
                json!({"call_id": call_id}),
            ),
            SuppressionNotOperator { reason } => (
                StatusCode::CONFLICT,
                "SUPPRESSION_NOT_OPERATOR",
                json!({"suppression_reason": reason}),
            ),
            Conflict { reservation_id } => (
                StatusCode::CONFLICT,
                "CONFLICT",
                json!({"field": "external_id", "reservation_id": reservation_id}),
            ),
            PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                json!({"max_body_bytes": limit}),
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                none,
            ),
            Validation { field, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_ERROR",
                json!({"field": field}),
            ),
            ExternalCallIdReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "EXTERNAL_CALL_ID_REUSED",
                json!({"field": "external_call_id"}),
            ),
            DispatchFailed {
                call_id,
                code,
                message,
            } => (
                StatusCode::BAD_GATEWAY,
                "WHATSAPP_DISPATCH_FAILED",
                json!({"call_id": call_id, "whatsapp_error": {"code": code, "message": message}}),
            ),
            RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "REQUEST_TIMEOUT", none),
            UriTooLong { limit } => (
                StatusCode::URI_TOO_LONG,
                "URI_TOO_LONG",
                json!({"max_uri_bytes": limit}),
            ),
            RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                json!({"retry_after_seconds": retry_after_secs}),
            ),
            ServiceBusy => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_BUSY", none),
            StorageUnavailable { call_id } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "STORAGE_UNAVAILABLE",
                call_id.as_ref().map_or(none, |id| json!({"call_id": id})),
            ),
            InvalidCredentials => (StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS", none),
            NoSession => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED", none),
            CrossOrigin => (StatusCode::FORBIDDEN, "FORBIDDEN", none),
            LoginThrottled { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                json!({"retry_after_seconds": retry_after_secs}),
            ),
            BadSignature(_) => (StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE", none),
            WrongVerifyToken => (StatusCode::FORBIDDEN, "FORBIDDEN", none),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", none),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error.detail = %detail, "internal error");
        }
        let (status, code, details) = self.parts();
        let envelope = ErrorEnvelope {
            code,
            message: self.to_string(),
            details,
        };
        let mut response = (status, axum::Json(envelope.to_json(""))).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::ServiceBusy => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::RateLimited { retry_after_secs }
            | ApiError::LoginThrottled { retry_after_secs }
            | ApiError::CallInProgress {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            ApiError::StorageUnavailable { .. } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(STORAGE_RETRY_AFTER),
                );
            }
            _ => {}
        }
        response.extensions_mut().insert(envelope);
        response
    }
}

/// Seconds a client should wait before retrying while the database cannot commit: long enough
/// for an operator to free space, short enough that a PBX's retry loop soon gets through.
const STORAGE_RETRY_AFTER: &str = "5";

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Busy => ApiError::ServiceBusy,
            DbError::WriterGone => ApiError::StorageUnavailable { call_id: None },
            DbError::Locked => {
                tracing::warn!(db.error = %e, "a write waited for another connection's lock");
                ApiError::StorageUnavailable { call_id: None }
            }
            e if e.is_storage_fault() => {
                tracing::error!(db.error = %e, "the database cannot commit");
                ApiError::StorageUnavailable { call_id: None }
            }
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<BookingError> for ApiError {
    fn from(e: BookingError) -> Self {
        match e {
            BookingError::NotFound(what) => ApiError::NotFound(format!("no such {what}")),
            BookingError::ExternalIdTaken { reservation_id } => {
                ApiError::Conflict { reservation_id }
            }
            BookingError::Invalid { field, message } => ApiError::Validation { field, message },
            BookingError::Db(e) => e.into(),
        }
    }
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::CallInProgress {
                call_id,
                retry_after_ms,
            } => ApiError::CallInProgress {
                call_id,
                // Whole seconds, rounded up, never 0: "retry after 0 s" would be refused again.
                retry_after_secs: u64::try_from(retry_after_ms)
                    .unwrap_or(0)
                    .div_ceil(1000)
                    .max(1),
            },
            PipelineError::ExternalCallIdReused => ApiError::ExternalCallIdReused,
            // The token was valid a moment ago; it was revoked, or the restaurant (and with it
            // the call being sent) went away, in between.
            PipelineError::RestaurantGone
            | PipelineError::TokenRevoked
            | PipelineError::CallGone { .. } => ApiError::Unauthorized,
            // The partner route reads the report again; this is left only when the restaurant
            // kept changing under it. Nothing was recorded.
            PipelineError::ReporterChanged => ApiError::ServiceBusy,
            // Only ringback's own retries ask for it; a partner's report never does.
            PipelineError::RetryNotDue { call_id } => {
                ApiError::Internal(format!("a retry of {call_id} was not due"))
            }
            PipelineError::ResultNotRecorded { call_id, .. } => ApiError::StorageUnavailable {
                call_id: Some(call_id),
            },
            PipelineError::Db(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests;
