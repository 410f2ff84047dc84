//! `reservation add`: one reservation, under the partner API's rules, named by their flags.

use std::io::Write;

use clap::Args;
use rusqlite::Connection;

use super::reservation_json;
use crate::bookings::{self, BookingError, BookingRequest, CustomerRequest};
use crate::cli::error::{AdminError, CommandError, failed, usage};
use crate::cli::output::Printed;
use crate::cli::restaurants::require_restaurant;
use crate::db::reservations::find_restaurant_reservation;

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The restaurant's id (rst_…).
    #[arg(long, value_name = "ID")]
    pub restaurant: String,
    /// The phone number, E.164 or national (read with the restaurant's country).
    #[arg(long)]
    pub phone: String,
    /// RFC 3339, or the restaurant's local time without an offset.
    #[arg(long, value_name = "DATETIME")]
    pub start: String,
    /// How many guests.
    #[arg(long, value_name = "N")]
    pub party_size: i64,
    /// The reservation's status, like CONFIRMED or PENDING.
    #[arg(long, default_value = crate::bookings::rules::DEFAULT_STATUS)]
    pub status: String,
    /// The guest's name; sets the customer's name.
    #[arg(long)]
    pub name: Option<String>,
    /// The booking system's id for it, unique per restaurant.
    #[arg(long, value_name = "X")]
    pub external_id: Option<String>,
}

pub(super) fn add(
    conn: &Connection,
    args: AddArgs,
    window_days: i64,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let AddArgs {
        restaurant,
        phone,
        start,
        party_size,
        status,
        name,
        external_id,
    } = args;
    let id = add_reservation(
        conn,
        &ReservationSpec {
            restaurant_id: &restaurant,
            phone: &phone,
            start: &start,
            party_size,
            status: &status,
            name: name.as_deref(),
            external_id: external_id.as_deref(),
        },
        window_days,
    )?;
    writeln!(p.out, "{id}")?;
    if let Some(r) = find_restaurant_reservation(conn, &restaurant, &id)? {
        let v = reservation_json(conn, &r)?;
        p.say(format!(
            "reservation {id} added: {}, party of {}, {}, for {}",
            v["start_at"].as_str().unwrap_or_default(),
            v["party_size"],
            v["status"].as_str().unwrap_or_default(),
            v["customer"]["phone_number"].as_str().unwrap_or("-"),
        ));
    }
    Ok(())
}

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

/// Where the operator's reservations come from: they are typed in from a call, not booked online.
const SOURCE: &str = "PHONE";

/// Adds a reservation the way `POST /api/partner/v1/reservations` does: the same rules, the same
/// customer matching, the same writes (`--status` defaults to the API's default). Returns its id.
pub fn add_reservation(
    conn: &Connection,
    spec: &ReservationSpec<'_>,
    conversion_window_days: i64,
) -> Result<String, AdminError> {
    let restaurant = require_restaurant(conn, spec.restaurant_id)?;
    let request = BookingRequest {
        customer: Some(CustomerRequest {
            name: spec.name,
            phone_number: Some(spec.phone),
        }),
        start_at: spec.start,
        party_size: spec.party_size,
        status: Some(spec.status),
        source: Some(SOURCE),
        external_id: spec.external_id,
        ref_token: None,
    };
    let booked = request
        .check(&restaurant)
        .and_then(|new| {
            bookings::create_reservation(conn, &restaurant.id, &new, conversion_window_days)
        })
        .map_err(command_error)?;
    Ok(booked.0.id)
}

/// A booking error as the command line says it: a broken rule names the flag (exit 2).
pub(super) fn command_error(e: BookingError) -> AdminError {
    match e {
        BookingError::Invalid { field, message } => usage(format!("{}: {message}", flag(field))),
        BookingError::ExternalIdTaken { reservation_id } => failed(format!(
            "a reservation with this --external-id already exists: {reservation_id}"
        )),
        BookingError::NotFound(what) => failed(format!("no such {what}")),
        BookingError::Db(e) => AdminError::Db(e),
    }
}

