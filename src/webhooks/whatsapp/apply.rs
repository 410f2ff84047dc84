//! Applying a payload's items, in the webhook's one writer job: statuses move a call's delivery
//! state (and settle a send whose own answer was lost), replies suppress or lift.

use rusqlite::Connection;

use super::Item;
use crate::db::DbError;
use crate::db::calls::{self, CallRow};
use crate::db::customers::{
    find_customer_by_phone, lift_reply_suppression, match_or_create_customer, suppress,
    suppress_on_the_line,
};
use crate::db::restaurants::{Restaurant, restaurants_by_phone_number_id};
use crate::db::statuses::{self, NewStatus};
use crate::domain::{DeliveryState, Outcome, Suppression};
use crate::missed_call::status_proves_the_send;
use crate::phone::{mask, normalise};
use crate::webhooks::replies::Reply;
use crate::whatsapp::STOPPED_MARKETING_CODE;

/// What one item did, for the log.
#[derive(Debug)]
pub(super) enum Effect {
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
    pub(super) fn log(self) {
        match self {
            Effect::UnknownNumber(id) => tracing::info!(
                whatsapp.phone_number_id = %id,
                "a WhatsApp webhook for a number no restaurant has; ignored"
            ),
            Effect::UnknownMessage => {
                tracing::debug!("a WhatsApp status for a message this box did not send; ignored")
            }
            // A message WhatsApp accepted but could not deliver stays SENT and is not sent
            // again: the log is where a manager learns of it.
            Effect::Delivery {
                call_id,
                state: Some(DeliveryState::Failed),
            } => tracing::warn!(
                call.id = %call_id, delivery = "failed",
                "WhatsApp accepted the message but could not deliver it"
            ),
            Effect::Delivery { call_id, state } => tracing::debug!(
                call.id = %call_id, delivery = state.map_or("none", DeliveryState::as_str),
                "delivery state"
            ),
            Effect::Reconciled { call_id } => tracing::info!(
                call.id = %call_id,
                "WhatsApp's status says the message whose send was cut short (a restart, a timeout) did leave: SENT"
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
pub(super) fn apply(conn: &Connection, item: &Item, now: i64) -> Result<Vec<Effect>, DbError> {
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
    let Some(call) = call_of_status(conn, restaurant, &s)? else {
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
            reconciled = status_proves_the_send(conn, &call, s.message_id, now)?;
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
    suppress_if_stopped(conn, &call, &s)?;
    Ok(if reconciled {
        Effect::Reconciled { call_id: call.id }
    } else {
        Effect::Delivery {
            call_id: call.id,
            state,
        }
    })
}

/// The call a status is of: by the message id; else by the call id WhatsApp echoes, for a send
/// whose own answer has not been stored (in flight, or interrupted by a crash). Only this
/// restaurant's calls.
fn call_of_status(
    conn: &Connection,
    restaurant: &Restaurant,
    s: &StatusItem<'_>,
) -> rusqlite::Result<Option<CallRow>> {
    match calls::find_call_by_message_id(conn, &restaurant.id, s.message_id)? {
        Some(call) => Ok(Some(call)),
        None => match s.call_id {
            Some(id) => calls::find_call(conn, &restaurant.id, id),
            None => Ok(None),
        },
    }
}

/// A failed status with 131050 (the user stopped marketing messages) suppresses the number. A
/// forgotten caller has no number left to suppress, and must not be given one back.
fn suppress_if_stopped(
    conn: &Connection,
    call: &CallRow,
    s: &StatusItem<'_>,
) -> rusqlite::Result<()> {
    if s.status == DeliveryState::Failed
        && s.error_codes.iter().any(|c| c == STOPPED_MARKETING_CODE)
        && let Some(number) = call.number()
    {
        suppress_on_the_line(
            conn,
            &call.restaurant_id,
            number,
            Suppression::StoppedMarketing,
        )?;
    }
    Ok(())
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
