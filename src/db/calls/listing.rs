//! A restaurant's calls newest first, for `ringback calls list`, walked backwards along the
//! `calls_listing` index.

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::{COLUMNS, CallRow, from_row};
use crate::domain::Outcome;

/// What a listing of calls is filtered by; `None` or empty: no condition.
#[derive(Debug, Default, Clone)]
pub struct CallFilter {
    pub outcomes: Vec<Outcome>,
    /// Inclusive bounds on `occurred_at`, in milliseconds.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Up to `limit` of the restaurant's calls, newest `occurred_at` first; calls of the same instant
/// newest report first.
pub fn list_restaurant_calls(
    conn: &Connection,
    restaurant_id: &str,
    filter: &CallFilter,
    limit: u32,
) -> rusqlite::Result<Vec<CallRow>> {
    let (sql, args) = listing_query(restaurant_id, filter, limit);
    let mut stmt = conn.prepare(&sql)?;
    stmt.query_map(params_from_iter(args), from_row)?.collect()
}

/// How many of the restaurant's calls the filter selects: what a listing cut by its limit left
/// out is said in numbers.
pub fn count_restaurant_calls(
    conn: &Connection,
    restaurant_id: &str,
    filter: &CallFilter,
) -> rusqlite::Result<i64> {
    let (conditions, args) = conditions(restaurant_id, filter);
    conn.prepare(&format!("SELECT count(*) FROM calls WHERE {conditions}"))?
        .query_row(params_from_iter(args), |r| r.get(0))
}

/// Only the filters given become conditions, so that SQLite seeks `calls_listing` on the time
/// bounds and reads it backwards, stopping after `limit` rows (an outcome filter still reads past
/// the rows it leaves out).
fn listing_query(restaurant_id: &str, filter: &CallFilter, limit: u32) -> (String, Vec<Value>) {
    let (conditions, mut args) = conditions(restaurant_id, filter);
    args.push(limit.into());
    let sql = format!(
        "SELECT {COLUMNS} FROM calls WHERE {conditions} ORDER BY occurred_at DESC, seq DESC \
         LIMIT ?{}",
        args.len()
    );
    (sql, args)
}

/// The filter as an SQL condition and its arguments.
fn conditions(restaurant_id: &str, filter: &CallFilter) -> (String, Vec<Value>) {
    let mut args = vec![Value::from(restaurant_id.to_string())];
    let mut conditions = vec!["restaurant_id = ?1".to_string()];
    let mut bind = |value: Value| {
        args.push(value);
        format!("?{}", args.len())
    };
    if let Some(from) = filter.from {
        conditions.push(format!("occurred_at >= {}", bind(from.into())));
    }
    if let Some(to) = filter.to {
        conditions.push(format!("occurred_at <= {}", bind(to.into())));
    }
    if !filter.outcomes.is_empty() {
        let outcomes: Vec<String> = filter
            .outcomes
            .iter()
            .map(|o| bind(o.as_str().to_string().into()))
            .collect();
        conditions.push(format!("outcome IN ({})", outcomes.join(", ")));
    }
    (conditions.join(" AND "), args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(conn: &Connection, filter: &CallFilter) -> String {
        let (sql, args) = listing_query("rst_1", filter, 50);
        crate::db::query_plan(conn, &sql, args)
    }

    #[test]
    fn every_listing_walks_the_listing_index_without_sorting() {
        let mut conn = Connection::open_in_memory().expect("memory");
        crate::db::migrate(&mut conn).expect("migrate");
        let cases = [
            ("no filter", CallFilter::default(), "(restaurant_id=?)"),
            (
                "since",
                CallFilter {
                    from: Some(500),
                    ..Default::default()
                },
                "(restaurant_id=? AND occurred_at>?)",
            ),
            (
                "since and until, outcomes",
                CallFilter {
                    from: Some(500),
                    to: Some(5_000),
                    outcomes: vec![Outcome::Sent, Outcome::Failed],
                },
                "(restaurant_id=? AND occurred_at>? AND occurred_at<?)",
            ),
        ];

        for (name, filter, seek) in cases {
            let plan = plan(&conn, &filter);
            assert!(
                plan.contains(&format!("USING INDEX calls_listing {seek}")),
                "{name}: {plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{name}: {plan}");
        }
    }
}
