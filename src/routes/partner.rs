//! The partner endpoints (SPEC §2): parse the request, run the pipeline, shape the answer.

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::auth::Authenticated;
use crate::db::restaurants::Restaurant;
use crate::db::{self, calls::CallRow, calls::find_call};
use crate::error::ApiError;
use crate::missed_call::{Handled, Report};
use crate::phone::{Caller, PhoneError};
use crate::time::{format_utc, now_ms, parse_instant, zone};

/// A ledger row in the `data` shape of SPEC §2.2.
#[derive(Debug, Serialize)]
pub struct CallView {
    pub id: String,
    pub outcome: String,
    pub caller_phone_number: String,
    pub customer_id: Option<String>,
    pub reservation_id: Option<String>,
    pub template_type: Option<String>,
    pub external_call_id: Option<String>,
    pub occurred_at: String,
    pub created_at: String,
    pub message_id: Option<String>,
    pub error: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_outcome: Option<String>,
}

impl CallView {
    pub fn from_row(row: &CallRow) -> CallView {
        CallView {
            id: row.id.clone(),
            outcome: row.outcome.clone(),
            caller_phone_number: row
                .caller_e164
                .clone()
                .unwrap_or_else(|| row.caller_raw.clone()),
            customer_id: row.customer_id.clone(),
            reservation_id: row.reservation_id.clone(),
            template_type: row.template_type.clone(),
            external_call_id: row.external_call_id.clone(),
            occurred_at: format_utc(row.occurred_at),
            created_at: format_utc(row.created_at),
            message_id: row.message_id.clone().filter(|_| row.outcome == "SENT"),
            error: row
                .error_code
                .as_ref()
                .map(|code| json!({"code": error_code_json(code), "message": row.error_message})),
            original_outcome: None,
        }
    }
}

/// WhatsApp's numeric codes stay numbers; ringback's own (`timeout`, `transport`, …) are strings.
fn error_code_json(code: &str) -> Value {
    code.parse::<i64>()
        .map_or_else(|_| json!(code), |n| json!(n))
}

pub async fn report_missed_call(
    State(state): State<AppState>,
    auth: Authenticated,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let received_at = now_ms();
    let limit = state.config.server.max_body_bytes;
    require_json(&headers)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let bytes = to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit })?;
    let report = parse_report(
        &bytes,
        &auth.restaurant,
        state.config.missed_calls.max_future_skew_seconds,
        received_at,
    )?;

    let handled = state.pipeline.report(&auth.restaurant.id, report).await?;
    answer(handled)
}

fn answer(handled: Handled) -> Result<(StatusCode, Json<Value>), ApiError> {
    let call = handled.call;
    if handled.original_outcome.is_none() && call.outcome == "FAILED" {
        return Err(ApiError::DispatchFailed {
            call_id: call.id,
            code: call.error_code,
            message: call.error_message,
        });
    }
    let mut view = CallView::from_row(&call);
    if let Some(original) = handled.original_outcome {
        view.outcome = "SKIPPED_DUPLICATE".into();
        view.original_outcome = Some(original);
    }
    Ok((StatusCode::CREATED, Json(json!({ "data": view }))))
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

/// A string field: absent or `null` is `None`; any other non-string is a 400.
fn string_field<'a>(
    body: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::malformed(
            Some(field),
            format!("{field} must be a string"),
        )),
    }
}

/// Turns a request body into a `Report` the pipeline can trust (SPEC §2.2, §4.1, §4.2), for the
/// restaurant the token belongs to. Pure: no I/O, so it can be fuzzed on its own.
pub fn parse_report(
    bytes: &[u8],
    restaurant: &Restaurant,
    max_future_skew_seconds: i64,
    received_at: i64,
) -> Result<Report, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::malformed(None, format!("the body is not valid JSON: {e}")))?;
    let Value::Object(body) = value else {
        return Err(ApiError::malformed(None, "the body must be a JSON object"));
    };
    let caller = string_field(&body, "caller_phone_number")?.ok_or_else(|| {
        ApiError::malformed(
            Some("caller_phone_number"),
            "caller_phone_number is required",
        )
    })?;
    let external_call_id = string_field(&body, "external_call_id")?;
    let occurred_at = string_field(&body, "occurred_at")?;

    let length = caller.trim().chars().count();
    if !(3..=40).contains(&length) {
        return Err(ApiError::validation(
            "caller_phone_number",
            "caller_phone_number must be 3 to 40 characters",
        ));
    }
    if let Some(id) = external_call_id
        && !(1..=128).contains(&id.chars().count())
    {
        return Err(ApiError::validation(
            "external_call_id",
            "external_call_id must be 1 to 128 characters",
        ));
    }
    let occurred_at = match occurred_at {
        None => None,
        Some(text) => {
            let tz = zone(&restaurant.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
            let at = parse_instant(text, &tz).ok_or_else(|| {
                ApiError::validation(
                    "occurred_at",
                    "occurred_at must be an ISO-8601 date-time, like 2026-05-10T12:23:00Z",
                )
            })?;
            let skew = max_future_skew_seconds;
            if at > received_at + skew * 1000 {
                return Err(ApiError::validation(
                    "occurred_at",
                    format!("occurred_at is more than {skew} seconds in the future"),
                ));
            }
            Some(at)
        }
    };
    let caller = Caller::parse(caller, &restaurant.country).map_err(|e| {
        let message = match e {
            PhoneError::Invalid(..) | PhoneError::Unparseable(_) => format!(
                "caller_phone_number is not a valid phone number for {}",
                restaurant.country
            ),
            PhoneError::UnknownCountry(c) => format!("the restaurant's country {c} is unknown"),
        };
        ApiError::validation("caller_phone_number", message)
    })?;
    Ok(Report {
        caller,
        external_call_id: external_call_id.map(str::to_string),
        occurred_at,
        received_at,
    })
}

pub async fn get_missed_call(
    State(state): State<AppState>,
    auth: Authenticated,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    // An id that does not even decode cannot name a call.
    let Ok(Path(id)) = id else {
        return Err(ApiError::NotFound("no such call".into()));
    };
    let restaurant_id = auth.restaurant.id.clone();
    let row = db::read(&state.reads, move |conn| {
        find_call(conn, &restaurant_id, &id).map_err(ApiError::from)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound("no such call".into()))?;
    Ok(Json(json!({ "data": CallView::from_row(&row) })))
}

pub async fn get_me(auth: Authenticated) -> Json<Value> {
    let r = &auth.restaurant;
    let t = &auth.token;
    Json(json!({"data": {
        "restaurant": {"id": r.id, "name": r.name, "country": r.country, "timezone": r.timezone},
        "token": {"id": t.id, "name": t.name, "created_at": format_utc(t.created_at)},
        "features": {"missed_calls": r.missed_calls_enabled, "whatsapp": r.whatsapp.is_some()},
    }}))
}
