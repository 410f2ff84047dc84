//! The SQL of a call that waits: held for WhatsApp's status after a restart or a send that may
//! have left, proved SENT by a status, or planned for ringback's own retry (SPEC §10). The rules
//! are `missed_call/reconcile.rs`'s and `missed_call/retry.rs`'s.

use rusqlite::{Connection, params};

use super::{COLUMNS, CallRow, from_row};
use crate::domain::Outcome;

/// Rows a crash left in DISPATCHING.
pub fn find_in_flight(conn: &Connection) -> rusqlite::Result<Vec<CallRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM calls WHERE outcome = 'DISPATCHING'"
    ))?;
    stmt.query_map([], from_row)?.collect()
}

/// Keeps the call waiting for WhatsApp's status until `until`: a DISPATCHING row a restart
/// found, or a FAILED one whose send may have left.
pub fn hold(conn: &Connection, id: &str, until: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE calls SET held_until = ?2 WHERE id = ?1")?
        .execute(params![id, until])?;
    Ok(())
}

/// Held rows whose hold ended by `now` with no status heard.
pub fn find_expired_holds(conn: &Connection, now: i64) -> rusqlite::Result<Vec<CallRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM calls
         WHERE held_until IS NOT NULL AND held_until <= ?1 AND outcome = 'DISPATCHING'"
    ))?;
    stmt.query_map([now], from_row)?.collect()
}

/// The earliest end of a DISPATCHING row's hold, if any is held. (A FAILED row's hold needs no
/// end: it only keeps replays and retries away until then.)
pub fn next_hold_end(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT min(held_until) FROM calls WHERE held_until IS NOT NULL AND outcome = 'DISPATCHING'",
    )?
    .query_row([], |r| r.get(0))
}

/// A call whose message WhatsApp's status proves did leave: SENT with that message id, and
/// never dispatched again. Only a row in `outcome` is changed (DISPATCHING, or FAILED without a
/// message); returns whether it was.
pub fn mark_sent(
    conn: &Connection,
    id: &str,
    outcome: Outcome,
    message_id: &str,
    now: i64,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE calls SET outcome = 'SENT', message_id = ?3, error_code = NULL,
                    error_message = NULL, updated_at = ?4, sent_at = ?4, held_until = NULL,
                    next_attempt_at = NULL
             WHERE id = ?1 AND outcome = ?2 AND message_id IS NULL",
        )?
        .execute(params![id, outcome, message_id, now])?;
    Ok(changed == 1)
}

/// Whether the row is held for WhatsApp's status after a restart.
pub fn is_held(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM calls WHERE id = ?1 AND held_until IS NOT NULL
                        AND outcome = 'DISPATCHING')",
    )?
    .query_row([id], |r| r.get(0))
}

/// When ringback sends a FAILED Telnyx call again; `None`: it will not.
pub fn set_next_attempt(conn: &Connection, id: &str, at: Option<i64>) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE calls SET next_attempt_at = ?2 WHERE id = ?1")?
        .execute(params![id, at])?;
    Ok(())
}

/// FAILED Telnyx calls whose next attempt is due by `now`, oldest due first.
pub fn find_due_retries(conn: &Connection, now: i64, limit: u32) -> rusqlite::Result<Vec<CallRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM calls
         WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?1 AND outcome = 'FAILED'
         ORDER BY next_attempt_at LIMIT ?2"
    ))?;
    stmt.query_map(params![now, limit], from_row)?.collect()
}
