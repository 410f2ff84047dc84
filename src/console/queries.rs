//! The queries behind the console: a page of the log (newest first, from a cursor), the
//! indicators of a range, and the per-day counts of the chart. Every one walks the
//! `calls_listing (restaurant_id, occurred_at)` index of one restaurant.

use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};

use crate::db::calls::{self, CallRow};
use crate::domain::Outcome;

/// What the log is filtered by. Bounds in milliseconds, `from` inclusive, `until` exclusive.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub from: Option<i64>,
    pub until: Option<i64>,
    pub outcomes: Vec<Outcome>,
    pub caller_e164: Option<String>,
}

/// Where a page starts: just after this `(occurred_at, seq)`, going back in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub occurred_at: i64,
    pub seq: i64,
}

impl Cursor {
    pub fn encode(self) -> String {
        format!("{}.{}", self.occurred_at, self.seq)
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let (at, seq) = text.split_once('.')?;
        Some(Cursor {
            occurred_at: at.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

/// A ledger row with what the console shows beside it.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub call: CallRow,
    pub seq: i64,
    pub customer_name: Option<String>,
    pub new_customer: bool,
    pub sent_at: Option<i64>,
    pub first_clicked_at: Option<i64>,
    pub clicks: i64,
    pub converted_reservation_id: Option<String>,
    /// The converted reservation's status now: a canceled one stays a conversion.
    pub converted_status: Option<String>,
    /// Who stopped messages to the caller, while they are stopped: `operator`, `reply` or
    /// `131050`.
    pub suppression: Option<String>,
}

/// The ledger's own columns (as `calls::from_row` reads them, prefixed `c.`), then what the log
/// shows beside them.
fn log_columns() -> String {
    let call: Vec<String> = calls::COLUMNS
        .split(", ")
        .map(|c| format!("c.{c}"))
        .collect();
    format!(
        "{}, c.seq, cu.name, c.new_customer, c.sent_at, c.first_clicked_at, c.clicks, \
         c.converted_reservation_id, r.status, \
         CASE WHEN cu.whatsapp_suppressed THEN COALESCE(cu.suppression_reason, 'operator') END",
        call.join(", ")
    )
}

fn log_row(row: &Row<'_>) -> rusqlite::Result<LogRow> {
    let after = CALL_COLUMN_COUNT;
    Ok(LogRow {
        call: calls::from_row(row)?,
        seq: row.get(after)?,
        customer_name: row.get(after + 1)?,
        new_customer: row.get(after + 2)?,
        sent_at: row.get(after + 3)?,
        first_clicked_at: row.get(after + 4)?,
        clicks: row.get(after + 5)?,
        converted_reservation_id: row.get(after + 6)?,
        converted_status: row.get(after + 7)?,
        suppression: row.get(after + 8)?,
    })
}

/// How many columns `calls::from_row` reads.
const CALL_COLUMN_COUNT: usize = 21;

/// Up to `limit` rows of the restaurant's log, newest `occurred_at` first (the latest report
/// first among equal times), after `cursor`.
pub fn log_page(
    conn: &Connection,
    restaurant_id: &str,
    filter: &LogFilter,
    cursor: Option<Cursor>,
    limit: u32,
) -> rusqlite::Result<Vec<LogRow>> {
    let mut args = vec![Value::from(restaurant_id.to_string())];
    let mut conditions = vec!["c.restaurant_id = ?1".to_string()];
    let mut bind = |value: Value| {
        args.push(value);
        format!("?{}", args.len())
    };
    if let Some(from) = filter.from {
        conditions.push(format!("c.occurred_at >= {}", bind(from.into())));
    }
    if let Some(until) = filter.until {
        conditions.push(format!("c.occurred_at < {}", bind(until.into())));
    }
    if let Some(c) = cursor {
        // The first condition bounds the index walk; the second settles equal times.
        let at = bind(c.occurred_at.into());
        let seq = bind(c.seq.into());
        conditions.push(format!(
            "c.occurred_at <= {at} AND (c.occurred_at < {at} OR c.seq < {seq})"
        ));
    }
    if !filter.outcomes.is_empty() {
        let list: Vec<String> = filter
            .outcomes
            .iter()
            .map(|o| bind(o.as_str().to_string().into()))
            .collect();
        conditions.push(format!("c.outcome IN ({})", list.join(", ")));
    }
    if let Some(caller) = &filter.caller_e164 {
        conditions.push(format!("c.caller_e164 = {}", bind(caller.clone().into())));
    }
    let limit = bind(limit.into());
    // A caller's calls are few: found by number. Otherwise the restaurant's calls are walked
    // newest first, and the walk stops at the page's end.
    let index = if filter.caller_e164.is_some() {
        "calls_caller"
    } else {
        "calls_listing"
    };
    let sql = format!(
        "SELECT {} FROM calls c INDEXED BY {index}
         LEFT JOIN customers cu ON cu.id = c.customer_id
         LEFT JOIN reservations r ON r.id = c.converted_reservation_id
         WHERE {} ORDER BY c.occurred_at DESC, c.seq DESC LIMIT {limit}",
        log_columns(),
        conditions.join(" AND ")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_map(params_from_iter(args), log_row)?.collect()
}

/// One call of the restaurant's log, by id; another restaurant's is not found.
pub fn log_row_by_id(
    conn: &Connection,
    restaurant_id: &str,
    call_id: &str,
) -> rusqlite::Result<Option<LogRow>> {
    let sql = format!(
        "SELECT {} FROM calls c
         LEFT JOIN customers cu ON cu.id = c.customer_id
         LEFT JOIN reservations r ON r.id = c.converted_reservation_id
         WHERE c.restaurant_id = ?1 AND c.id = ?2",
        log_columns()
    );
    crate::db::optional(
        conn.prepare_cached(&sql)?
            .query_row(params![restaurant_id, call_id], log_row),
    )
}

/// What a call's message was sent with and when WhatsApp said it was delivered and read.
#[derive(Debug, Clone, Default)]
pub struct SentMessage {
    /// The JSON the claim stored (`{"template", "language", "parameters", "booking_link"}`);
    /// `None` for a call from before the ledger kept it, or a forgotten caller's.
    pub message: Option<String>,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
}

pub fn sent_message(conn: &Connection, call_id: &str) -> rusqlite::Result<SentMessage> {
    conn.prepare_cached("SELECT message, delivered_at, read_at FROM calls WHERE id = ?1")?
        .query_row([call_id], |r| {
            Ok(SentMessage {
                message: r.get(0)?,
                delivered_at: r.get(1)?,
                read_at: r.get(2)?,
            })
        })
}

/// The indicators' counts for calls that occurred in `[from, until)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub missed_calls: i64,
    pub messages_sent: i64,
    pub booking_conversions: i64,
}

pub fn counts(
    conn: &Connection,
    restaurant_id: &str,
    from: i64,
    until: i64,
) -> rusqlite::Result<Counts> {
    conn.prepare_cached(
        "SELECT COUNT(*), COALESCE(SUM(outcome = 'SENT'), 0), COUNT(converted_reservation_id)
         FROM calls INDEXED BY calls_listing
         WHERE restaurant_id = ?1 AND occurred_at >= ?2 AND occurred_at < ?3",
    )?
    .query_row(params![restaurant_id, from, until], |r| {
        Ok(Counts {
            missed_calls: r.get(0)?,
            messages_sent: r.get(1)?,
            booking_conversions: r.get(2)?,
        })
    })
}

/// Counts per day: `bounds` are the first millisecond of each day and, last, the end of the
/// last day (so `n + 1` bounds give `n` days). Days are cut in the restaurant's zone by whoever
/// made the bounds, so a 23- or 25-hour day counts as one day.
pub fn daily_counts(
    conn: &Connection,
    restaurant_id: &str,
    bounds: &[i64],
) -> rusqlite::Result<Vec<Counts>> {
    let days = bounds.len().saturating_sub(1);
    let mut out = vec![Counts::default(); days];
    let (Some(first), Some(end)) = (bounds.first(), bounds.last()) else {
        return Ok(out);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT occurred_at, outcome = 'SENT', converted_reservation_id IS NOT NULL
         FROM calls INDEXED BY calls_listing
         WHERE restaurant_id = ?1 AND occurred_at >= ?2 AND occurred_at < ?3",
    )?;
    let mut rows = stmt.query(params![restaurant_id, first, end])?;
    while let Some(row) = rows.next()? {
        let at: i64 = row.get(0)?;
        // The day whose start is the last bound at or before the call.
        let day = bounds.partition_point(|b| *b <= at).saturating_sub(1);
        if let Some(counts) = out.get_mut(day) {
            counts.missed_calls += 1;
            counts.messages_sent += i64::from(row.get::<_, bool>(1)?);
            counts.booking_conversions += i64::from(row.get::<_, bool>(2)?);
        }
    }
    Ok(out)
}

/// The message that put a call in cooldown: the sent call to the same number nearest in time
/// within the window, as `(its occurred_at, when it was sent)`.
pub fn cooldown_cause(
    conn: &Connection,
    call: &CallRow,
    window_ms: i64,
) -> rusqlite::Result<Option<(i64, i64)>> {
    let Some(number) = &call.caller_e164 else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT occurred_at, COALESCE(sent_at, updated_at) FROM calls
         WHERE restaurant_id = ?1 AND caller_e164 = ?2 AND outcome IN ('SENT', 'DISPATCHING')
           AND occurred_at > ?3 - ?4 AND occurred_at < ?3 + ?4 AND id <> ?5
         ORDER BY abs(occurred_at - ?3) LIMIT 1",
    )?;
    let mut rows = stmt.query(params![
        call.restaurant_id,
        number,
        call.occurred_at,
        window_ms,
        call.id
    ])?;
    match rows.next()? {
        Some(row) => Ok(Some((row.get(0)?, row.get(1)?))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().expect("memory");
        crate::db::migrate(&mut conn).expect("migrate");
        conn
    }

    fn plan(conn: &Connection, sql: &str, args: Vec<Value>) -> String {
        crate::db::query_plan(conn, sql, args)
    }

    #[test]
    fn a_log_page_walks_the_listing_index_in_order_and_a_caller_search_its_own() {
        let conn = migrated();
        // The statements as `log_page` writes them, checked through SQLite itself.
        log_page(&conn, "rst_1", &LogFilter::default(), None, 50).expect("page");
        let caller = LogFilter {
            caller_e164: Some("+33612345678".into()),
            ..LogFilter::default()
        };
        log_page(&conn, "rst_1", &caller, None, 50).expect("caller page");
        let walk = plan(
            &conn,
            "SELECT seq FROM calls c INDEXED BY calls_listing WHERE c.restaurant_id = ?1
             AND c.occurred_at < ?2 ORDER BY c.occurred_at DESC, c.seq DESC LIMIT 50",
            vec![Value::from("rst_1".to_string()), Value::from(0)],
        );
        assert!(!walk.contains("TEMP B-TREE"), "{walk}");
        let by_caller = plan(
            &conn,
            "SELECT seq FROM calls c INDEXED BY calls_caller WHERE c.restaurant_id = ?1
             AND c.caller_e164 = ?2 ORDER BY c.occurred_at DESC, c.seq DESC LIMIT 50",
            vec![
                Value::from("rst_1".to_string()),
                Value::from("+33612345678".to_string()),
            ],
        );
        assert!(!by_caller.contains("TEMP B-TREE"), "{by_caller}");
    }

    #[test]
    fn the_log_reads_every_column_of_a_call_first() {
        assert_eq!(calls::COLUMNS.split(", ").count(), CALL_COLUMN_COUNT);
    }

    #[test]
    fn the_counts_read_the_listing_index_alone() {
        let conn = migrated();
        let counts = plan(
            &conn,
            "SELECT COUNT(*), COALESCE(SUM(outcome = 'SENT'), 0), COUNT(converted_reservation_id)
             FROM calls INDEXED BY calls_listing
             WHERE restaurant_id = ?1 AND occurred_at >= ?2 AND occurred_at < ?3",
            vec![
                Value::from("rst_1".to_string()),
                Value::from(0),
                Value::from(1),
            ],
        );
        assert!(counts.contains("COVERING INDEX calls_listing"), "{counts}");
    }
}
