//! The pipeline's ledger steps: claiming the row (SPEC §3) and recording how a dispatch ended;
//! the hold of a send that may have left, and recovery after a crash, are `reconcile.rs`'s.

use rusqlite::Connection;

use super::reconcile;
use super::{PipelineError, Report};
use crate::db::DbError;
use crate::db::calls::{self, CallRow, NewCall};
use crate::db::customers::suppress_on_the_line;
use crate::db::restaurants::{Restaurant, credit_balance};
use crate::db::statuses;
use crate::domain::{Outcome, Source, Suppression};
use crate::missed_call::retry::{self, RetryRule};
use crate::phone::Caller;
use crate::secret::new_id;
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
        let row = new_row(id, restaurant, report, occurred_at);
        return Ok(Claimed::Run(row));
    }
    // Not inserted: only the (restaurant, external_call_id) key can have been taken.
    let existing = report
        .external_call_id
        .as_deref()
        .map(|key| calls::find_call_by_external_id(conn, &restaurant.id, key))
        .transpose()?
        .flatten()
        .ok_or_else(|| DbError::Task("the call was neither inserted nor found".into()))?;
    claim_again(existing, report)
}

/// A report whose key was claimed before: another caller's is refused, a send in flight or held
/// waits, a FAILED call runs again (unless it is ringback's own retry of a failure that changed
/// since it was read), and any other is a replay of how the call ended.
fn claim_again(existing: CallRow, report: &Report) -> Result<Claimed, PipelineError> {
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

/// The row a claim inserted, as it reads before the decision is written over it.
fn new_row(id: String, restaurant: &Restaurant, report: &Report, occurred_at: i64) -> CallRow {
    let (caller_raw, caller_e164) = match &report.caller {
        Caller::Hidden(raw) => (raw.clone(), None),
        Caller::Number(n) => (n.as_str().to_string(), Some(n.as_str().to_string())),
    };
    CallRow {
        id,
        restaurant_id: restaurant.id.clone(),
        external_call_id: report.external_call_id.clone(),
        caller_raw,
        caller_e164,
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
    let echoed = reconcile::status_already_heard(conn, &row.id, result)?;
    let (outcome, message_id, _) = outcome_of(result, echoed.as_deref());
    let mut stored = match store_outcome(conn, row, result, echoed.as_deref(), now)? {
        Stored::Now(stored) => stored,
        Stored::Already(row) => return Ok(row),
    };
    if outcome == Outcome::Failed {
        let wait = reconcile::hold_if_it_may_have_left(conn, &mut stored, result, rule, now)?;
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
pub(super) fn schedule_retry(
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
