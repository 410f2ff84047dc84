//! The pipeline's ledger steps: claiming the row (SPEC §3), recording how a dispatch ended, and
//! recovering rows a crash left in flight.

use rusqlite::Connection;

use super::{PipelineError, Report};
use crate::db::DbError;
use crate::db::calls::{self, CallRow, NewCall};
use crate::db::customers::suppress_on_the_line;
use crate::db::restaurants::{Restaurant, charge_balance, credit_balance};
use crate::db::statuses;
use crate::domain::Outcome;
use crate::domain::Source;
use crate::domain::Suppression;
use crate::missed_call::retry::{self, RetryRule};
use crate::phone::Caller;
use crate::secret::new_id;
use crate::time::now_ms;
use crate::whatsapp::{DispatchResult, STOPPED_MARKETING_CODE};

/// What the claim of step 3 found.
pub(super) enum Claimed {
    /// The row to run the pipeline on (new, or a FAILED one run again), as it will read once
    /// the decision is written over it.
    Run(CallRow),
    /// A replay of a call that ended: its row, unchanged.
    Replay(CallRow),
}

/// Step 3: claims the ledger row by inserting it; the UNIQUE key decides, never a read first.
pub(super) fn claim_call_row(
    conn: &Connection,
    restaurant: &Restaurant,
    report: &Report,
) -> Result<Claimed, PipelineError> {
    let id = new_id("call");
    let occurred_at = report.occurred_at.unwrap_or(report.received_at);
    let (caller_raw, caller_e164) = match &report.caller {
        Caller::Hidden(raw) => (raw.as_str(), None),
        Caller::Number(n) => (n.as_str(), Some(n.as_str())),
    };
    let inserted = calls::insert_call(
        conn,
        &NewCall {
            id: &id,
            restaurant_id: &restaurant.id,
            external_call_id: report.external_call_id.as_deref(),
            caller_raw,
            caller_e164,
            occurred_at,
            created_at: report.received_at,
            source: report.source,
        },
    )?;
    if inserted.is_some() {
        return Ok(Claimed::Run(CallRow {
            id,
            restaurant_id: restaurant.id.clone(),
            external_call_id: report.external_call_id.clone(),
            caller_raw: caller_raw.to_string(),
            caller_e164: caller_e164.map(str::to_string),
            customer_id: None,
            reservation_id: None,
            template_type: None,
            occurred_at,
            created_at: report.received_at,
            outcome: Outcome::Dispatching,
            message_id: None,
            error_code: None,
            error_message: None,
            debited_cents: 0,
            link_token: None,
            source: report.source,
            delivery_state: None,
            attempts: 0,
            next_attempt_at: None,
            held_until: None,
        }));
    }
    // Not inserted: only the (restaurant, external_call_id) key can have been taken.
    let existing = report
        .external_call_id
        .as_deref()
        .map(|key| calls::find_call_by_external_id(conn, &restaurant.id, key))
        .transpose()?
        .flatten()
        .ok_or_else(|| DbError::Task("the call was neither inserted nor found".into()))?;
    let existing_caller = existing
        .caller_e164
        .as_deref()
        .unwrap_or(&existing.caller_raw);
    if existing_caller != report.caller.key() {
        return Err(PipelineError::ExternalCallIdReused);
    }
    // A send in flight, or one waiting for WhatsApp's status (interrupted by a restart, or cut
    // short after its request left): not dispatched again meanwhile.
    let waits_until = existing
        .held_until
        .filter(|until| *until > report.received_at);
    let in_flight = existing.outcome == Outcome::Dispatching;
    if in_flight || (existing.outcome == Outcome::Failed && waits_until.is_some()) {
        return Err(PipelineError::CallInProgress {
            call_id: existing.id,
            retry_after_ms: waits_until.map_or(0, |until| until - report.received_at),
        });
    }
    match existing.outcome {
        // ringback's own retry, read a moment ago: another may have run it since.
        Outcome::Failed
            if report.retry_of.is_some_and(|seen| {
                existing.attempts != seen
                    || existing
                        .next_attempt_at
                        .is_none_or(|due| due > report.received_at)
            }) =>
        {
            Err(PipelineError::RetryNotDue {
                call_id: existing.id,
            })
        }
        // A retry keeps the stored time unless it states one: the call happened when it did.
        Outcome::Failed => Ok(Claimed::Run(CallRow {
            occurred_at: report.occurred_at.unwrap_or(existing.occurred_at),
            ..existing
        })),
        _ => Ok(Claimed::Replay(existing)),
    }
}

