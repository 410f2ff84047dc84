//! The `telnyx_events` and `telnyx_sessions` tables (SPEC §10). Every event is kept by its id, so
//! a redelivery is a no-op; how a session folds from its events is `webhooks::session`.

use crate::domain::Settlement;
use rusqlite::{Connection, OptionalExtension, params};

/// A verified event, as much of it as the state machine needs.
#[derive(Debug, Clone)]
pub struct TelnyxEvent {
    pub id: String,
    pub session_id: String,
    pub event_type: String,
    pub leg_id: Option<String>,
    pub direction: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The call's `start_time`, in ms.
    pub started_at: Option<i64>,
    pub received_at: i64,
}

pub const INITIATED: &str = "call.initiated";
pub const ANSWERED: &str = "call.answered";
pub const HANGUP: &str = "call.hangup";

/// Stores the event; `false` when an event with its id was already stored.
pub fn store_event(conn: &Connection, e: &TelnyxEvent) -> rusqlite::Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO telnyx_events (id, session_id, event_type, leg_id, direction,
                                        from_number, to_number, started_at, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            e.id,
            e.session_id,
            e.event_type,
            e.leg_id,
            e.direction,
            e.from,
            e.to,
            e.started_at,
            e.received_at
        ])?;
    Ok(inserted == 1)
}

/// One stored event of a session, as the fold reads it.
pub struct SessionEvent {
    pub event: TelnyxEvent,
    /// It rang one of the restaurants' Telnyx numbers.
    pub to_known_number: bool,
}

/// Every stored event of the session, in the order they arrived.
pub fn session_events(conn: &Connection, session_id: &str) -> rusqlite::Result<Vec<SessionEvent>> {
    conn.prepare_cached(
        "SELECT id, event_type, leg_id, direction, from_number, to_number, started_at,
                received_at,
                to_number IN (SELECT telnyx_number FROM restaurants WHERE telnyx_number IS NOT NULL)
         FROM telnyx_events WHERE session_id = ?1 ORDER BY received_at, id",
    )?
    .query_map([session_id], |r| {
        Ok(SessionEvent {
            event: TelnyxEvent {
                id: r.get(0)?,
                session_id: session_id.to_string(),
                event_type: r.get(1)?,
                leg_id: r.get(2)?,
                direction: r.get(3)?,
                from: r.get(4)?,
                to: r.get(5)?,
                started_at: r.get(6)?,
                received_at: r.get(7)?,
            },
            to_known_number: r.get::<_, Option<bool>>(8)?.unwrap_or(false),
        })
    })?
    .collect()
}

/// Writes the session's row as its events fold (creating it at `now`); answers whether it was
/// settled already.
pub fn save_session(
    conn: &Connection,
    session_id: &str,
    hangup_at: Option<i64>,
    answered: bool,
    now: i64,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "INSERT INTO telnyx_sessions (session_id, hangup_at, answered, received_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (session_id) DO UPDATE SET hangup_at = excluded.hangup_at,
                                                answered = excluded.answered",
    )?
    .execute(params![session_id, hangup_at, answered, now])?;
    conn.prepare_cached("SELECT settled_at IS NOT NULL FROM telnyx_sessions WHERE session_id = ?1")?
        .query_row([session_id], |r| r.get(0))
}

/// Sessions closed at least `settle_ms` ago and not settled yet, oldest first.
pub fn due_sessions(
    conn: &Connection,
    now: i64,
    settle_ms: i64,
    limit: u32,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT session_id FROM telnyx_sessions
         WHERE settled_at IS NULL AND hangup_at IS NOT NULL AND hangup_at <= ?1
         ORDER BY hangup_at LIMIT ?2",
    )?;
    stmt.query_map(params![now - settle_ms, limit], |r| r.get(0))?
        .collect()
}

/// Marks the session settled, and the ledger row it became, if any.
pub fn settle(
    conn: &Connection,
    session_id: &str,
    settlement: Settlement,
    call_id: Option<&str>,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE telnyx_sessions SET settled_at = ?2, settlement = ?3, call_id = ?4
         WHERE session_id = ?1 AND settled_at IS NULL",
    )?
    .execute(params![session_id, now, settlement, call_id])?;
    Ok(())
}

/// The restaurant whose Telnyx number this is.
pub fn restaurant_by_number(conn: &Connection, number: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT id FROM restaurants WHERE telnyx_number = ?1")?
        .query_row([number], |r| r.get(0))
        .optional()
}
