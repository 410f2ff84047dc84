//! The error envelope of SPEC §2.3 as the OpenAPI document describes it, and one reusable
//! response per error status, each with that envelope. `ApiError` (mod.rs) decides status and
//! code; a test in `ops/openapi/errors.rs` keeps this list of codes in step with it.

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
