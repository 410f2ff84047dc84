//! The console's JSON API under `/console/api/` (SPEC §9): the same envelope and error rules as
//! the partner API, with a session instead of a token.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::{Value, json};

use super::language::Lang;
use super::queries::{self, Counts, Cursor, LogFilter};
use super::rows::{LogRowView, Shown};
use super::session::ConsoleUser;
use super::words::Limits;
use crate::db::customers::{Customer, Suppression, find_customer, suppress, unsuppress};
use crate::db::restaurants::{Restaurant, find_restaurant, list_restaurants};
use crate::db::{self, DbError};
use crate::error::ApiError;
use crate::missed_call::outcome::Outcome;
use crate::phone::normalise;
use crate::routes::input::{parse_object, read_body};
use crate::state::AppState;
use crate::time::now_ms;
use crate::views::{CustomerView, Page};

/// The query string as pairs; a malformed one reads as what it can, never as an error page.
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<String>) -> Query {
        let raw = raw.unwrap_or_default();
        Query(
            url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

/// The restaurant a request is about: the one named, if the user may see it, or the user's only
/// one. Another restaurant's id is not found, as in the partner API.
pub fn scope(
    conn: &rusqlite::Connection,
    user: &ConsoleUser,
    named: Option<&str>,
) -> Result<Restaurant, ApiError> {
    let not_found = || ApiError::NotFound("no such restaurant".into());
    let id = match (named, &user.user.restaurant_id) {
        (Some(named), Some(own)) if named != own => return Err(not_found()),
        (Some(named), _) => named.to_string(),
        (None, Some(own)) => own.clone(),
        (None, None) => {
            let all = list_restaurants(conn)?;
            match all.as_slice() {
                [only] => only.id.clone(),
                _ => {
                    return Err(ApiError::validation(
                        "restaurant",
                        "restaurant is required: this user sees several restaurants",
                    ));
                }
            }
        }
    };
    find_restaurant(conn, &id)?.ok_or_else(not_found)
}

/// A restaurant-local date `YYYY-MM-DD`.
fn date(q: &Query, field: &'static str) -> Result<Option<Date>, ApiError> {
    q.get(field)
        .map(|text| {
            text.parse::<Date>()
                .ok()
                .filter(|d| (2000..=2099).contains(&d.year()))
                .ok_or_else(|| {
                    ApiError::validation(field, format!("{field} must be a date like 2026-05-10"))
                })
        })
        .transpose()
}

/// The first millisecond of `day` in `tz`.
fn day_start(day: Date, tz: &TimeZone) -> Result<i64, ApiError> {
    day.to_zoned(tz.clone())
        .and_then(|z| z.start_of_day())
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn next_day(day: Date) -> Result<Date, ApiError> {
    day.tomorrow()
        .map_err(|_| ApiError::validation("to", "to is out of range"))
}

/// `from` and `to` as `[start of from, start of the day after to)` in the restaurant's zone.
fn range(q: &Query, tz: &TimeZone) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let (from, to) = (date(q, "from")?, date(q, "to")?);
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::validation("to", "to must not be before from"));
    }
    let from = from.map(|d| day_start(d, tz)).transpose()?;
    let until = to
        .map(|d| next_day(d).and_then(|d| day_start(d, tz)))
        .transpose()?;
    Ok((from, until))
}

