//! The error envelope of SPEC §2.3 as the document describes it, and one reusable response per
//! error status, each with that envelope. `ApiError` (error.rs) decides status and code; the
//! test below keeps this list of codes in step with it.

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{Ref, RefOr, Response};
use utoipa::{IntoResponses, PartialSchema, ToResponse, ToSchema};

use crate::views::one_of_strings;

/// Every `error.code` the API answers (SPEC §2.3).
pub const ERROR_CODES: [&str; 22] = [
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
    "SUPPRESSION_NOT_OPERATOR",
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

/// `CALL_IN_PROGRESS`: the same `external_call_id` is being dispatched right now, or waits for
/// WhatsApp's status to say whether a send cut short reached it; `details.call_id` names it.
/// Retry with the same payload after `Retry-After`, or read the call.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u32, description = "Seconds to wait: `1` for a send in flight, what is left of the wait for a status otherwise")))]
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

// The error answers of each kind of endpoint, declared once. An operation lists the kinds of
// what it does — every partner endpoint checks a token, some read a JSON body, a path id or a
// query string — so that the document says every status the shared code behind it can answer.

/// `(status, response)` pairs as an operation's responses, each a reference to the reusable one.
fn referring(list: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(status, name)| {
            (
                status.to_string(),
                RefOr::Ref(Ref::from_response_name(*name)),
            )
        })
        .collect()
}

/// What every partner endpoint can answer: the bearer token (`Authenticated`), the rate limit,
/// and the faults any request can meet.
pub struct Partner;

impl IntoResponses for Partner {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        referring(&PARTNER)
    }
}

const PARTNER: [(u16, &str); 4] = [
    (401, "Unauthorized"),
    (429, "RateLimited"),
    (500, "Internal"),
    (503, "Unavailable"),
];

/// Reading a JSON body (`routes::input::read_body` and the typed fields): its type, its size, its
/// deadline, its JSON, and the rules of its fields.
pub struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        referring(&JSON_BODY)
    }
}

pub(crate) const JSON_BODY: [(u16, &str); 5] = [
    (400, "Malformed"),
    (408, "RequestTimeout"),
    (413, "PayloadTooLarge"),
    (415, "UnsupportedMediaType"),
    (422, "Invalid"),
];

/// An id in the path (`routes::input::path_id`): another restaurant's, or none, is not found.
pub struct PathId;

impl IntoResponses for PathId {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        referring(&[(404, "NotFound")])
    }
}

/// A query string (`routes::input::query_pairs` and the filters): malformed, or a rule broken.
pub struct QueryString;

impl IntoResponses for QueryString {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        referring(&[(400, "Malformed"), (422, "Invalid")])
    }
}

/// A missed-call report's own: a send in flight, and a send that failed.
pub struct Dispatch;

impl IntoResponses for Dispatch {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        referring(&[(409, "CallInProgress"), (502, "DispatchFailed")])
    }
}

/// A new reservation's own: its `external_id` already used.
pub struct ExternalIdTaken;

impl IntoResponses for ExternalIdTaken {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        referring(&[(409, "Conflict")])
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use utoipa::OpenApi;

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
            ApiError::SuppressionNotOperator {
                reason: "reply".into(),
            },
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
                | ApiError::SuppressionNotOperator { .. }
                | ApiError::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_response_an_operation_refers_to_is_in_the_document() {
        let doc = serde_json::to_value(super::super::ApiDoc::openapi()).expect("json");
        let text = doc.to_string();
        let components = &doc["components"]["responses"];
        let mut referred = 0;
        for piece in text.split("\"#/components/responses/").skip(1) {
            let name = piece.split('"').next().expect("name");
            assert!(
                components.get(name).is_some(),
                "{name} is referred to, not declared"
            );
            referred += 1;
        }
        assert!(referred > 20, "{referred} references");
    }

    /// Every way reading a body can fail, and the status each gets.
    async fn body_failures() -> Vec<u16> {
        use axum::body::Body;
        use axum::http::{HeaderMap, HeaderValue, header};

        use crate::routes::input::read_object;

        let json = |length: Option<&str>| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Some(length) = length {
                headers.insert(
                    header::CONTENT_LENGTH,
                    HeaderValue::from_str(length).expect("n"),
                );
            }
            headers
        };
        let stalled = Body::new(Stalled);
        let cases = vec![
            read_object(&HeaderMap::new(), Body::from("{}"), 100).await,
            read_object(&json(Some("1000")), Body::from("{}"), 100).await,
            read_object(&json(None), Body::from(vec![b' '; 1000]), 100).await,
            read_object(&json(None), stalled, 100).await,
            read_object(&json(None), Body::from("not json"), 100).await,
            read_object(&json(None), Body::from("[]"), 100).await,
        ];
        cases
            .into_iter()
            .map(|r| r.expect_err("refused").into_response().status().as_u16())
            .collect()
    }

    /// A body that fails as one whose deadline passed does.
    struct Stalled;

    impl http_body::Body for Stalled {
        type Data = axum::body::Bytes;
        type Error = axum::Error;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
            let timed_out = crate::listener::BodyTimedOut;
            std::task::Poll::Ready(Some(Err(axum::Error::new(timed_out))))
        }
    }

    #[tokio::test]
    async fn every_status_reading_a_json_body_can_answer_is_in_the_json_body_kind() {
        let documented: Vec<u16> = super::JSON_BODY.iter().map(|(s, _)| *s).collect();
        let answered = body_failures().await;
        assert_eq!(answered, [415, 413, 413, 408, 400, 400]);
        for status in answered {
            assert!(documented.contains(&status), "{status} is not in JsonBody");
        }
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
