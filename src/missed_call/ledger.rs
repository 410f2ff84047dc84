//! The pipeline's ledger steps: claiming the row (SPEC §3), recording how a dispatch ended, and
//! recovering rows a crash left in flight.

use rusqlite::Connection;

use super::outcome::Outcome;
use super::{PipelineError, Report};
use crate::db::DbError;
use crate::db::calls::{self, CallRow, NewCall};
use crate::db::customers::set_suppressed;
use crate::db::restaurants::{Restaurant, credit_balance};
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
    match existing.outcome {
        Outcome::Dispatching => Err(PipelineError::CallInProgress {
            call_id: existing.id,
        }),
        // A retry keeps the stored time unless it states one: the call happened when it did.
        Outcome::Failed => Ok(Claimed::Run(CallRow {
            occurred_at: report.occurred_at.unwrap_or(existing.occurred_at),
            ..existing
        })),
        _ => Ok(Claimed::Replay(existing)),
    }
}

/// The second, short job: how the dispatch of the claimed `row` ended, the refund, and 131050's
/// suppression. Returns the row as it now reads.
pub(super) fn record_result(
    conn: &Connection,
    row: &CallRow,
    result: &DispatchResult,
    now: i64,
) -> Result<CallRow, PipelineError> {
    let (outcome, message_id, error) = match result {
        DispatchResult::Sent { message_id } => (Outcome::Sent, Some(message_id.as_str()), None),
        DispatchResult::Undeliverable { code, message } => (
            Outcome::Undeliverable,
            None,
            Some((code.as_str(), message.as_str())),
        ),
        DispatchResult::Failed { code, message } => (
            Outcome::Failed,
            None,
            Some((code.as_str(), message.as_str())),
        ),
    };
    let recorded = calls::record_dispatch_result(conn, &row.id, outcome, message_id, error, now)?;
    if !recorded {
        // A restart already turned the row FAILED and refunded it; nothing more to do.
        return calls::find_call_by_id(conn, &row.id)?.ok_or_else(|| PipelineError::CallGone {
            call_id: row.id.clone(),
        });
    }
    if outcome != Outcome::Sent {
        credit_balance(conn, &row.restaurant_id, row.debited_cents)?;
    }
    if let (DispatchResult::Undeliverable { code, .. }, Some(customer_id)) =
        (result, &row.customer_id)
        && code == STOPPED_MARKETING_CODE
    {
        set_suppressed(conn, customer_id, true)?;
    }
    let (error_code, error_message) = error.unzip();
    Ok(CallRow {
        outcome,
        message_id: message_id.map(str::to_string),
        error_code: error_code.map(str::to_string),
        error_message: error_message.map(str::to_string),
        ..row.clone()
    })
}

/// At start-up: rows a crash left in DISPATCHING become FAILED (`interrupted`) and are refunded,
/// so that a retry dispatches them. One transaction: a crash during recovery leaves every row
/// as it was, never a row turned FAILED without its refund. Returns how many.
pub fn recover_interrupted(conn: &mut Connection) -> Result<usize, DbError> {
    let now = now_ms();
    let tx = conn.transaction()?;
    let rows = calls::find_in_flight(&tx)?;
    for (id, restaurant_id, debited) in &rows {
        calls::record_dispatch_result(
            &tx,
            id,
            Outcome::Failed,
            None,
            Some(("interrupted", "the dispatch was interrupted by a restart")),
            now,
        )?;
        credit_balance(&tx, restaurant_id, *debited)?;
    }
    tx.commit()?;
    Ok(rows.len())
}
