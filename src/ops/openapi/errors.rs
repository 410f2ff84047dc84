//! The error envelope of SPEC §2.3 as the document describes it, and one reusable response per
//! error status, each with that envelope. `ApiError` (error.rs) decides status and code; the
//! test below keeps this list of codes in step with it.

use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToResponse, ToSchema};

use crate::views::one_of_strings;

/// Every `error.code` the API answers (SPEC §2.3).
pub const ERROR_CODES: [&str; 21] = [
    "MALFORMED_REQUEST",
    "UNAUTHORIZED",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "REQUEST_TIMEOUT",
    "CALL_IN_PROGRESS",
    "CONFLICT",
    "PAYLOAD_TOO_LARGE",
    "URI_TOO_LONG",
    "UNSUPPORTED_MEDIA_TYPE",
    "VALIDATION_ERROR",
    "EXTERNAL_CALL_ID_REUSED",
    "RATE_LIMITED",
    "HEADERS_TOO_LARGE",
    "INTERNAL_ERROR",
    "WHATSAPP_DISPATCH_FAILED",
    "SERVICE_BUSY",
    "STORAGE_UNAVAILABLE",
    "INVALID_CREDENTIALS",
    "FORBIDDEN",
    "INVALID_SIGNATURE",
];

/// The one envelope of every error answer.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorObject,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ErrorObject {
    code: ErrorCode,
    /// For a person; never shows internals.
    message: String,
    /// The request's `x-request-id`.
    request_id: String,
    /// What the code needs to be acted on: `field` for a 400 or 422, `call_id` for a 409 or
    /// 502, `reservation_id` for a 409 `CONFLICT`, limits for a 413 or 414; `{}` otherwise.
    #[schema(value_type = Object)]
    details: Value,
}

/// What went wrong, as a closed set.
pub struct ErrorCode;

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        one_of_strings(ERROR_CODES).into()
    }
}

impl ToSchema for ErrorCode {}

// One reusable response per error status. Each wraps the envelope; its description says which
// codes it carries and when.

/// `MALFORMED_REQUEST`: the body is not JSON or not an object, a field has the wrong type, a
/// required field or query parameter is missing, or the query string is malformed.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Malformed(ErrorBody);

/// `UNAUTHORIZED`: the bearer token is missing, malformed, unknown or revoked.
#[derive(ToResponse)]
#[response(headers(("WWW-Authenticate" = String, description = "`Bearer`")))]
#[allow(dead_code)]
pub struct Unauthorized(ErrorBody);

/// `NOT_FOUND`: no such resource for this token (another restaurant's id included).
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct NotFound(ErrorBody);

/// `REQUEST_TIMEOUT`: the body did not arrive within `server.header_timeout_ms`.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct RequestTimeout(ErrorBody);

/// `CALL_IN_PROGRESS`: the same `external_call_id` is being dispatched right now;
/// `details.call_id` names it. Retry with the same payload, or read the call.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u32, description = "Seconds to wait: `1`")))]
#[allow(dead_code)]
pub struct CallInProgress(ErrorBody);

/// `CONFLICT`: the `external_id` is already used by `details.reservation_id`.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Conflict(ErrorBody);

/// `PAYLOAD_TOO_LARGE`: the body is over `server.max_body_bytes`.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct PayloadTooLarge(ErrorBody);

/// `UNSUPPORTED_MEDIA_TYPE`: `Content-Type` is not `application/json`.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct UnsupportedMediaType(ErrorBody);

/// `VALIDATION_ERROR` naming `details.field`: a length, range or format rule fails, a time is
/// unparseable, a number is not valid for the restaurant's country. For a report, also
/// `EXTERNAL_CALL_ID_REUSED`: the id was used for a different caller number.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Invalid(ErrorBody);

/// `RATE_LIMITED`: over this token's `server.rate_limit_per_minute`.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u32, description = "Seconds to wait")))]
#[allow(dead_code)]
pub struct RateLimited(ErrorBody);

/// `INTERNAL_ERROR`: anything else; logged, never detailed.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Internal(ErrorBody);

/// `WHATSAPP_DISPATCH_FAILED`: the outcome is `FAILED` and nothing final happened;
/// `details.call_id` names the ledger row. Retry with the same `external_call_id`.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct DispatchFailed(ErrorBody);

/// `SERVICE_BUSY` (the write queue is full) or `STORAGE_UNAVAILABLE` (the database cannot
/// commit): nothing was recorded, or what was is reported by a later replay.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u32, description = "Seconds to wait")))]
#[allow(dead_code)]
pub struct Unavailable(ErrorBody);

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::ERROR_CODES;
    use crate::error::{ApiError, ErrorEnvelope};

    /// One of each variant. The match below stops compiling when a variant is added, so that
    /// its code is added to `ERROR_CODES` (and here) too.
    fn every_api_error() -> Vec<ApiError> {
        let all = vec![
            ApiError::malformed(None, "x"),
            ApiError::Unauthorized,
            ApiError::NotFound("x".into()),
            ApiError::MethodNotAllowed,
            ApiError::CallInProgress {
                call_id: "c".into(),
                retry_after_secs: 1,
            },
            ApiError::Conflict {
                reservation_id: "r".into(),
            },
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::UnsupportedMediaType,
            ApiError::validation("f", "x"),
            ApiError::ExternalCallIdReused,
            ApiError::DispatchFailed {
                call_id: "c".into(),
                code: None,
                message: None,
            },
            ApiError::RequestTimeout,
            ApiError::UriTooLong { limit: 1 },
            ApiError::RateLimited {
                retry_after_secs: 1,
            },
            ApiError::ServiceBusy,
            ApiError::StorageUnavailable { call_id: None },
            ApiError::InvalidCredentials,
            ApiError::NoSession,
            ApiError::CrossOrigin,
            ApiError::LoginThrottled {
                retry_after_secs: 1,
            },
            ApiError::BadSignature("x"),
            ApiError::WrongVerifyToken,
            ApiError::Internal("x".into()),
        ];
        for error in &all {
            match error {
                ApiError::Malformed { .. }
                | ApiError::Unauthorized
                | ApiError::NotFound(_)
                | ApiError::MethodNotAllowed
                | ApiError::CallInProgress { .. }
                | ApiError::Conflict { .. }
                | ApiError::PayloadTooLarge { .. }
                | ApiError::UnsupportedMediaType
                | ApiError::Validation { .. }
                | ApiError::ExternalCallIdReused
                | ApiError::DispatchFailed { .. }
                | ApiError::RequestTimeout
                | ApiError::UriTooLong { .. }
                | ApiError::RateLimited { .. }
                | ApiError::ServiceBusy
                | ApiError::StorageUnavailable { .. }
                | ApiError::InvalidCredentials
                | ApiError::NoSession
                | ApiError::CrossOrigin
                | ApiError::LoginThrottled { .. }
                | ApiError::BadSignature(_)
                | ApiError::WrongVerifyToken
                | ApiError::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_error_code_the_api_answers_is_in_the_documented_set() {
        for error in every_api_error() {
            let response = error.into_response();
            let envelope = response.extensions().get::<ErrorEnvelope>().cloned();
            let code = envelope.expect("envelope").code;
            assert!(ERROR_CODES.contains(&code), "{code} is not documented");
        }
    }
}
