//! The exactly-once hold and its reconciliation (SPEC §10): a send that may have left is held
//! until WhatsApp's status says so or the hold ends; a status proves the send, whenever it comes;
//! at start-up, rows a crash left in flight are settled by the same rules. The pipeline, the
//! start-up recovery, the WhatsApp webhook and the timers all call in here.

use rusqlite::Connection;

use super::ledger::schedule_retry;
use super::retry::RetryRule;
use crate::db::DbError;
use crate::db::calls::{self, CallRow};
use crate::db::restaurants::{charge_balance, credit_balance};
use crate::db::statuses;
use crate::domain::Outcome;
use crate::time::now_ms;
use crate::whatsapp::DispatchResult;

/// A send that failed or whose answer was lost: WhatsApp's own status may already have said
/// the message left (its answer to us timed out, say). That is a send, whatever the transport
/// concluded; returns the message id the status named.
pub(super) fn status_already_heard(
    conn: &Connection,
    call_id: &str,
    result: &DispatchResult,
) -> rusqlite::Result<Option<String>> {
    match result {
        DispatchResult::Failed { .. } | DispatchResult::Unconfirmed { .. } => {
            statuses::message_of_call(conn, call_id)
        }
        DispatchResult::Sent { .. } | DispatchResult::Undeliverable { .. } => Ok(None),
    }
}

/// A FAILED send that may have left is not sent again before its status had time to say so:
/// the row is held `status_wait_ms`. Returns how long (0: not held).
pub(super) fn hold_if_it_may_have_left(
    conn: &Connection,
    stored: &mut CallRow,
    result: &DispatchResult,
    rule: RetryRule,
    now: i64,
) -> rusqlite::Result<i64> {
    if !matches!(result, DispatchResult::Unconfirmed { .. }) || rule.status_wait_ms <= 0 {
        return Ok(0);
    }
    let until = now + rule.status_wait_ms;
    calls::hold(conn, &stored.id, until)?;
    stored.held_until = Some(until);
    Ok(rule.status_wait_ms)
}

/// What start-up recovery did with the rows a crash left in DISPATCHING.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// Turned FAILED (`interrupted`) and refunded.
    pub failed: usize,
    /// Held for WhatsApp's status (the webhook is on).
    pub held: usize,
    /// SENT: a status WhatsApp sent before the crash already named their message.
    pub sent: usize,
}

/// A status that names `call` (by the call id WhatsApp echoes) whose own send never recorded a
/// message: it proves the message left — of a held send, of a FAILED one, not of a send still in
/// flight, which records it with its own result. Returns whether the call turned SENT.
pub fn status_proves_the_send(
    conn: &Connection,
    call: &CallRow,
    message_id: &str,
    now: i64,
) -> rusqlite::Result<bool> {
    let held = call.outcome == Outcome::Dispatching && calls::is_held(conn, &call.id)?;
    sent_per_status(conn, call, message_id, held, now)
}

/// WhatsApp's status names `message_id` as the message of `call`, whose own send never
/// recorded one: the call is SENT with it, never dispatched again. That is a held row (a send a
/// crash interrupted), a FAILED one (a send whose answer timed out although the message left;
/// its refund is charged again), or — only at start-up, when no send is in flight — any row
/// left DISPATCHING. Returns whether the call changed.
fn sent_per_status(
    conn: &Connection,
    call: &CallRow,
    message_id: &str,
    held: bool,
    now: i64,
) -> rusqlite::Result<bool> {
    match call.outcome {
        Outcome::Dispatching if held => {
            calls::mark_sent(conn, &call.id, Outcome::Dispatching, message_id, now)
        }
        Outcome::Failed => {
            let changed = calls::mark_sent(conn, &call.id, Outcome::Failed, message_id, now)?;
            if changed {
                charge_balance(conn, &call.restaurant_id, call.debited_cents)?;
            }
            Ok(changed)
        }
        _ => Ok(false),
    }
}

/// A status stored before the crash or the end of the hold proves the row's message left.
fn sent_before(conn: &Connection, call: &CallRow, now: i64) -> rusqlite::Result<bool> {
    match statuses::message_of_call(conn, &call.id)? {
        Some(message_id) => {
            let sent = sent_per_status(conn, call, &message_id, true, now)?;
            if sent {
                statuses::refresh_delivery_state(conn, &call.id, &message_id)?;
            }
            Ok(sent)
        }
        None => Ok(false),
    }
}

/// At start-up: rows a crash left in DISPATCHING become FAILED (`interrupted`) and are refunded,
/// so that a retry dispatches them — or, with `hold_ms` (the WhatsApp webhook is on), wait that
/// long for a status saying whether their message left. A row already held by an earlier start
/// keeps its deadline. One transaction: a crash during recovery leaves every row as it was,
/// never a row turned FAILED without its refund.
pub fn recover_interrupted(
    conn: &mut Connection,
    hold_ms: Option<i64>,
    stale_after_ms: i64,
) -> Result<Recovered, DbError> {
    let now = now_ms();
    let tx = conn.transaction()?;
    let mut recovered = Recovered::default();
    for row in calls::find_in_flight(&tx)? {
        if sent_before(&tx, &row, now)? {
            recovered.sent += 1;
            continue;
        }
        match (hold_ms, row.held_until) {
            // Held by an earlier start: its deadline stands (with the webhook now off, nothing
            // would end the hold, so it ends now).
            (Some(_), Some(until)) if until > now => recovered.held += 1,
            (Some(hold), None) if hold > 0 => {
                calls::hold(&tx, &row.id, now + hold)?;
                recovered.held += 1;
            }
            _ => {
                fail_interrupted(&tx, &row, now, stale_after_ms)?;
                recovered.failed += 1;
            }
        }
    }
    tx.commit()?;
    Ok(recovered)
}

/// Held rows whose hold is over, with no status heard: FAILED `interrupted` and refunded, so a
/// send that never reached WhatsApp is sent again. Returns how many turned FAILED.
pub fn end_expired_holds(
    conn: &Connection,
    now: i64,
    stale_after_ms: i64,
) -> Result<usize, DbError> {
    let expired = calls::find_expired_holds(conn, now)?;
    let mut failed = 0;
    for call in &expired {
        if !sent_before(conn, call, now)? {
            fail_interrupted(conn, call, now, stale_after_ms)?;
            failed += 1;
        }
    }
    Ok(failed)
}

fn fail_interrupted(
    conn: &Connection,
    call: &CallRow,
    now: i64,
    stale_after_ms: i64,
) -> rusqlite::Result<()> {
    calls::record_dispatch_result(
        conn,
        &call.id,
        Outcome::Failed,
        None,
        Some(("interrupted", "the dispatch was interrupted by a restart")),
        now,
    )?;
    credit_balance(conn, &call.restaurant_id, call.debited_cents)?;
    // Held already (or no webhook to wait for): the usual back-off.
    schedule_retry(conn, call, now, stale_after_ms, 0).map(drop)
}
