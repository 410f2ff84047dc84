//! The console's JSON API under `/console/api/` (SPEC §9): the same envelope and error rules as
//! the partner API, with a session instead of a token.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::{Value, json};

use super::ConsoleApp;
use super::language::Lang;
use super::queries::{self, Counts, Cursor, LogFilter};
use super::rows::{LogRowView, Shown};
use super::session::ConsoleUser;
use super::words::Limits;
use crate::db;
use crate::db::restaurants::{Restaurant, find_restaurant, list_restaurants};
use crate::domain::Outcome;
use crate::error::ApiError;
use crate::phone::normalise;
use crate::time::now_ms;
use crate::views::Page;

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

pub fn limits(state: &ConsoleApp) -> Limits {
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

pub(super) fn me_json(user: &ConsoleUser, lang: Lang) -> Value {
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

pub async fn list_console_restaurants(
    State(state): State<ConsoleApp>,
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
    State(state): State<ConsoleApp>,
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
    State(state): State<ConsoleApp>,
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
    State(state): State<ConsoleApp>,
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