/// The `reservation add` flag that carries an API field.
fn flag(field: &str) -> &str {
    match field {
        "customer.phone_number" => "--phone",
        "customer.name" => "--name",
        "start_at" => "--start",
        "party_size" => "--party-size",
        "status" => "--status",
        "external_id" => "--external-id",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bookings::rules;
    use crate::cli::restaurants::add_restaurant;
    use crate::db::customers::find_customer;
    use crate::db::reservations as table;

    fn database_with_a_restaurant() -> (Connection, String) {
        let mut conn = Connection::open_in_memory().expect("memory");
        crate::db::migrate(&mut conn).expect("migrate");
        let id = add_restaurant(&conn, "Chez", "FR", "Europe/Paris", None).expect("restaurant");
        (conn, id)
    }

    fn spec<'a>(restaurant_id: &'a str, phone: &'a str) -> ReservationSpec<'a> {
        ReservationSpec {
            restaurant_id,
            phone,
            start: "2099-07-14T20:30",
            party_size: 2,
            status: "CONFIRMED",
            name: None,
            external_id: None,
        }
    }

    #[test]
    fn reservation_add_breaks_no_rule_the_api_keeps_and_names_the_flag() {
        let (conn, rid) = database_with_a_restaurant();
        let long_name = "x".repeat(201);
        let cases: [(ReservationSpec<'_>, &str); 7] = [
            (
                ReservationSpec {
                    party_size: 0,
                    ..spec(&rid, "0612345678")
                },
                "--party-size",
            ),
            (
                ReservationSpec {
                    party_size: 1001,
                    ..spec(&rid, "0612345678")
                },
                "--party-size",
            ),
            (
                ReservationSpec {
                    status: "LATE",
                    ..spec(&rid, "0612345678")
                },
                "--status",
            ),
            (
                ReservationSpec {
                    start: "someday",
                    ..spec(&rid, "0612345678")
                },
                "--start",
            ),
            (spec(&rid, "anonymous"), "--phone"),
            (
                ReservationSpec {
                    name: Some(&long_name),
                    ..spec(&rid, "0612345678")
                },
                "--name",
            ),
            (
                ReservationSpec {
                    external_id: Some(""),
                    ..spec(&rid, "0612345678")
                },
                "--external-id",
            ),
        ];

        for (spec, flag) in cases {
            match add_reservation(&conn, &spec, 7) {
                Err(AdminError::Usage(message)) => assert!(message.starts_with(flag), "{message}"),
                other => panic!("{flag}: {other:?}"),
            }
        }
        assert!(
            table::list_reservations(&conn, &rid)
                .expect("list")
                .is_empty()
        );
    }

    #[test]
    fn reservation_add_matches_the_customer_by_number_and_renames_it() {
        let (conn, rid) = database_with_a_restaurant();
        let first = add_reservation(
            &conn,
            &ReservationSpec {
                name: Some("Camille"),
                ..spec(&rid, "06 12 34 56 78")
            },
            7,
        )
        .expect("first");

        let second = add_reservation(
            &conn,
            &ReservationSpec {
                name: Some(" Lou "),
                ..spec(&rid, "+33612345678")
            },
            7,
        )
        .expect("second");

        let list = table::list_reservations(&conn, &rid).expect("list");
        assert_eq!(list.len(), 2);
        assert_ne!(first, second);
        assert_eq!(list[0].customer_id, list[1].customer_id);
        assert!(
            list.iter()
                .all(|r| r.status == rules::DEFAULT_STATUS && r.source == SOURCE)
        );
        let customer_id = list[0].customer_id.as_deref().expect("customer");
        let customer = find_customer(&conn, &rid, customer_id)
            .expect("find")
            .expect("customer");
        assert_eq!(customer.name.as_deref(), Some("Lou"));
    }
}
