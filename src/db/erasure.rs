//! What ringback deletes of its callers' personal data (SPEC §8): ledger rows past the
//! retention limit, and everything of one customer on request.

use rusqlite::{Connection, params};

use crate::domain::Outcome;

/// Deletes at most `limit` of `restaurant_id`'s ledger rows whose call happened before
/// `cutoff_ms`, oldest first, except a row being sent right now, whose result is still to be
/// stored. Walks the `(restaurant_id, occurred_at)` listing index, so that retention adds no
/// index of its own for every report to write. Returns how many went; fewer than `limit` means
/// none is left.
pub fn delete_calls_before(
    conn: &Connection,
    restaurant_id: &str,
    cutoff_ms: i64,
    limit: i64,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(&format!("DELETE FROM calls WHERE seq IN ({OLDEST_CALLS})"))?
        .execute(params![
            restaurant_id,
            cutoff_ms,
            limit,
            Outcome::Dispatching
        ])
}

/// A restaurant's oldest calls before a time, none in flight: `?1` restaurant, `?2` cutoff,
/// `?3` limit, `?4` the in-flight outcome.
const OLDEST_CALLS: &str = "SELECT seq FROM calls WHERE restaurant_id = ?1 AND occurred_at < ?2 \
                            AND outcome != ?4 ORDER BY occurred_at LIMIT ?3";

/// Every restaurant's id, for the jobs that go through the ledger one restaurant at a time.
pub fn restaurant_ids(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM restaurants ORDER BY id")?;
    stmt.query_map([], |r| r.get(0))?.collect()
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

/// Written where a stored text quoted a forgotten number or name.
pub const ERASED: &str = "erased: it quoted a forgotten customer";

/// Erases the number `e164` and its customer's name from `restaurant_id`'s data: the customer
/// row goes, its reservations stay (detached, they hold no number of their own), and its ledger
/// rows keep their outcome and times with the number replaced by `forgotten`. Free text that
/// quotes the number or the name is erased too: WhatsApp's error stored with a failed send, a
/// reservation's cancel reason. `national` is the number's national significant digits, the
/// part of it that any written format keeps. Safe to repeat: a second run finds nothing.
pub fn forget_number(
    conn: &Connection,
    restaurant_id: &str,
    e164: &str,
    national: &str,
) -> rusqlite::Result<Forgotten> {
    let (customer_id, name) = find_customer(conn, restaurant_id, e164)?.unzip();
    let name = name.flatten();
    let quotes = |text: &str| quotes_number(text, national) || quotes_name(text, name.as_deref());
    erase_quotes(
        conn,
        "calls",
        "error_message",
        "restaurant_id = ?1 AND (caller_e164 = ?2 OR customer_id = ?3)",
        params![restaurant_id, e164, customer_id],
        &quotes,
    )?;
    // Telnyx's events name the caller too: in this restaurant's sessions (those of its detected
    // calls, and any to or from its Telnyx number), never another restaurant's.
    forget_in_telnyx_events(conn, restaurant_id, e164, customer_id.as_deref())?;
    // A forgotten caller is not sent anything more: no planned retry goes to `forgotten`.
    let calls = conn.execute(
        "UPDATE calls SET caller_raw = ?3, caller_e164 = CASE WHEN caller_e164 IS NULL \
         THEN NULL ELSE ?3 END, customer_id = NULL, next_attempt_at = NULL, message = NULL \
         WHERE restaurant_id = ?1 AND (caller_e164 = ?2 OR customer_id = ?4)",
        params![restaurant_id, e164, FORGOTTEN, customer_id],
    )?;
    let mut reservations = 0;
    if let Some(id) = &customer_id {
        reservations = forget_customer(conn, restaurant_id, id, &quotes)?;
    }
    Ok(Forgotten {
        customer_id,
        calls,
        reservations,
    })
}

/// The id and name of `restaurant_id`'s customer with the number `e164`, if there is one.
fn find_customer(
    conn: &Connection,
    restaurant_id: &str,
    e164: &str,
) -> rusqlite::Result<Option<(String, Option<String>)>> {
    super::optional(conn.query_row(
        "SELECT id, name FROM customers WHERE restaurant_id = ?1 AND phone_e164 = ?2",
        params![restaurant_id, e164],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))
}

/// Replaces the number `e164` with [`FORGOTTEN`] in `restaurant_id`'s Telnyx sessions.
fn forget_in_telnyx_events(
    conn: &Connection,
    restaurant_id: &str,
    e164: &str,
    customer_id: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE telnyx_events
            SET from_number = CASE WHEN from_number = ?2 THEN ?3 ELSE from_number END,
                to_number = CASE WHEN to_number = ?2 THEN ?3 ELSE to_number END
          WHERE (from_number = ?2 OR to_number = ?2)
            AND (session_id IN (SELECT external_call_id FROM calls
                                WHERE restaurant_id = ?1 AND source = 'TELNYX'
                                  AND (caller_e164 = ?2 OR customer_id = ?4))
                 OR session_id IN (SELECT e.session_id FROM telnyx_events AS e
                                   JOIN restaurants AS r ON r.id = ?1
                                   WHERE e.to_number = r.telnyx_number
                                      OR e.from_number = r.telnyx_number))",
        params![restaurant_id, e164, FORGOTTEN, customer_id],
    )?;
    Ok(())
}

