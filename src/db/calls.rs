//! The `calls` table: the ledger, one row per accepted missed-call report.

use rusqlite::{Connection, Row, params};

use super::optional;
use crate::domain::{DeliveryState, Outcome, Source, TemplateType};

mod holds;
mod listing;

pub use holds::{
    find_due_retries, find_expired_holds, find_in_flight, hold, is_held, mark_sent, next_hold_end,
    set_next_attempt,
};
pub use listing::{CallFilter, count_restaurant_calls, list_restaurant_calls};

#[derive(Debug, Clone)]
pub struct CallRow {
    pub id: String,
    pub restaurant_id: String,
    pub external_call_id: Option<String>,
    pub caller_raw: String,
    pub caller_e164: Option<String>,
    pub customer_id: Option<String>,
    pub reservation_id: Option<String>,
    pub template_type: Option<TemplateType>,
    pub occurred_at: i64,
    pub created_at: i64,
    pub outcome: Outcome,
    pub message_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub debited_cents: i64,
    /// The booking-link token of its claimed dispatch (SPEC §9); `None` for a call never sent.
    pub link_token: Option<String>,
    pub source: Source,
    /// What WhatsApp's statuses said of the message (SPEC §10).
    pub delivery_state: Option<DeliveryState>,
    /// Dispatch attempts so far, an interrupted one included.
    pub attempts: i64,
    /// When ringback itself sends this FAILED Telnyx call again.
    pub next_attempt_at: Option<i64>,
    /// Until then the call waits for WhatsApp's status to say whether its message left, and is
    /// not dispatched again (SPEC §10): a DISPATCHING row a restart found, or a FAILED one whose
    /// send may have left.
    pub held_until: Option<i64>,
}

impl CallRow {
    /// Whether `customer forget` erased this call's caller.
    pub fn is_forgotten(&self) -> bool {
        self.caller_raw == super::erasure::FORGOTTEN
    }

    /// The caller's E.164 number; `None` for a hidden caller or a forgotten one.
    pub fn number(&self) -> Option<&str> {
        self.caller_e164.as_deref().filter(|_| !self.is_forgotten())
    }
}

pub struct NewCall<'a> {
    pub id: &'a str,
    pub restaurant_id: &'a str,
    pub external_call_id: Option<&'a str>,
    pub caller_raw: &'a str,
    pub caller_e164: Option<&'a str>,
    pub occurred_at: i64,
    pub created_at: i64,
    pub source: Source,
}

/// What the pipeline decided for a call, written over its row.
pub struct CallDecision<'a> {
    pub customer_id: Option<&'a str>,
    pub reservation_id: Option<&'a str>,
    pub template_type: Option<TemplateType>,
    pub occurred_at: i64,
    pub outcome: Outcome,
    pub debited_cents: i64,
    /// For a claimed dispatch: its booking-link token. A row run again after a failure keeps
    /// the token it already had, so a link in a message that did arrive still works.
    pub link_token: Option<&'a str>,
    /// The customer was created by this call.
    pub new_customer: bool,
    /// Why a skip happened when its outcome alone does not say (a key file that does not open
    /// the restaurant's access token): code and message.
    pub error: Option<(&'a str, &'a str)>,
    /// For a claimed dispatch: what it sends with, as JSON (the console's call detail). A skip
    /// keeps what an earlier attempt stored.
    pub sent_with: Option<&'a str>,
}

/// The columns `from_row` reads, in its order.
pub(crate) const COLUMNS: &str = "id, restaurant_id, external_call_id, caller_raw, caller_e164, customer_id, \
     reservation_id, template_type, occurred_at, created_at, outcome, message_id, error_code, \
     error_message, debited_cents, link_token, source, delivery_state, attempts, next_attempt_at, \
     held_until";

pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<CallRow> {
    Ok(CallRow {
        id: row.get(0)?,
        restaurant_id: row.get(1)?,
        external_call_id: row.get(2)?,
        caller_raw: row.get(3)?,
        caller_e164: row.get(4)?,
        customer_id: row.get(5)?,
        reservation_id: row.get(6)?,
        template_type: row.get(7)?,
        occurred_at: row.get(8)?,
        created_at: row.get(9)?,
        outcome: row.get(10)?,
        message_id: row.get(11)?,
        error_code: row.get(12)?,
        error_message: row.get(13)?,
        debited_cents: row.get(14)?,
        link_token: row.get(15)?,
        source: row.get(16)?,
        delivery_state: row.get(17)?,
        attempts: row.get(18)?,
        next_attempt_at: row.get(19)?,
        held_until: row.get(20)?,
    })
}

/// Inserts the ledger row. With an `external_call_id`, the UNIQUE key decides: `Ok(None)` means
/// the key was already taken and nothing was inserted.
pub fn insert_call(conn: &Connection, call: &NewCall<'_>) -> rusqlite::Result<Option<String>> {
    // The row starts in DISPATCHING only inside the writer's savepoint; the same job writes its
    // decided outcome before anyone can read it.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO calls (id, restaurant_id, external_call_id, caller_raw, caller_e164,
                            occurred_at, created_at, updated_at, outcome, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, 'DISPATCHING', ?8)
         ON CONFLICT (restaurant_id, external_call_id) DO NOTHING",
        )?
        .execute(params![
            call.id,
            call.restaurant_id,
            call.external_call_id,
            call.caller_raw,
            call.caller_e164,
            call.occurred_at,
            call.created_at,
            call.source,
        ])?;
    Ok((inserted == 1).then(|| call.id.to_string()))
}

