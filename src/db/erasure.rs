//! What ringback deletes of its callers' personal data (SPEC §8): ledger rows past the
//! retention limit, and everything of one customer on request.

use rusqlite::{Connection, params};

use crate::missed_call::outcome::Outcome;

/// Deletes at most `limit` ledger rows whose call happened before `cutoff_ms`, oldest first,
/// except a row being sent right now, whose result is still to be stored.
/// Returns how many went; fewer than `limit` means none is left.
pub fn delete_calls_before(
    conn: &Connection,
    cutoff_ms: i64,
    limit: i64,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM calls WHERE seq IN \
         (SELECT seq FROM calls WHERE occurred_at < ?1 AND outcome != ?3 \
          ORDER BY occurred_at LIMIT ?2)",
    )?
    .execute(params![cutoff_ms, limit, Outcome::Dispatching])
}

/// Written where a forgotten caller's number was.
pub const FORGOTTEN: &str = "forgotten";

/// What forgetting one number changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Forgotten {
    /// The customer row deleted, if there was one.
    pub customer_id: Option<String>,
    /// Ledger rows whose number was replaced by `forgotten`.
    pub calls: usize,
    /// Reservations no longer attached to the customer.
    pub reservations: usize,
}

impl Forgotten {
    pub fn is_empty(&self) -> bool {
        self.customer_id.is_none() && self.calls == 0 && self.reservations == 0
    }
}

/// Erases the number `e164` and its customer's name from `restaurant_id`'s data: the customer
/// row goes, its reservations stay (detached, they hold no number of their own), and its ledger
/// rows keep their outcome and times with the number replaced by `forgotten`. `national` is the
/// number's national significant digits: WhatsApp's error text, stored with a failed send, may
/// quote the number in any format. Safe to repeat: a second run finds nothing.
pub fn forget_number(
    conn: &Connection,
    restaurant_id: &str,
    e164: &str,
    national: &str,
) -> rusqlite::Result<Forgotten> {
    let customer_id: Option<String> = super::optional(conn.query_row(
        "SELECT id FROM customers WHERE restaurant_id = ?1 AND phone_e164 = ?2",
        params![restaurant_id, e164],
        |r| r.get(0),
    ))?;
    let calls = conn.execute(
        "UPDATE calls SET caller_raw = ?3, caller_e164 = CASE WHEN caller_e164 IS NULL \
         THEN NULL ELSE ?3 END, customer_id = NULL, \
         error_message = CASE WHEN instr(error_message, ?4) > 0 \
           THEN 'erased: it quoted a forgotten number' ELSE error_message END \
         WHERE restaurant_id = ?1 AND (caller_e164 = ?2 OR customer_id = ?5)",
        params![restaurant_id, e164, FORGOTTEN, national, customer_id],
    )?;
    let mut reservations = 0;
    if let Some(id) = &customer_id {
        reservations = conn.execute(
            "UPDATE reservations SET customer_id = NULL WHERE restaurant_id = ?1 AND customer_id = ?2",
            params![restaurant_id, id],
        )?;
        conn.execute("DELETE FROM customers WHERE id = ?1", [id])?;
    }
    Ok(Forgotten {
        customer_id,
        calls,
        reservations,
    })
}
