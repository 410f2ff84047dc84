//! The `message_statuses` table: each WhatsApp status of a message, once, with its time
//! (SPEC §10). A call's delivery state is folded from them, so their order does not matter.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::DeliveryState;

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

/// Moves the call's delivery state forward by every status its message has had (the rule of
/// `DeliveryState::advance` gives the same state in any order), and returns it. A message with
/// no status stored (the usual case when a send's result is recorded) costs one indexed read
/// and changes nothing.
pub fn refresh_delivery_state(
    conn: &Connection,
    call_id: &str,
    message_id: &str,
) -> rusqlite::Result<Option<DeliveryState>> {
    let mut stmt =
        conn.prepare_cached("SELECT status, at FROM message_statuses WHERE message_id = ?1")?;
    let statuses = stmt
        .query_map([message_id], |r| {
            Ok((r.get::<_, DeliveryState>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if statuses.is_empty() {
        return Ok(None);
    }
    // When it was delivered and read, for the call's detail (SPEC §9): kept on the call, since
    // the statuses are forgotten after 8 days.
    let first = |wanted: DeliveryState| {
        statuses
            .iter()
            .filter(|(s, _)| *s == wanted)
            .map(|(_, at)| *at)
            .min()
    };
    let (delivered_at, read_at) = (first(DeliveryState::Delivered), first(DeliveryState::Read));
    let current: Option<DeliveryState> = conn
        .prepare_cached("SELECT delivery_state FROM calls WHERE id = ?1 AND message_id = ?2")?
        .query_row([call_id, message_id], |r| r.get(0))
        .optional()?
        .flatten();
    let state = statuses.into_iter().fold(current, |state, (status, _)| {
        DeliveryState::advance(state, status).or(state)
    });
    conn.prepare_cached(
        "UPDATE calls SET delivery_state = ?3, delivered_at = COALESCE(delivered_at, ?4),
                          read_at = COALESCE(read_at, ?5)
         WHERE id = ?1 AND message_id = ?2",
    )?
    .execute(params![call_id, message_id, state, delivered_at, read_at])?;
    Ok(state)
}

/// Forgets the webhooks' bookkeeping, at most `limit` rows of each table per call, so that one
/// call is a short writer job: Telnyx's events and finished sessions received before
/// `telnyx_cutoff` (they name the caller, so they follow the ledger's retention when it is
/// shorter), and the statuses and replies already acted on received before `cutoff` (kept while
/// Meta may still redeliver them, so that each counts once). What they decided stays in the
/// ledger and on the customers. Returns how many rows went.
pub fn purge_webhook_records(
    conn: &Connection,
    telnyx_cutoff: i64,
    cutoff: i64,
    limit: i64,
) -> rusqlite::Result<usize> {
    let mut deleted = 0;
    for (table, key, extra, before) in [
        ("telnyx_events", "id", "", telnyx_cutoff),
        (
            "telnyx_sessions",
            "session_id",
            " AND (settled_at IS NOT NULL OR hangup_at IS NULL)",
            telnyx_cutoff,
        ),
        ("message_statuses", "message_id, status", "", cutoff),
        ("whatsapp_replies", "message_id", "", cutoff),
    ] {
        deleted += conn
            .prepare_cached(&format!(
                "DELETE FROM {table} WHERE ({key}) IN
                    (SELECT {key} FROM {table} WHERE received_at < ?1{extra} LIMIT ?2)"
            ))?
            .execute(params![before, limit])?;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> Connection {
        let conn = crate::db::memory_database_with_a_restaurant();
        conn.execute_batch(
            "INSERT INTO calls (id, restaurant_id, caller_raw, occurred_at, created_at,
                                updated_at, outcome, message_id)
                 VALUES ('call_1', 'rst_1', '+33612345678', 0, 0, 0, 'SENT', 'wamid.1');",
        )
        .expect("seed");
        conn
    }

    fn status(conn: &Connection, status: DeliveryState, received_at: i64) {
        insert_status(
            conn,
            &NewStatus {
                message_id: "wamid.1",
                status,
                call_id: Some("call_1"),
                at: received_at,
                error_code: None,
                received_at,
            },
        )
        .expect("status");
    }

    #[test]
    fn a_late_status_after_old_ones_were_forgotten_does_not_move_the_state_back() {
        let conn = database();
        status(&conn, DeliveryState::Read, 1);
        refresh_delivery_state(&conn, "call_1", "wamid.1").expect("refresh");

        purge_webhook_records(&conn, 2, 2, 100).expect("purge");
        status(&conn, DeliveryState::Sent, 3);
        let state = refresh_delivery_state(&conn, "call_1", "wamid.1").expect("refresh");

        assert_eq!(state, Some(DeliveryState::Read));
    }

    #[test]
    fn old_webhook_records_are_forgotten_but_a_session_waiting_to_settle_is_kept() {
        let conn = database();
        conn.execute_batch(
            "INSERT INTO telnyx_events (id, session_id, event_type, received_at)
                 VALUES ('e_old', 's_old', 'call.hangup', 1), ('e_new', 's_new', 'call.hangup', 9);
             INSERT INTO telnyx_sessions (session_id, hangup_at, settled_at, received_at)
                 VALUES ('s_done', 1, 1, 1), ('s_open', NULL, NULL, 1),
                        ('s_due', 1, NULL, 1), ('s_new', 9, NULL, 9);
             INSERT INTO whatsapp_replies (message_id, received_at)
                 VALUES ('wamid.old', 1), ('wamid.new', 9);",
        )
        .expect("seed");
        status(&conn, DeliveryState::Sent, 1);

        let deleted = purge_webhook_records(&conn, 5, 5, 100).expect("purge");
        let again = purge_webhook_records(&conn, 5, 5, 100).expect("purge");

        let left = |table: &str| -> i64 {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .expect("count")
        };
        assert_eq!((deleted, again), (5, 0));
        assert_eq!(left("telnyx_events"), 1);
        assert_eq!(left("whatsapp_replies"), 1);
        assert_eq!(left("message_statuses"), 0);
        let sessions: Vec<String> = conn
            .prepare("SELECT session_id FROM telnyx_sessions ORDER BY session_id")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(sessions, ["s_due", "s_new"]);
    }
}