pub fn find_call_by_external_id(
    conn: &Connection,
    restaurant_id: &str,
    external_call_id: &str,
) -> rusqlite::Result<Option<CallRow>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM calls WHERE restaurant_id = ?1 AND external_call_id = ?2"
        ))?
        .query_row([restaurant_id, external_call_id], from_row),
    )
}

/// A call as its restaurant sees it: another restaurant's id is not found.
pub fn find_call(
    conn: &Connection,
    restaurant_id: &str,
    id: &str,
) -> rusqlite::Result<Option<CallRow>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM calls WHERE restaurant_id = ?1 AND id = ?2"
        ))?
        .query_row([restaurant_id, id], from_row),
    )
}

/// What the call's message was sent with (JSON: template, language, parameters, booking link), as
/// its claim stored it; `None` for a call never dispatched, one from before this was kept, or a
/// forgotten caller's.
pub fn sent_with(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    Ok(optional(
        conn.prepare_cached("SELECT message FROM calls WHERE id = ?1")?
            .query_row([id], |r| r.get::<_, Option<String>>(0)),
    )?
    .flatten())
}

pub fn record_decision(
    conn: &Connection,
    id: &str,
    d: &CallDecision<'_>,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE calls SET customer_id = ?2, reservation_id = ?3, template_type = ?4,
                occurred_at = ?5, outcome = ?6, debited_cents = ?7, message_id = NULL,
                error_code = ?11, error_message = ?12, updated_at = ?8,
                link_token = COALESCE(link_token, ?9),
                new_customer = (new_customer OR ?10),
                attempts = attempts + (?6 = 'DISPATCHING'), next_attempt_at = NULL,
                held_until = NULL, delivery_state = NULL, message = COALESCE(?13, message)
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        d.customer_id,
        d.reservation_id,
        d.template_type,
        d.occurred_at,
        d.outcome,
        d.debited_cents,
        now,
        d.link_token,
        d.new_customer,
        d.error.map(|e| e.0),
        d.error.map(|e| e.1),
        d.sent_with
    ])?;
    Ok(())
}

/// Records how a dispatch ended. Only a row still in DISPATCHING is changed, so a result that
/// arrives after a restart turned the row FAILED cannot overwrite it. Returns the row as it now
/// reads (a caller forgotten while the message was on its way reads `forgotten`), or `None` when
/// it was not changed.
pub fn record_dispatch_result(
    conn: &Connection,
    id: &str,
    outcome: Outcome,
    message_id: Option<&str>,
    error: Option<(&str, &str)>,
    now: i64,
) -> rusqlite::Result<Option<CallRow>> {
    let (code, message) = error.unzip();
    optional(
        conn.prepare_cached(&format!(
            // A caller forgotten while the message was on its way: WhatsApp's answer may quote
            // the number, so it is not stored.
            "UPDATE calls SET outcome = ?2, message_id = ?3, error_code = ?4,
                error_message = CASE WHEN caller_raw = ?7 AND ?5 IS NOT NULL THEN ?8 ELSE ?5 END,
                updated_at = ?6, sent_at = CASE WHEN ?2 = 'SENT' THEN ?6 ELSE sent_at END,
                held_until = NULL
             WHERE id = ?1 AND outcome = 'DISPATCHING'
             RETURNING {COLUMNS}"
        ))?
        .query_row(
            params![
                id,
                outcome,
                message_id,
                code,
                message,
                now,
                super::erasure::FORGOTTEN,
                super::erasure::ERASED
            ],
            from_row,
        ),
    )
}

/// Is a message sent, or being sent, to this number for a call less than `window_ms` away
/// from `occurred_at`, in either direction? A send that may have left, waiting at `now` for
/// WhatsApp's status, counts as being sent. The call itself (`except_id`) does not count.
pub fn message_within(
    conn: &Connection,
    restaurant_id: &str,
    caller_e164: &str,
    occurred_at: i64,
    window_ms: i64,
    except_id: &str,
    now: i64,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM calls
            WHERE restaurant_id = ?1 AND caller_e164 = ?2
              AND (outcome IN ('SENT', 'DISPATCHING')
                   OR (outcome = 'FAILED' AND held_until > ?6))
              AND occurred_at > ?3 - ?4 AND occurred_at < ?3 + ?4
              AND id <> ?5)",
    )?
    .query_row(
        params![
            restaurant_id,
            caller_e164,
            occurred_at,
            window_ms,
            except_id,
            now
        ],
        |r| r.get(0),
    )
}

/// The restaurant's call whose message has this WhatsApp id.
pub fn find_call_by_message_id(
    conn: &Connection,
    restaurant_id: &str,
    message_id: &str,
) -> rusqlite::Result<Option<CallRow>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM calls WHERE message_id = ?1 AND restaurant_id = ?2"
        ))?
        .query_row([message_id, restaurant_id], from_row),
    )
}

pub fn find_call_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<CallRow>> {
    optional(
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM calls WHERE id = ?1"))?
            .query_row([id], from_row),
    )
}
