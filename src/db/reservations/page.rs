//! Pages of a restaurant's reservations for the partner API's list, walked along the
//! `reservations_listing` index from a cursor.

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::{COLUMNS, Reservation, from_row, placeholders};

/// What a page of reservations is filtered by.
#[derive(Debug, Default, Clone)]
pub struct ReservationFilter {
    pub start_at_from: Option<i64>,
    pub start_at_to: Option<i64>,
    /// Empty: every status.
    pub statuses: Vec<String>,
    /// Keyset position: only reservations after this `(start_at, id)`.
    pub after: Option<(i64, String)>,
}

/// Up to `limit` reservations ordered by `(start_at, id)`. Paging by position rather than by
/// offset keeps a cursor stable while reservations are added: nothing is skipped or repeated.
pub fn list_reservations_page(
    conn: &Connection,
    restaurant_id: &str,
    filter: &ReservationFilter,
    limit: u32,
) -> rusqlite::Result<Vec<Reservation>> {
    let (sql, args) = page_query(restaurant_id, filter, limit);
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_map(params_from_iter(args), from_row)?.collect()
}

/// The SQL of a page and its arguments. Only the filters given become conditions, and the page
/// starts from one lower bound on `(start_at, id)`, so that SQLite walks `reservations_listing`
/// from there in order and stops after `limit` rows: a deep page costs what the first one does
/// (a status filter still reads past the rows it leaves out).
fn page_query(restaurant_id: &str, filter: &ReservationFilter, limit: u32) -> (String, Vec<Value>) {
    let mut args = vec![Value::from(restaurant_id.to_string())];
    let mut conditions = vec!["restaurant_id = ?1".to_string()];
    // Binds `values` and answers their placeholders.
    let mut bind = |values: Vec<Value>| {
        let first = args.len() + 1;
        let count = values.len();
        args.extend(values);
        placeholders(first, count)
    };
    // Past the cursor every row starts at or after the cursor's start: of `start_at_from` and
    // the cursor, only the later bound is a condition, so that it is the one the index seeks.
    match (filter.start_at_from, &filter.after) {
        (Some(from), Some((at, _))) if from > *at => {
            conditions.push(format!("start_at >= {}", bind(vec![from.into()])));
        }
        (_, Some((at, id))) => {
            let after = bind(vec![(*at).into(), id.clone().into()]);
            conditions.push(format!("(start_at, id) > ({after})"));
        }
        (Some(from), None) => conditions.push(format!("start_at >= {}", bind(vec![from.into()]))),
        (None, None) => {}
    }
    if let Some(to) = filter.start_at_to {
        conditions.push(format!("start_at <= {}", bind(vec![to.into()])));
    }
    if !filter.statuses.is_empty() {
        let statuses = filter.statuses.iter().cloned().map(Value::from).collect();
        conditions.push(format!("status IN ({})", bind(statuses)));
    }
    let limit = bind(vec![limit.into()]);
    let sql = format!(
        "SELECT {COLUMNS} FROM reservations WHERE {} ORDER BY start_at, id LIMIT {limit}",
        conditions.join(" AND ")
    );
    (sql, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::reservations::tests::{database_with_a_customer, reserve};

    fn plan(conn: &Connection, filter: &ReservationFilter) -> String {
        let (sql, args) = page_query("rst_1", filter, 50);
        crate::db::query_plan(conn, &sql, args)
    }

    #[test]
    fn every_page_walks_the_listing_index_in_order_without_sorting() {
        let conn = database_with_a_customer();
        let cursor = Some((1_000, "res_1".to_string()));
        // Each filter, and what the index seek must then include.
        let cases = [
            (
                "no filter",
                ReservationFilter::default(),
                "(restaurant_id=?)",
            ),
            (
                "from",
                ReservationFilter {
                    start_at_from: Some(500),
                    ..Default::default()
                },
                "(restaurant_id=? AND start_at>?)",
            ),
            (
                "to",
                ReservationFilter {
                    start_at_to: Some(5_000),
                    ..Default::default()
                },
                "(restaurant_id=? AND start_at<?)",
            ),
            (
                "status",
                ReservationFilter {
                    statuses: vec!["CONFIRMED".into(), "PENDING".into()],
                    ..Default::default()
                },
                "(restaurant_id=?)",
            ),
            (
                "cursor",
                ReservationFilter {
                    after: cursor.clone(),
                    ..Default::default()
                },
                "(restaurant_id=? AND (start_at,id)>(?,?))",
            ),
            (
                "every filter",
                ReservationFilter {
                    start_at_from: Some(500),
                    start_at_to: Some(5_000),
                    statuses: vec!["CONFIRMED".into()],
                    after: cursor.clone(),
                },
                "(restaurant_id=? AND (start_at,id)>(?,?) AND start_at<?)",
            ),
        ];

        for (name, filter, seek) in cases {
            let plan = plan(&conn, &filter);
            assert!(
                plan.contains(&format!("USING INDEX reservations_listing {seek}")),
                "{name}: {plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{name}: {plan}");
        }
    }

    #[test]
    fn a_page_starts_after_the_cursor_or_at_start_at_from_whichever_is_later() {
        let conn = database_with_a_customer();
        let ids: Vec<String> = (1..=4)
            .map(|n| reserve(&conn, n * 100, "CONFIRMED"))
            .collect();
        let page = |from: Option<i64>, after: &str| -> Vec<String> {
            let filter = ReservationFilter {
                start_at_from: from,
                after: Some((200, after.to_string())),
                ..Default::default()
            };
            list_reservations_page(&conn, "rst_1", &filter, 10)
                .expect("page")
                .into_iter()
                .map(|r| r.id)
                .collect()
        };

        assert_eq!(page(None, &ids[1]), ids[2..]);
        assert_eq!(page(Some(100), &ids[1]), ids[2..]);
        assert_eq!(page(Some(400), &ids[1]), ids[3..]);
        assert_eq!(page(None, ""), ids[1..]);
    }
}
