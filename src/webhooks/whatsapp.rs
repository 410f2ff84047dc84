//! `GET` and `POST /webhooks/whatsapp` (SPEC §10): Meta's handshake; then statuses, which move a
//! call's delivery state forward (and end the hold of a send a crash interrupted), and STOP or
//! START replies, which suppress a customer or lift their own suppression. Verified by
//! `X-Hub-Signature-256` over the raw bytes, applied in one writer job before the `200`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use rusqlite::Connection;
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::replies::{self, Reply};
use crate::db::DbError;
use crate::db::calls::{self, CallRow};
use crate::db::customers::{
    Suppression, find_customer_by_phone, lift_reply_suppression, match_or_create_customer, suppress,
};
use crate::db::restaurants::{Restaurant, restaurants_by_phone_number_id};
use crate::db::statuses::{self, NewStatus};
use crate::error::ApiError;
use crate::missed_call::delivery::DeliveryState;
use crate::missed_call::outcome::Outcome;
use crate::missed_call::sent_per_status;
use crate::phone::{mask, normalise};
use crate::routes::input::read_bytes;
use crate::state::AppState;
use crate::time::now_ms;
use crate::whatsapp::STOPPED_MARKETING_CODE;

/// Meta batches statuses into one payload: more room than a partner report needs.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Meta's webhook handshake
pub async fn handshake(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let Some(secrets) = &state.webhooks.whatsapp else {
        return Err(ApiError::NotFound("no such route".into()));
    };
    let given = query.get("hub.verify_token").map_or("", String::as_str);
    let expected = secrets.verify_token.expose();
    let token_matches = !given.is_empty()
        && !expected.is_empty()
        && bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    match (
        query.get("hub.mode").map(String::as_str),
        query.get("hub.challenge"),
    ) {
        (Some("subscribe"), Some(challenge)) if token_matches => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge.clone(),
        )
            .into_response()),
        _ => Err(ApiError::WrongVerifyToken),
    }
}

/// Checks `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the body's raw bytes with
/// the app secret, compared in constant time.
pub fn verify(app_secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("sha256="))
        .and_then(|hex_digest| hex::decode(hex_digest).ok())
        .ok_or(ApiError::BadSignature(
            "X-Hub-Signature-256 must be sha256= and a hex HMAC-SHA256",
        ))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    mac.update(body);
    mac.verify_slice(&signature)
        .map_err(|_| ApiError::BadSignature("the X-Hub-Signature-256 does not match"))
}

/// One thing a webhook said, for one of the box's WhatsApp numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Status {
        phone_number_id: String,
        message_id: String,
        status: DeliveryState,
        /// `biz_opaque_callback_data`: the call id ringback sent the message with.
        call_id: Option<String>,
        /// WhatsApp's time, in ms.
        at: Option<i64>,
        error_codes: Vec<String>,
    },
    Reply {
        phone_number_id: String,
        message_id: String,
        /// The sender's WhatsApp id: the number's digits.
        from: String,
        reply: Reply,
    },
}

/// Reads the statuses and the STOP / START replies of a `whatsapp_business_account` payload;
/// `None` when it is not one. Anything else in it is left alone.
pub fn parse_payload(body: &[u8]) -> Option<Vec<Item>> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let list = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut items = Vec::new();
    for entry in json.get("entry")?.as_array()? {
        for change in list(entry, "changes") {
            let Some(value) = change.get("value") else {
                continue;
            };
            let Some(phone_number_id) = value
                .get("metadata")
                .and_then(|m| text(m, "phone_number_id"))
            else {
                continue;
            };
            for s in list(value, "statuses") {
                let (Some(message_id), Some(status)) = (
                    text(&s, "id"),
                    text(&s, "status").and_then(|st| DeliveryState::parse(&st)),
                ) else {
                    continue;
                };
                items.push(Item::Status {
                    phone_number_id: phone_number_id.clone(),
                    message_id,
                    status,
                    call_id: text(&s, "biz_opaque_callback_data"),
                    at: text(&s, "timestamp")
                        .and_then(|t| t.parse::<i64>().ok())
                        .map(|secs| secs.saturating_mul(1000)),
                    error_codes: list(&s, "errors")
                        .iter()
                        .filter_map(|e| e.get("code"))
                        .map(|c| {
                            c.as_i64().map_or_else(
                                || c.as_str().unwrap_or("").to_string(),
                                |n| n.to_string(),
                            )
                        })
                        .collect(),
                });
            }
            for m in list(value, "messages") {
                let (Some(message_id), Some(from)) = (text(&m, "id"), text(&m, "from")) else {
                    continue;
                };
                let said = m
                    .get("text")
                    .and_then(|t| text(t, "body"))
                    .or_else(|| m.get("button").and_then(|b| text(b, "text")))
                    .or_else(|| {
                        m.get("interactive")
                            .and_then(|i| i.get("button_reply"))
                            .and_then(|b| text(b, "title"))
                    });
                if let Some(reply) = said.as_deref().and_then(replies::classify) {
                    items.push(Item::Reply {
                        phone_number_id: phone_number_id.clone(),
                        message_id,
                        from,
                        reply,
                    });
                }
            }
        }
    }
    Some(items)
}

