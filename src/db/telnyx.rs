//! Telnyx's call events and the sessions folded from them (SPEC §10). Every event is kept by its
//! id, so a redelivery is a no-op, and a session is folded again from all of its events each
//! time one arrives: the order they come in cannot change what the session is.

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

/// A session as its events say it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// The caller, the number called (the restaurant's Telnyx number) and when the call began:
    /// from the incoming leg's events.
    pub from: Option<String>,
    pub to: Option<String>,
    pub started_at: Option<i64>,
    /// When the incoming leg's hangup arrived; `None` while the call is open.
    pub hangup_at: Option<i64>,
    /// Some leg of the session was answered.
    pub answered: bool,
    /// Already run through the pipeline, or set aside.
    pub settled: bool,
}

/// Folds every stored event of the session into its row, and returns it. The incoming leg is
/// the one `call.initiated` says is `incoming`; before that event arrives, a leg called on one
/// of the restaurants' Telnyx numbers (Telnyx's hangup does not say its direction) — unless an
/// event of that leg says it is `outgoing`. An outgoing leg (a transfer to the restaurant's
/// landline, a call the restaurant makes) counts for its answer only.
pub fn fold_session(conn: &Connection, session_id: &str, now: i64) -> rusqlite::Result<Session> {
    let mut stmt = conn.prepare_cached(
        "SELECT event_type, leg_id, direction, from_number, to_number, started_at, received_at,
                to_number IN (SELECT telnyx_number FROM restaurants WHERE telnyx_number IS NOT NULL)
         FROM telnyx_events WHERE session_id = ?1 ORDER BY received_at, id",
    )?;
    let events = stmt
        .query_map([session_id], |r| {
            Ok(Folded {
                event_type: r.get(0)?,
                leg_id: r.get(1)?,
                direction: r.get(2)?,
                from: r.get(3)?,
                to: r.get(4)?,
                started_at: r.get(5)?,
                received_at: r.get(6)?,
                to_known_number: r.get::<_, Option<bool>>(7)?.unwrap_or(false),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let legs_initiated = |direction: &str| -> Vec<&str> {
        events
            .iter()
            .filter(|e| e.event_type == INITIATED && e.direction.as_deref() == Some(direction))
            .filter_map(|e| e.leg_id.as_deref())
            .collect()
    };
    let (incoming_legs, outgoing_legs) = (legs_initiated("incoming"), legs_initiated("outgoing"));
    let of_legs =
        |e: &Folded, legs: &[&str]| e.leg_id.as_deref().is_some_and(|l| legs.contains(&l));
    // A leg that says, or whose `call.initiated` said, it is outgoing is never the incoming
    // one, whatever number it rang.
    let is_incoming = |e: &Folded| {
        let outgoing = e.direction.as_deref() == Some("outgoing") || of_legs(e, &outgoing_legs);
        !outgoing
            && (e.direction.as_deref() == Some("incoming")
                || of_legs(e, &incoming_legs)
                || (incoming_legs.is_empty() && e.to_known_number))
    };
    let mut session = Session::default();
    for e in events.iter().filter(|e| is_incoming(e)) {
        session.from = session.from.take().or_else(|| e.from.clone());
        session.to = session.to.take().or_else(|| e.to.clone());
        session.started_at = session.started_at.or(e.started_at);
        if e.event_type == HANGUP {
            session.hangup_at = Some(
                session
                    .hangup_at
                    .map_or(e.received_at, |h| h.min(e.received_at)),
            );
        }
    }
    session.answered = events.iter().any(|e| e.event_type == ANSWERED);
    conn.prepare_cached(
        "INSERT INTO telnyx_sessions (session_id, hangup_at, answered, received_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (session_id) DO UPDATE SET hangup_at = excluded.hangup_at,
                                                answered = excluded.answered",
    )?
    .execute(params![
        session_id,
        session.hangup_at,
        session.answered,
        now
    ])?;
    session.settled = conn
        .prepare_cached("SELECT settled_at IS NOT NULL FROM telnyx_sessions WHERE session_id = ?1")?
        .query_row([session_id], |r| r.get(0))?;
    Ok(session)
}

struct Folded {
    event_type: String,
    leg_id: Option<String>,
    direction: Option<String>,
    from: Option<String>,
    to: Option<String>,
    started_at: Option<i64>,
    received_at: i64,
    to_known_number: bool,
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
