//! The `reservations` table and the upcoming-reservation lookup of the pipeline.

use std::sync::LazyLock;

use rusqlite::{Connection, Row, ToSql, params};

use super::optional;
use crate::secret::new_id;
use crate::time::now_ms;

mod page;

pub use page::{ReservationFilter, list_reservations_page};

/// Statuses of a reservation the guest still intends to honour.
pub const UPCOMING_STATUSES: [&str; 6] = [
    "PENDING",
    "PENDING_PAYMENT",
    "CONFIRMED",
    "CONFIRMED_PENDING_PAYMENT",
    "MANUALLY_CONFIRMED",
    "DOUBLE_CONFIRMED",
];

/// Statuses of a reservation that is over, refused or called off.
pub const CLOSED_STATUSES: [&str; 8] = [
    "REJECTED",
    "CANCELED",
    "NO_SHOW",
    "SHOWED_UP",
    "SEATED",
    "PARTIALLY_SEATED",
    "SEATED_FOR_DRINKS",
    "DONE",
];

pub fn is_known_status(status: &str) -> bool {
    UPCOMING_STATUSES.contains(&status) || CLOSED_STATUSES.contains(&status)
}

#[derive(Debug, Clone)]
pub struct Reservation {
    pub id: String,
    pub restaurant_id: String,
    pub customer_id: Option<String>,
    pub external_id: Option<String>,
    pub start_at: i64,
    pub party_size: i64,
    pub status: String,
    pub source: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewReservation<'a> {
    pub restaurant_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub start_at: i64,
    pub party_size: i64,
    pub status: &'a str,
    pub source: &'a str,
    /// The `rb_ref` the booking site passed on.
    pub ref_token: Option<&'a str>,
}

const COLUMNS: &str = "id, restaurant_id, customer_id, external_id, start_at, party_size, \
     status, source, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Reservation> {
    Ok(Reservation {
        id: row.get(0)?,
        restaurant_id: row.get(1)?,
        customer_id: row.get(2)?,
        external_id: row.get(3)?,
        start_at: row.get(4)?,
        party_size: row.get(5)?,
        status: row.get(6)?,
        source: row.get(7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

pub fn insert_reservation(conn: &Connection, new: &NewReservation<'_>) -> rusqlite::Result<String> {
    let id = new_id("res");
    let now = now_ms();
    conn.prepare_cached(
        "INSERT INTO reservations (id, restaurant_id, customer_id, external_id, start_at,
                                   party_size, status, source, created_at, updated_at, ref)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)",
    )?
    .execute(params![
        id,
        new.restaurant_id,
        new.customer_id,
        new.external_id,
        new.start_at,
        new.party_size,
        new.status,
        new.source,
        now,
        new.ref_token
    ])?;
    Ok(id)
}

/// `?first, ?first+1, …`: one placeholder for each of `count` values bound in a list.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The upcoming-reservation lookup, its status list bound from `UPCOMING_STATUSES` so that the
/// statuses are written down once. Built once: the writer runs it for every report.
static UPCOMING_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM reservations
         WHERE customer_id = ?1 AND restaurant_id = ?2 AND start_at >= ?3
           AND status IN ({})
         ORDER BY start_at LIMIT 1",
        placeholders(4, UPCOMING_STATUSES.len())
    )
});

/// The customer's earliest reservation with an upcoming status that starts at or after
/// `not_before` (the call's time less the grace period).
pub fn find_upcoming_reservation(
    conn: &Connection,
    restaurant_id: &str,
    customer_id: &str,
    not_before: i64,
) -> rusqlite::Result<Option<Reservation>> {
    let mut args: Vec<&dyn ToSql> = vec![&customer_id, &restaurant_id, &not_before];
    args.extend(UPCOMING_STATUSES.iter().map(|s| s as &dyn ToSql));
    optional(
        conn.prepare_cached(&UPCOMING_SQL)?
            .query_row(args.as_slice(), from_row),
    )
}

pub fn update_reservation_status(
    conn: &Connection,
    id: &str,
    status: &str,
) -> rusqlite::Result<bool> {
    let found = conn
        .prepare_cached("UPDATE reservations SET status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, status, now_ms()])?;
    Ok(found == 1)
}

pub fn list_reservations(
    conn: &Connection,
    restaurant_id: &str,
) -> rusqlite::Result<Vec<Reservation>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM reservations WHERE restaurant_id = ?1 ORDER BY start_at, id"
    ))?;
    stmt.query_map([restaurant_id], from_row)?.collect()
}

/// A reservation as its restaurant sees it: another restaurant's id is not found.
pub fn find_restaurant_reservation(
    conn: &Connection,
    restaurant_id: &str,
    id: &str,
) -> rusqlite::Result<Option<Reservation>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM reservations WHERE restaurant_id = ?1 AND id = ?2"
        ))?
        .query_row([restaurant_id, id], from_row),
    )
}

pub fn find_reservation_by_external_id(
    conn: &Connection,
    restaurant_id: &str,
    external_id: &str,
) -> rusqlite::Result<Option<Reservation>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM reservations WHERE restaurant_id = ?1 AND external_id = ?2"
        ))?
        .query_row([restaurant_id, external_id], from_row),
    )
}

/// Writes a reservation's changeable fields as they are in `r`.
pub fn save_reservation(conn: &Connection, r: &Reservation) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE reservations SET customer_id = ?2, start_at = ?3, party_size = ?4, status = ?5,
                                 source = ?6, updated_at = ?7
         WHERE id = ?1",
    )?
    .execute(params![
        r.id,
        r.customer_id,
        r.start_at,
        r.party_size,
        r.status,
        r.source,
        r.updated_at
    ])?;
    Ok(())
}

pub fn set_cancel_reason(conn: &Connection, id: &str, reason: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE reservations SET cancel_reason = ?2 WHERE id = ?1")?
        .execute(params![id, reason])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn database_with_a_customer() -> Connection {
        let conn = crate::db::memory_database_with_a_restaurant();
        conn.execute_batch(
            "INSERT INTO customers (id, restaurant_id, phone_e164, source, created_at)
             VALUES ('cus_1', 'rst_1', '+33612345678', 'API', 0);",
        )
        .expect("seed");
        conn
    }

    pub(super) fn reserve(conn: &Connection, start_at: i64, status: &str) -> String {
        insert_reservation(
            conn,
            &NewReservation {
                restaurant_id: "rst_1",
                customer_id: Some("cus_1"),
                external_id: None,
                start_at,
                party_size: 2,
                status,
                source: "WEBSITE",
                ref_token: None,
            },
        )
        .expect("insert")
    }

    #[test]
    fn every_upcoming_status_and_no_closed_one_counts_as_an_upcoming_reservation() {
        let conn = database_with_a_customer();
        for status in CLOSED_STATUSES {
            reserve(&conn, 1_000, status);
        }
        assert!(
            find_upcoming_reservation(&conn, "rst_1", "cus_1", 0)
                .expect("find")
                .is_none()
        );

        for (n, status) in UPCOMING_STATUSES.iter().enumerate() {
            let id = reserve(&conn, 900 - n as i64, status);
            let found = find_upcoming_reservation(&conn, "rst_1", "cus_1", 0).expect("find");
            assert_eq!(found.map(|r| r.id), Some(id), "{status}");
        }
    }
}
