//! Reading requests the same way on every endpoint: the content type (415), the size limit
//! (413), JSON and an object (400), typed fields (400 naming the field), path ids and query
//! strings.

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};

use http_body_util::LengthLimitError;

use crate::error::ApiError;
use crate::listener::BodyTimedOut;

pub type Object = Map<String, Value>;

/// Checks the content type and reads the whole body, up to `limit` bytes.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    require_json(headers)?;
    read_bytes(headers, body, limit).await
}

/// Reads the whole body, up to `limit` bytes, whatever its type.
pub async fn read_bytes(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    // The connection gives the whole body a deadline (`listener::BodyTimedOut`).
    to_bytes(body, limit).await.map_err(|e| {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(c) = cause {
            if c.is::<BodyTimedOut>() {
                return ApiError::RequestTimeout;
            }
            if c.is::<LengthLimitError>() {
                return ApiError::PayloadTooLarge { limit };
            }
            cause = c.source();
        }
        ApiError::malformed(None, "the body could not be read")
    })
}

fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/json") => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

/// Checks, reads and parses a body that must be a JSON object.
pub async fn read_object(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Object, ApiError> {
    parse_object(&read_body(headers, body, limit).await?)
}

/// Parses bytes as a JSON object.
pub fn parse_object(bytes: &[u8]) -> Result<Object, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::malformed(None, format!("the body is not valid JSON: {e}")))?;
    match value {
        Value::Object(body) => Ok(body),
        _ => Err(ApiError::malformed(None, "the body must be a JSON object")),
    }
}

fn wrong_type(field: &'static str, what: &str) -> ApiError {
    ApiError::malformed(Some(field), format!("{field} must be {what}"))
}

/// A string field: absent or `null` is `None`; any other non-string is a 400.
pub fn string_field<'a>(
    body: &'a Object,
    field: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(field, "a string")),
    }
}

/// A whole-number field: absent or `null` is `None`; anything else but an integer is a 400. An
/// integer is what JSON Schema calls one: `4.0` is 4 (a generated client may send it so), and
/// one too large for 64 bits is kept as the largest, for the field's range to refuse.
pub fn integer_field(body: &Object, field: &'static str) -> Result<Option<i64>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                // `as` saturates: beyond ±2^63 is the bound, which no field's range admits.
                n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| wrong_type(field, "a whole number")),
        Some(_) => Err(wrong_type(field, "a whole number")),
    }
}

/// A boolean field: absent or `null` is `None`.
pub fn bool_field(body: &Object, field: &'static str) -> Result<Option<bool>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(field, "true or false")),
    }
}

/// A field that must be there: `Some` of what the typed getter found, else a 400 naming it.
pub fn required<T>(value: Option<T>, field: &'static str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::malformed(Some(field), format!("{field} is required")))
}

/// Whether a field is present at all (even as `null`): PATCH tells "leave" from "clear" by it.
pub fn present(body: &Object, field: &str) -> bool {
    body.contains_key(field)
}

/// A length rule on a string, as a 422 naming the field.
pub fn check_length(
    value: &str,
    field: &'static str,
    range: std::ops::RangeInclusive<usize>,
) -> Result<(), ApiError> {
    if range.contains(&value.chars().count()) {
        Ok(())
    } else {
        Err(ApiError::validation(
            field,
            format!(
                "{field} must be {} to {} characters",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// The id in the path; one that does not even decode names nothing (404).
pub fn path_id(id: Result<Path<String>, PathRejection>, what: &str) -> Result<String, ApiError> {
    id.map(|Path(id)| id)
        .map_err(|_| ApiError::NotFound(format!("no such {what}")))
}

/// The query string as name-value pairs, in order.
pub fn query_pairs(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|_| ApiError::malformed(None, "the query string is malformed"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn party_size(value: serde_json::Value) -> Result<Option<i64>, u16> {
        let body = json!({"party_size": value});
        let body = body.as_object().expect("object");
        integer_field(body, "party_size").map_err(|e| {
            axum::response::IntoResponse::into_response(e)
                .status()
                .as_u16()
        })
    }

    #[test]
    fn an_integral_number_is_an_integer_whatever_its_json_form() {
        assert_eq!(party_size(json!(534)), Ok(Some(534)));
        assert_eq!(party_size(json!(534.0)), Ok(Some(534)));
        assert_eq!(party_size(json!(-0.0)), Ok(Some(0)));
        assert_eq!(party_size(json!(1e300)), Ok(Some(i64::MAX)));
        assert_eq!(party_size(json!(u64::MAX)), Ok(Some(i64::MAX)));
        assert_eq!(party_size(json!(null)), Ok(None));
        assert_eq!(party_size(json!(4.5)), Err(400));
        assert_eq!(party_size(json!("4")), Err(400));
    }
}