/// Receive WhatsApp statuses and replies
pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<StatusCode, ApiError> {
    let Some(secrets) = &state.webhooks.whatsapp else {
        return Err(ApiError::NotFound("no such route".into()));
    };
    let bytes = read_bytes(&headers, body, MAX_BODY_BYTES).await?;
    verify(secrets.app_secret.expose(), &headers, &bytes)?;
    let Some(items) = parse_payload(&bytes) else {
        // Meta would redeliver for days an answer other than 200.
        tracing::warn!("a signed WhatsApp webhook is not a payload this box reads; ignored");
        return Ok(StatusCode::OK);
    };
    if items.is_empty() {
        return Ok(StatusCode::OK);
    }
    let now = now_ms();
    let effects = state
        .writer
        .run(move |conn| {
            items
                .iter()
                .map(|item| apply(conn, item, now))
                .collect::<Result<Vec<_>, DbError>>()
        })
        .await?;
    for effect in effects.into_iter().flatten() {
        effect.log();
    }
    Ok(StatusCode::OK)
}

/// What one item did, for the log.
#[derive(Debug)]
enum Effect {
    UnknownNumber(String),
    UnknownMessage,
    Delivery {
        call_id: String,
        state: Option<DeliveryState>,
    },
    Reconciled {
        call_id: String,
    },
    Stopped {
        number: String,
        suppressed_now: bool,
    },
    Started {
        number: String,
        lifted: bool,
    },
    Ignored,
}

impl Effect {
    fn log(self) {
        match self {
            Effect::UnknownNumber(id) => tracing::info!(
                whatsapp.phone_number_id = %id,
                "a WhatsApp webhook for a number no restaurant has; ignored"
            ),
            Effect::UnknownMessage => {
                tracing::debug!("a WhatsApp status for a message this box did not send; ignored")
            }
            Effect::Delivery { call_id, state } => tracing::debug!(
                call.id = %call_id, delivery = state.map_or("none", DeliveryState::as_str),
                "delivery state"
            ),
            Effect::Reconciled { call_id } => tracing::info!(
                call.id = %call_id,
                "WhatsApp's status says the message interrupted by the restart did leave: SENT"
            ),
            Effect::Stopped {
                number,
                suppressed_now,
            } => tracing::info!(
                caller = %number, suppressed_now,
                "the customer replied STOP: no more WhatsApp messages to them"
            ),
            Effect::Started { number, lifted } => tracing::info!(
                caller = %number, lifted,
                "the customer replied START: only their own STOP is lifted"
            ),
            Effect::Ignored => {}
        }
    }
}

/// One item, for every restaurant that holds the WhatsApp number it names (a group may share
/// one): a STOP holds for all of them, and a status finds its call in whichever sent it.
fn apply(conn: &Connection, item: &Item, now: i64) -> Result<Vec<Effect>, DbError> {
    let phone_number_id = match item {
        Item::Status {
            phone_number_id, ..
        }
        | Item::Reply {
            phone_number_id, ..
        } => phone_number_id,
    };
    let restaurants = restaurants_by_phone_number_id(conn, phone_number_id)?;
    if restaurants.is_empty() {
        return Ok(vec![Effect::UnknownNumber(phone_number_id.clone())]);
    }
    match item {
        Item::Status {
            message_id,
            status,
            call_id,
            at,
            error_codes,
            ..
        } => {
            for restaurant in &restaurants {
                let status = StatusItem {
                    message_id,
                    status: *status,
                    call_id: call_id.as_deref(),
                    at: at.unwrap_or(now),
                    error_codes,
                };
                match apply_status(conn, restaurant, status, now)? {
                    Effect::UnknownMessage => continue,
                    effect => return Ok(vec![effect]),
                }
            }
            Ok(vec![Effect::UnknownMessage])
        }
        Item::Reply {
            message_id,
            from,
            reply,
            ..
        } => {
            // A redelivered STOP must not undo a START that came after it.
            if !first_time(conn, message_id, now)? {
                return Ok(vec![Effect::Ignored]);
            }
            restaurants
                .iter()
                .map(|r| apply_reply(conn, r, from, *reply))
                .collect()
        }
    }
}