/// Deletes customer `id` after erasing its reservations' quotes and detaching them: how many.
fn forget_customer(
    conn: &Connection,
    restaurant_id: &str,
    id: &str,
    quotes: &dyn Fn(&str) -> bool,
) -> rusqlite::Result<usize> {
    erase_quotes(
        conn,
        "reservations",
        "cancel_reason",
        "restaurant_id = ?1 AND customer_id = ?2",
        params![restaurant_id, id],
        quotes,
    )?;
    let reservations = conn.execute(
        "UPDATE reservations SET customer_id = NULL WHERE restaurant_id = ?1 AND customer_id = ?2",
        params![restaurant_id, id],
    )?;
    conn.execute("DELETE FROM customers WHERE id = ?1", [id])?;
    Ok(reservations)
}

/// Replaces with [`ERASED`] each `column` of the `table` rows matching `filter` whose text
/// `quotes` says is personal.
fn erase_quotes(
    conn: &Connection,
    table: &str,
    column: &str,
    filter: &str,
    filter_params: &[&dyn rusqlite::ToSql],
    quotes: &dyn Fn(&str) -> bool,
) -> rusqlite::Result<()> {
    let quoting: Vec<i64> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL AND {filter}"
        ))?;
        let rows = stmt.query_map(filter_params, |r| Ok((r.get(0)?, r.get::<_, String>(1)?)))?;
        let mut quoting = Vec::new();
        for row in rows {
            let (rowid, text) = row?;
            if quotes(&text) {
                quoting.push(rowid);
            }
        }
        quoting
    };
    let mut update = conn.prepare(&format!(
        "UPDATE {table} SET {column} = ?2 WHERE rowid = ?1"
    ))?;
    for rowid in quoting {
        update.execute(params![rowid, ERASED])?;
    }
    Ok(())
}

/// Whether `text` quotes the number whose national significant digits are `national`, in any
/// format: `+33 6 12 34 56 78`, `06.12.34.56.78` and `0033612345678` all keep them in a row
/// once everything but the digits is dropped.
fn quotes_number(text: &str, national: &str) -> bool {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    !national.is_empty() && digits.contains(national)
}

/// Whether `text` quotes `name`, in any case.
fn quotes_name(text: &str, name: Option<&str>) -> bool {
    name.map(str::trim)
        .filter(|n| !n.is_empty())
        .is_some_and(|n| text.to_lowercase().contains(&n.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_quoted_in_any_format_and_a_name_in_any_case() {
        for text in [
            "undeliverable to +33612345678",
            "could not reach +33 6 12 34 56 78",
            "call back 06.12.34.56.78",
        ] {
            assert!(quotes_number(text, "612345678"), "{text}");
        }
        assert!(!quotes_number("error 131026", "612345678"));
        assert!(!quotes_number("anything", ""));
        assert!(quotes_name("JEANNE called", Some("Jeanne")));
        assert!(!quotes_name("guest called", Some("Jeanne")));
        assert!(!quotes_name("guest called", Some("  ")));
        assert!(!quotes_name("guest called", None));
    }
}

#[cfg(test)]
mod retention_tests {
    use rusqlite::types::Value;

    use super::*;

    #[test]
    fn retention_never_deletes_a_call_being_sent() {
        let conn = crate::db::memory_database_with_a_restaurant();
        conn.execute_batch(
            "INSERT INTO calls (id, restaurant_id, caller_raw, occurred_at, created_at,
                                updated_at, outcome)
                 VALUES ('call_a', 'rst_1', 'x', 1, 1, 1, 'SENT'),
                        ('call_b', 'rst_1', 'x', 2, 2, 2, 'DISPATCHING');",
        )
        .expect("rows");

        let deleted = delete_calls_before(&conn, "rst_1", 1_000, 500).expect("delete");

        assert_eq!(deleted, 1);
        let left: String = conn
            .query_row("SELECT id FROM calls", [], |r| r.get(0))
            .expect("one row");
        assert_eq!(left, "call_b");
    }

    #[test]
    fn retention_walks_the_listing_index_of_one_restaurant() {
        let mut conn = Connection::open_in_memory().expect("memory");
        crate::db::migrate(&mut conn).expect("migrate");
        let args = vec![
            Value::from("rst_1".to_string()),
            Value::from(0),
            Value::from(500),
            Value::from("DISPATCHING".to_string()),
        ];

        let plan = crate::db::query_plan(&conn, OLDEST_CALLS, args);

        assert!(plan.contains("INDEX calls_listing"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
