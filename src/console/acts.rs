//! What the manager does from the console (SPEC §9, The manager acts): open a call to see what
//! was sent, stop or resume messages to a customer, and choose the console's language.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ConsoleApp;
use super::api::{Query, limits, me_json, scope};
use super::language::Lang;
use super::queries;
use super::rows::Shown;
use super::session::ConsoleUser;
use crate::db::customers::{Customer, customer_restaurant, find_customer, suppress, unsuppress};
use crate::db::restaurants::Restaurant;
use crate::db::{self, DbError};
use crate::domain::{Outcome, Suppression};
use crate::error::ApiError;
use crate::routes::input::{parse_object, path_id, read_body};
use crate::time::now_ms;
use crate::views::CustomerView;

/// `POST /console/api/me` `{"lang": "fr" | "en" | null}`: the header's language switch, kept
/// on the user (`null`: follow the browser again).
pub async fn set_my_language(
    State(state): State<ConsoleApp>,
    mut user: ConsoleUser,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&headers, body, SMALL_BODY).await?;
    let object = parse_object(&bytes)?;
    let lang = match object.get("lang") {
        Some(Value::Null) => None,
        Some(Value::String(code)) => Some(
            Lang::parse(code)
                .filter(|l| l.code() == code.trim().to_ascii_lowercase())
                .ok_or_else(|| {
                    ApiError::validation("lang", "lang must be \"en\", \"fr\" or null")
                })?,
        ),
        _ => {
            return Err(ApiError::validation(
                "lang",
                "lang must be \"en\", \"fr\" or null",
            ));
        }
    };
    let username = user.user.username.clone();
    let stored = lang.map(Lang::code);
    state
        .writer
        .run(move |conn| {
            crate::db::users::set_lang(conn, &username, stored, now_ms()).map_err(DbError::from)
        })
        .await?;
    user.user.lang = stored.map(str::to_string);
    // The answer is in the language just chosen (or the browser's, for null).
    let spoken = lang.or_else(|| {
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
    });
    let spoken = spoken.unwrap_or_default();
    Ok(spoken_in(spoken, Json(me_json(&user, spoken))))
}

/// An answer with words, marked with their language (the layer's default would be the
/// request's, which a language switch has just changed).
fn spoken_in(lang: Lang, answer: impl IntoResponse) -> Response {
    let mut response = answer.into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_LANGUAGE,
        axum::http::HeaderValue::from_static(lang.code()),
    );
    response
}

/// The console's small JSON bodies: a language, a yes or no.
const SMALL_BODY: usize = 1024;

/// `GET /console/api/calls/{id}`: the log's row, and what its message was sent with (SPEC §9,
/// The manager acts).
pub async fn get_call(
    State(state): State<ConsoleApp>,
    user: ConsoleUser,
    lang: Lang,
    id: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(id, "call")?;
    let q = Query::parse(raw);
    let limits = limits(&state);
    let public_url = state.config.server.public_url.clone();
    let data = db::read(&state.reads, move |conn| {
        let not_found = || ApiError::NotFound("no such call".into());
        let restaurant = match q.get("restaurant") {
            Some(named) => scope(conn, &user, Some(named))?,
            // The call names its restaurant; the user must see it.
            None => {
                let owner = crate::db::calls::find_call_by_id(conn, &id)?.ok_or_else(not_found)?;
                scope(conn, &user, Some(&owner.restaurant_id)).map_err(|_| not_found())?
            }
        };
        let row = queries::log_row_by_id(conn, &restaurant.id, &id)?.ok_or_else(not_found)?;
        let sent = queries::sent_message(conn, &id)?;
        let message = message_json(&row, &sent, &restaurant, &public_url);
        let shown = Shown {
            tz: restaurant.time_zone(),
            restaurant: &restaurant,
            limits,
            words: lang.words(),
        };
        let mut data = serde_json::to_value(shown.view(conn, row)?)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        data["message"] = message;
        Ok::<_, ApiError>(data)
    })
    .await?;
    Ok(Json(json!({ "data": data })))
}

