//! Reservations entered by the operator: added, their status changed, listed.

use rusqlite::Connection;
use serde_json::Value;

use super::{AdminError, failed, phone_for, require_restaurant, usage};
use crate::db::customers::{find_customer, match_or_create_customer};
use crate::db::reservations::{self as table, NewReservation, Reservation, is_known_status};
use crate::time::parse_instant;
use crate::views::reservation_json as reservation_json_view;

/// What `reservation add` was told.
pub struct ReservationSpec<'a> {
    pub restaurant_id: &'a str,
    pub phone: &'a str,
    /// RFC 3339, or restaurant-local without an offset.
    pub start: &'a str,
    pub party_size: i64,
    pub status: &'a str,
    pub name: Option<&'a str>,
    pub external_id: Option<&'a str>,
}

fn check_status(status: &str) -> Result<(), AdminError> {
    if is_known_status(status) {
        Ok(())
    } else {
        Err(usage(format!("{status:?} is not a reservation status")))
    }
}

pub fn add_reservation(
    conn: &Connection,
    spec: &ReservationSpec<'_>,
) -> Result<String, AdminError> {
    let restaurant = require_restaurant(conn, spec.restaurant_id)?;
    let number = phone_for(&restaurant, spec.phone)?;
    let tz = restaurant.time_zone();
    let start_at = parse_instant(spec.start, &tz).ok_or_else(|| {
        usage(format!(
            "{:?} is not a date-time (like 2026-05-10T20:30 or 2026-05-10T20:30:00+02:00)",
            spec.start
        ))
    })?;
    if spec.party_size < 1 {
        return Err(usage("--party-size must be at least 1"));
    }
    check_status(spec.status)?;
    if let Some(x) = spec.external_id
        && !(1..=128).contains(&x.chars().count())
    {
        return Err(usage("--external-id must be 1 to 128 characters"));
    }
    let name = spec.name.map(str::trim).filter(|n| !n.is_empty());
    let (customer, _) =
        match_or_create_customer(conn, spec.restaurant_id, number.as_str(), name, "OPERATOR")?;
    let inserted = table::insert_reservation(
        conn,
        &NewReservation {
            restaurant_id: spec.restaurant_id,
            customer_id: Some(&customer.id),
            external_id: spec.external_id,
            start_at,
            party_size: spec.party_size,
            status: spec.status,
            source: "PHONE",
        },
    );
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(failed(
                "a reservation with this --external-id already exists",
            ))
        }
        other => Ok(other?),
    }
}

pub fn update_reservation(conn: &Connection, id: &str, status: &str) -> Result<(), AdminError> {
    check_status(status)?;
    if table::update_reservation_status(conn, id, status)? {
        Ok(())
    } else {
        Err(failed(format!("no reservation with id {id}")))
    }
}

pub fn list_reservations(
    conn: &Connection,
    restaurant_id: &str,
) -> Result<Vec<Reservation>, AdminError> {
    require_restaurant(conn, restaurant_id)?;
    Ok(table::list_reservations(conn, restaurant_id)?)
}

/// The reservation object of the partner API, with its customer, in the restaurant's zone.
pub fn reservation_json(conn: &Connection, r: &Reservation) -> Result<Value, AdminError> {
    let restaurant = require_restaurant(conn, &r.restaurant_id)?;
    let tz = restaurant.time_zone();
    let customer = match &r.customer_id {
        Some(id) => find_customer(conn, &r.restaurant_id, id)?,
        None => None,
    };
    Ok(reservation_json_view(r, customer.as_ref(), &tz))
}