/// Records a reply's message id; `false` if it was acted on already.
fn first_time(conn: &Connection, message_id: &str, now: i64) -> rusqlite::Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO whatsapp_replies (message_id, received_at) VALUES (?1, ?2)
             ON CONFLICT DO NOTHING",
        )?
        .execute(rusqlite::params![message_id, now])?;
    Ok(inserted == 1)
}

struct StatusItem<'a> {
    message_id: &'a str,
    status: DeliveryState,
    call_id: Option<&'a str>,
    at: i64,
    error_codes: &'a [String],
}

fn apply_status(
    conn: &Connection,
    restaurant: &Restaurant,
    s: StatusItem<'_>,
    now: i64,
) -> Result<Effect, DbError> {
    // By the message id; else by the call id WhatsApp echoes, for a send whose own answer has
    // not been stored (in flight, or interrupted by a crash). Only this restaurant's calls.
    let by_message = calls::find_call_by_message_id(conn, &restaurant.id, s.message_id)?;
    let call: Option<CallRow> = match (by_message, s.call_id) {
        (Some(call), _) => Some(call),
        (None, Some(id)) => calls::find_call(conn, &restaurant.id, id)?,
        (None, None) => None,
    };
    let Some(call) = call else {
        return Ok(Effect::UnknownMessage);
    };
    let mut reconciled = false;
    match call.message_id.as_deref() {
        Some(id) if id == s.message_id => {}
        // A status of an earlier message of the call, or of a call that ended without one.
        Some(_) => return Ok(Effect::Ignored),
        // A send whose own answer never came (a crash, a timeout): the status, naming the call,
        // proves the message left. A send still in flight records it with its own result.
        None if s.call_id == Some(call.id.as_str()) => {
            let held = call.outcome == Outcome::Dispatching && calls::is_held(conn, &call.id)?;
            reconciled = sent_per_status(conn, &call, s.message_id, held, now)?;
            if !reconciled && call.outcome != Outcome::Dispatching {
                return Ok(Effect::Ignored);
            }
        }
        None => return Ok(Effect::Ignored),
    }
    let counted = statuses::insert_status(
        conn,
        &NewStatus {
            message_id: s.message_id,
            status: s.status,
            call_id: Some(&call.id),
            at: s.at,
            error_code: s.error_codes.first().map(String::as_str),
            received_at: now,
        },
    )?;
    if !counted && !reconciled {
        return Ok(Effect::Ignored);
    }
    let state = statuses::refresh_delivery_state(conn, &call.id, s.message_id)?;
    if s.status == DeliveryState::Failed
        && s.error_codes.iter().any(|c| c == STOPPED_MARKETING_CODE)
        && let Some(customer_id) = &call.customer_id
    {
        suppress(conn, customer_id, Suppression::StoppedMarketing)?;
    }
    Ok(if reconciled {
        Effect::Reconciled { call_id: call.id }
    } else {
        Effect::Delivery {
            call_id: call.id,
            state,
        }
    })
}

fn apply_reply(
    conn: &Connection,
    restaurant: &Restaurant,
    from: &str,
    reply: Reply,
) -> Result<Effect, DbError> {
    // WhatsApp ids are the number's digits, country code first.
    let digits: String = from.chars().filter(char::is_ascii_digit).collect();
    let Ok(number) = normalise(&format!("+{digits}"), &restaurant.country) else {
        return Ok(Effect::Ignored);
    };
    let shown = mask(number.as_str());
    match reply {
        Reply::Stop => {
            let (customer, _) =
                match_or_create_customer(conn, &restaurant.id, number.as_str(), None, "WHATSAPP")?;
            suppress(conn, &customer.id, Suppression::Reply)?;
            Ok(Effect::Stopped {
                number: shown,
                suppressed_now: !customer.whatsapp_suppressed,
            })
        }
        Reply::Start => {
            let lifted = match find_customer_by_phone(conn, &restaurant.id, number.as_str())? {
                Some(customer) => lift_reply_suppression(conn, &customer.id)?,
                None => false,
            };
            Ok(Effect::Started {
                number: shown,
                lifted,
            })
        }
    }
}