/// What the call's message was sent with: as the claim stored it, or for a call from before
/// the ledger kept it, what the row still knows; `null` when no message was ever dispatched.
fn message_json(
    row: &queries::LogRow,
    sent: &queries::SentMessage,
    restaurant: &Restaurant,
    public_url: &str,
) -> Value {
    let call = &row.call;
    let stored: Option<Value> = sent
        .message
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok());
    let dispatched = stored.is_some() || call.attempts > 0 || call.message_id.is_some();
    if !dispatched {
        return Value::Null;
    }
    let stored = stored.unwrap_or_else(|| json!({}));
    let booking_link = stored.get("booking_link").cloned().unwrap_or_else(|| {
        call.link_token
            .as_deref()
            .map(|token| {
                crate::links::booking_link(public_url, restaurant.booking_url.as_deref(), token)
            })
            .filter(|link| !link.is_empty())
            .map_or(Value::Null, Value::from)
    });
    let time = |ms: Option<i64>| ms.map(crate::time::format_utc);
    json!({
        "template": stored.get("template").cloned().unwrap_or(Value::Null),
        "language": stored.get("language").cloned().unwrap_or(Value::Null),
        "parameters": stored.get("parameters").cloned().unwrap_or_else(|| json!([])),
        "booking_link": booking_link,
        "message_id": call.message_id.clone().filter(|_| call.outcome == Outcome::Sent),
        "sent_at": time(row.sent_at.filter(|_| call.outcome == Outcome::Sent)),
        "delivered_at": time(sent.delivered_at),
        "read_at": time(sent.read_at),
    })
}

/// `POST /console/api/customers/{id}/suppression` `{"suppressed": true|false}`: "Stop
/// messages" and "Resume" (SPEC §9). The console stops with reason `operator` and lifts only
/// that: a guest's own STOP and WhatsApp's 131050 stay, and saying so is a 409.
pub async fn set_suppression(
    State(state): State<ConsoleApp>,
    user: ConsoleUser,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(id, "customer")?;
    let bytes = read_body(&headers, body, SMALL_BODY).await?;
    let object = parse_object(&bytes)?;
    let suppressed = match object.get("suppressed") {
        Some(Value::Bool(b)) => *b,
        _ => {
            return Err(ApiError::validation(
                "suppressed",
                "suppressed must be true or false",
            ));
        }
    };
    let customer = state
        .writer
        .run(move |conn| Ok::<_, DbError>(change_suppression(conn, &user, &id, suppressed)))
        .await??;
    Ok(Json(json!({ "data": CustomerView::new(&customer) })))
}

/// One writer job: the check and the change see the same customer.
fn change_suppression(
    conn: &rusqlite::Connection,
    user: &ConsoleUser,
    id: &str,
    suppressed: bool,
) -> Result<Customer, ApiError> {
    let not_found = || ApiError::NotFound("no such customer".into());
    let owner = customer_restaurant(conn, id)?.ok_or_else(not_found)?;
    scope(conn, user, Some(&owner)).map_err(|_| not_found())?;
    let customer = find_customer(conn, &owner, id)?.ok_or_else(not_found)?;
    match (
        suppressed,
        customer.whatsapp_suppressed,
        customer.suppression_reason,
    ) {
        // Already stopped, by anyone: nothing changes (a guest's STOP must not become the
        // restaurant's, which "Resume" could lift).
        (true, true, _) | (false, false, _) => {}
        (true, false, _) => suppress(conn, id, Suppression::Operator)?,
        (false, true, Some(Suppression::Operator) | None) => unsuppress(conn, id)?,
        (false, true, Some(reason)) => {
            return Err(ApiError::SuppressionNotOperator {
                reason: reason.as_str().to_string(),
            });
        }
    }
    find_customer(conn, &owner, id)?.ok_or_else(not_found)
}
