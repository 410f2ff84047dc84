//! The `message_statuses` table: each WhatsApp status of a message, once, with its time
//! (SPEC §10). A call's delivery state is folded from them, so their order does not matter.

use rusqlite::{Connection, OptionalExtension, params};

use crate::missed_call::delivery::DeliveryState;

pub struct NewStatus<'a> {
    pub message_id: &'a str,
    pub status: DeliveryState,
    /// The call the message was sent for (WhatsApp echoes it), when known.
    pub call_id: Option<&'a str>,
    /// WhatsApp's time for the status, in ms.
    pub at: i64,
    pub error_code: Option<&'a str>,
    pub received_at: i64,
}

/// Stores a status; `false` when this (message, status) was already counted.
pub fn insert_status(conn: &Connection, s: &NewStatus<'_>) -> rusqlite::Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO message_statuses (message_id, status, call_id, at, error_code, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            s.message_id,
            s.status,
            s.call_id,
            s.at,
            s.error_code,
            s.received_at
        ])?;
    Ok(inserted == 1)
}

/// The message a status said was sent for this call, if one came (before the send's own answer).
pub fn message_of_call(conn: &Connection, call_id: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT message_id FROM message_statuses WHERE call_id = ?1 LIMIT 1")?
        .query_row([call_id], |r| r.get(0))
        .optional()
}

/// Sets the call's delivery state from every status its message has had. Returns the state.
pub fn refresh_delivery_state(
    conn: &Connection,
    call_id: &str,
    message_id: &str,
) -> rusqlite::Result<Option<DeliveryState>> {
    let mut stmt =
        conn.prepare_cached("SELECT status FROM message_statuses WHERE message_id = ?1")?;
    let statuses = stmt
        .query_map([message_id], |r| r.get::<_, DeliveryState>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let state = statuses.into_iter().fold(None, |state, status| {
        DeliveryState::advance(state, status).or(state)
    });
    conn.prepare_cached("UPDATE calls SET delivery_state = ?3 WHERE id = ?1 AND message_id = ?2")?
        .execute(params![call_id, message_id, state])?;
    Ok(state)
}
