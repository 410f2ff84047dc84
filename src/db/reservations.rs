//! The `reservations` table and the upcoming-reservation lookup of the pipeline.

use rusqlite::{Connection, Row, params};

use super::optional;
use crate::secret::new_id;
use crate::time::now_ms;

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
                                   party_size, status, source, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
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
        now
    ])?;
    Ok(id)
}

/// The customer's earliest reservation with an upcoming status that starts at or after
/// `not_before` (the call's time less the grace period).
pub fn find_upcoming_reservation(
    conn: &Connection,
    restaurant_id: &str,
    customer_id: &str,
    not_before: i64,
) -> rusqlite::Result<Option<Reservation>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM reservations
             WHERE customer_id = ?1 AND restaurant_id = ?2 AND start_at >= ?3
               AND status IN ('PENDING', 'PENDING_PAYMENT', 'CONFIRMED',
                              'CONFIRMED_PENDING_PAYMENT', 'MANUALLY_CONFIRMED', 'DOUBLE_CONFIRMED')
             ORDER BY start_at LIMIT 1"
        ))?
        .query_row(params![customer_id, restaurant_id, not_before], from_row),
    )
}

pub fn find_reservation(conn: &Connection, id: &str) -> rusqlite::Result<Option<Reservation>> {
    optional(
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM reservations WHERE id = ?1"))?
            .query_row([id], from_row),
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