/// The second, short job: how the dispatch of the claimed `row` ended, the refund, 131050's
/// suppression, the wait for WhatsApp's status of a send that may have left, and — for a Telnyx
/// call that failed — when ringback sends it again. Returns the row as it now reads: what the
/// claim read may have changed since (`customer forget` erases the caller meanwhile).
pub(super) fn record_result(
    conn: &Connection,
    row: &CallRow,
    result: &DispatchResult,
    now: i64,
    rule: RetryRule,
) -> Result<CallRow, PipelineError> {
    // WhatsApp's own status may already have said the message left (its answer to us timed
    // out, say): that is a send, whatever the transport concluded.
    let echoed = match result {
        DispatchResult::Failed { .. } | DispatchResult::Unconfirmed { .. } => {
            statuses::message_of_call(conn, &row.id)?
        }
        DispatchResult::Sent { .. } | DispatchResult::Undeliverable { .. } => None,
    };
    let (outcome, message_id, _) = outcome_of(result, echoed.as_deref());
    let mut stored = match store_outcome(conn, row, result, echoed.as_deref(), now)? {
        Stored::Now(stored) => stored,
        Stored::Already(row) => return Ok(row),
    };
    if outcome == Outcome::Failed {
        // A send that may have left is not sent again before its status had time to say so.
        let may_have_left = matches!(result, DispatchResult::Unconfirmed { .. });
        let wait = if may_have_left {
            rule.status_wait_ms
        } else {
            0
        };
        if wait > 0 {
            calls::hold(conn, &stored.id, now + wait)?;
            stored.held_until = Some(now + wait);
        }
        stored.next_attempt_at = schedule_retry(conn, &stored, now, rule.stale_after_ms, wait)?;
    }
    if let (DispatchResult::Undeliverable { code, .. }, Some(number)) = (result, stored.number())
        && code == STOPPED_MARKETING_CODE
    {
        suppress_on_the_line(
            conn,
            &stored.restaurant_id,
            number,
            Suppression::StoppedMarketing,
        )?;
    }
    // Statuses that arrived before this result was stored.
    if let Some(message_id) = message_id {
        stored.delivery_state = statuses::refresh_delivery_state(conn, &stored.id, message_id)?;
    }
    Ok(stored)
}

/// The outcome a send's result gives, with its message id and error; `echoed` is the message id
/// WhatsApp's own status already named for the call.
fn outcome_of<'a>(
    result: &'a DispatchResult,
    echoed: Option<&'a str>,
) -> (Outcome, Option<&'a str>, Option<(&'a str, &'a str)>) {
    match (result, echoed) {
        (_, Some(message_id)) => (Outcome::Sent, Some(message_id), None),
        (DispatchResult::Sent { message_id }, None) => (Outcome::Sent, Some(message_id), None),
        (DispatchResult::Undeliverable { code, message }, None) => {
            (Outcome::Undeliverable, None, Some((code, message)))
        }
        (
            DispatchResult::Failed { code, message }
            | DispatchResult::Unconfirmed { code, message },
            None,
        ) => (Outcome::Failed, None, Some((code, message))),
    }
}

/// What storing an outcome found.
enum Stored {
    /// The row as it now reads.
    Now(CallRow),
    /// A restart had already settled the row (FAILED and refunded); as it reads.
    Already(CallRow),
}

/// The outcome of a send over its DISPATCHING row, and the refund of a send that did not leave.
fn store_outcome(
    conn: &Connection,
    row: &CallRow,
    result: &DispatchResult,
    echoed: Option<&str>,
    now: i64,
) -> Result<Stored, PipelineError> {
    let (outcome, message_id, error) = outcome_of(result, echoed);
    let Some(stored) =
        calls::record_dispatch_result(conn, &row.id, outcome, message_id, error, now)?
    else {
        let row =
            calls::find_call_by_id(conn, &row.id)?.ok_or_else(|| PipelineError::CallGone {
                call_id: row.id.clone(),
            })?;
        return Ok(Stored::Already(row));
    };
    if outcome != Outcome::Sent {
        credit_balance(conn, &stored.restaurant_id, stored.debited_cents)?;
    }
    Ok(Stored::Now(stored))
}