/// The log's filters, checked: dates, statuses (outcome codes), caller (any form §4.2 reads).
pub fn log_filter(q: &Query, restaurant: &Restaurant) -> Result<LogFilter, ApiError> {
    let (from, until) = range(q, &restaurant.time_zone())?;
    let outcomes = match q.get("status") {
        None => vec![],
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|code| {
                code.parse::<Outcome>()
                    .ok()
                    .filter(|o| *o != Outcome::SkippedDuplicate)
                    .ok_or_else(|| {
                        ApiError::validation("status", format!("{code:?} is not a call outcome"))
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let caller_e164 = q
        .get("caller")
        .map(|raw| {
            normalise(raw, &restaurant.country)
                .map(|n| n.as_str().to_string())
                .map_err(|_| {
                    ApiError::validation(
                        "caller",
                        format!(
                            "{raw:?} is not a valid phone number for {}",
                            restaurant.country
                        ),
                    )
                })
        })
        .transpose()?;
    Ok(LogFilter {
        from,
        until,
        outcomes,
        caller_e164,
    })
}

pub fn limits(state: &AppState) -> Limits {
    let rules = &state.config.missed_calls;
    Limits {
        cooldown_ms: rules.cooldown_minutes * 60_000,
        stale_after_ms: rules.stale_after_minutes * 60_000,
    }
}

#[derive(Serialize)]
struct Me {
    username: String,
    restaurant_id: Option<String>,
    all_restaurants: bool,
    /// The language the console speaks to this request (`fr` or `en`).
    lang: &'static str,
    /// The user's own setting; `null`: the browser's language decides.
    lang_setting: Option<String>,
}

fn me_json(user: &ConsoleUser, lang: Lang) -> Value {
    let me = Me {
        username: user.user.username.clone(),
        all_restaurants: user.user.restaurant_id.is_none(),
        restaurant_id: user.user.restaurant_id.clone(),
        lang: lang.code(),
        lang_setting: user.user.lang.clone(),
    };
    json!({ "data": me })
}

pub async fn get_me(user: ConsoleUser, lang: Lang) -> Json<Value> {
    Json(me_json(&user, lang))
}

/// `POST /console/api/me` `{"lang": "fr" | "en" | null}`: the header's language switch, kept
/// on the user (`null`: follow the browser again).
pub async fn set_my_language(
    State(state): State<AppState>,
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

pub async fn list_console_restaurants(
    State(state): State<AppState>,
    user: ConsoleUser,
) -> Result<Json<Value>, ApiError> {
    let visible = db::read(&state.reads, move |conn| {
        let mut all = list_restaurants(conn)?;
        if let Some(own) = &user.user.restaurant_id {
            all.retain(|r| &r.id == own);
        }
        all.sort_by_key(|r| r.name.to_lowercase());
        Ok::<_, ApiError>(all)
    })
    .await?;
    let data: Vec<Value> = visible
        .iter()
        .map(|r| json!({"id": r.id, "name": r.name, "country": r.country, "timezone": r.timezone}))
        .collect();
    Ok(Json(json!({ "data": data })))
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

pub async fn list_calls(
    State(state): State<AppState>,
    user: ConsoleUser,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<LogRowView>>, ApiError> {
    let q = Query::parse(raw);
    let limit = match q.get("limit") {
        None => DEFAULT_PAGE,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| ApiError::validation("limit", "limit must be 1 to 200"))?,
    };
    let cursor = q
        .get("cursor")
        .map(|c| Cursor::decode(c).ok_or_else(|| ApiError::validation("cursor", "unknown cursor")))
        .transpose()?;
    let limits = limits(&state);
    let page = db::read(&state.reads, move |conn| {
        let restaurant = scope(conn, &user, q.get("restaurant"))?;
        let filter = log_filter(&q, &restaurant)?;
        // One more than asked says whether there is a next page.
        let mut rows = queries::log_page(conn, &restaurant.id, &filter, cursor, limit + 1)?;
        let next = (rows.len() > limit as usize).then(|| {
            rows.truncate(limit as usize);
            rows.last().map(|r| {
                Cursor {
                    occurred_at: r.call.occurred_at,
                    seq: r.seq,
                }
                .encode()
            })
        });
        let shown = Shown {
            tz: restaurant.time_zone(),
            restaurant: &restaurant,
            limits,
            words: lang.words(),
        };
        let data = rows
            .into_iter()
            .map(|row| shown.view(conn, row))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok::<_, ApiError>(Page {
            data,
            next_cursor: next.flatten(),
        })
    })
    .await?;
    Ok(Json(page))
}

/// `GET /console/api/calls/{id}`: the log's row, and what its message was sent with (SPEC §9,
/// The manager acts).
pub async fn get_call(
    State(state): State<AppState>,
    user: ConsoleUser,
    lang: Lang,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
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
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
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
    let owner: Option<String> = db::optional(conn.query_row(
        "SELECT restaurant_id FROM customers WHERE id = ?1",
        [id],
        |r| r.get(0),
    ))?;
    let owner = owner.ok_or_else(not_found)?;
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

fn indicators_json(c: Counts) -> Value {
    let rate = (c.messages_sent > 0).then(|| c.booking_conversions as f64 / c.messages_sent as f64);
    json!({
        "missed_calls": c.missed_calls,
        "messages_sent": c.messages_sent,
        "booking_conversions": c.booking_conversions,
        "conversion_rate": rate,
    })
}

pub async fn get_indicators(
    State(state): State<AppState>,
    user: ConsoleUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q = Query::parse(raw);
    let counts = db::read(&state.reads, move |conn| {
        let restaurant = scope(conn, &user, q.get("restaurant"))?;
        let (from, until) = range(&q, &restaurant.time_zone())?;
        Ok::<_, ApiError>(queries::counts(
            conn,
            &restaurant.id,
            from.unwrap_or(i64::MIN),
            until.unwrap_or(i64::MAX),
        )?)
    })
    .await?;
    Ok(Json(json!({ "data": indicators_json(counts) })))
}

const MAX_DAYS: i64 = 366;

pub async fn get_daily(
    State(state): State<AppState>,
    user: ConsoleUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q = Query::parse(raw);
    let days = match q.get("days") {
        None => 30,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_DAYS).contains(n))
            .ok_or_else(|| ApiError::validation("days", "days must be 1 to 366"))?,
    };
    let data = db::read(&state.reads, move |conn| {
        let restaurant = scope(conn, &user, q.get("restaurant"))?;
        let tz = restaurant.time_zone();
        let today = jiff::Timestamp::from_millisecond(now_ms())
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .to_zoned(tz.clone())
            .date();
        let dates = last_days(today, days)?;
        let mut bounds = dates
            .iter()
            .map(|d| day_start(*d, &tz))
            .collect::<Result<Vec<_>, _>>()?;
        bounds.push(day_start(next_day(today)?, &tz)?);
        let counts = queries::daily_counts(conn, &restaurant.id, &bounds)?;
        let data: Vec<Value> = dates
            .iter()
            .zip(counts)
            .map(|(date, c)| {
                json!({
                    "date": date.to_string(),
                    "missed_calls": c.missed_calls,
                    "messages_sent": c.messages_sent,
                    "booking_conversions": c.booking_conversions,
                })
            })
            .collect();
        Ok::<_, ApiError>(data)
    })
    .await?;
    Ok(Json(json!({ "data": data })))
}

/// The `n` days ending `today`, oldest first.
fn last_days(today: Date, n: i64) -> Result<Vec<Date>, ApiError> {
    (0..n)
        .rev()
        .map(|back| {
            today
                .checked_sub(jiff::Span::new().days(back))
                .map_err(|e| ApiError::Internal(e.to_string()))
        })
        .collect()
}