/// When `record_result` cannot be stored for a reason other than storage (a bug, a row changed
/// past what it expects): the outcome alone, with its refund — no suppression, planned retry or
/// delivery state — so that the row does not stay DISPATCHING.
pub(super) fn record_outcome_only(
    conn: &Connection,
    row: &CallRow,
    result: &DispatchResult,
    now: i64,
) -> Result<CallRow, PipelineError> {
    match store_outcome(conn, row, result, None, now)? {
        Stored::Now(row) | Stored::Already(row) => Ok(row),
    }
}

/// A FAILED Telnyx call is sent again by ringback itself (SPEC §10); a partner's call is the
/// partner's to retry.
/// Returns when, if ever.
fn schedule_retry(
    conn: &Connection,
    row: &CallRow,
    now: i64,
    stale_after_ms: i64,
    min_delay_ms: i64,
) -> rusqlite::Result<Option<i64>> {
    // Nobody is sent anything more once forgotten.
    if row.source != Source::Telnyx || row.is_forgotten() {
        return Ok(None);
    }
    let at = retry::next_attempt_at(
        row.attempts,
        row.occurred_at,
        now,
        stale_after_ms,
        min_delay_ms,
    );
    calls::set_next_attempt(conn, &row.id, at)?;
    Ok(at)
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

/// WhatsApp's status names `message_id` as the message of `call`, whose own send never
/// recorded one: the call is SENT with it, never dispatched again. That is a held row (a send a
/// crash interrupted), a FAILED one (a send whose answer timed out although the message left;
/// its refund is charged again), or — only at start-up, when no send is in flight — any row
/// left DISPATCHING. Returns whether the call changed.
pub fn sent_per_status(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::restaurants::find_restaurant;
    use crate::phone::E164;

    fn failed_call(next_attempt_at: Option<i64>) -> (Connection, Restaurant) {
        let conn = crate::db::memory_database_with_a_restaurant();
        conn.execute_batch(
            "INSERT INTO calls (id, restaurant_id, external_call_id, caller_raw, caller_e164,
                                occurred_at, created_at, updated_at, outcome, source, attempts)
                 VALUES ('call_1', 'rst_1', 'session-1', '+33612345678', '+33612345678',
                         0, 0, 0, 'FAILED', 'TELNYX', 1);",
        )
        .expect("seed");
        conn.execute("UPDATE calls SET next_attempt_at = ?1", [next_attempt_at])
            .expect("plan");
        let restaurant = find_restaurant(&conn, "rst_1")
            .expect("read")
            .expect("restaurant");
        (conn, restaurant)
    }

    fn retry(seen_attempts: i64, now: i64) -> Report {
        Report {
            caller: Caller::Number(E164::from_stored("+33612345678")),
            external_call_id: Some("session-1".into()),
            occurred_at: Some(0),
            received_at: now,
            source: Source::Telnyx,
            retry_of: Some(seen_attempts),
        }
    }

    #[test]
    fn a_due_retry_of_the_failure_it_read_runs_the_call_again() {
        let (conn, restaurant) = failed_call(Some(1_000));
        let claimed = claim_call_row(&conn, &restaurant, &retry(1, 1_000));
        assert!(matches!(claimed, Ok(Claimed::Run(row)) if row.id == "call_1"));
    }

    #[test]
    fn a_retry_read_before_the_call_changed_does_not_run_it() {
        for (planned, seen, now) in [
            // Another retry ran it since: one more attempt, the next one planned later.
            (Some(61_000), 1, 31_000),
            (Some(1_000), 0, 1_000),
            // Its retry was dropped (forgotten, stale, or WhatsApp's status made it SENT).
            (None, 1, 1_000),
        ] {
            let (conn, restaurant) = failed_call(planned);
            let claimed = claim_call_row(&conn, &restaurant, &retry(seen, now));
            assert!(
                matches!(claimed, Err(PipelineError::RetryNotDue { .. })),
                "{planned:?} {seen} {now}"
            );
        }
    }
}
