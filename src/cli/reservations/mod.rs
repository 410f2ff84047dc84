//! `ringback reservation …`: a restaurant's reservations: added, imported, changed, listed.

mod add;

use std::path::PathBuf;

use clap::Subcommand;
use rusqlite::Connection;
use serde_json::Value;

pub use add::{AddArgs, ReservationSpec, add_reservation};

use super::error::{AdminError, CommandError, failed};
use super::import::{import_reservations, open, print_import};
use super::output::{Printed, RestaurantList, count, print_json, write_table};
use super::restaurants::require_restaurant;
use crate::bookings::rules;
use crate::db::customers::find_customer;
use crate::db::reservations::{self as table, Reservation};
use crate::views::reservation_json as reservation_json_view;
use add::command_error;

#[derive(Debug, Subcommand)]
pub enum ReservationCommand {
    /// Add a reservation; prints its id.
    Add(AddArgs),
    /// Import reservations from a CSV file with an
    /// `external_id,phone,name,start,party_size,status` header.
    Import {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The CSV file to read.
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
    },
    /// Change a reservation's status.
    Update {
        /// The reservation's id (res_…).
        id: String,
        /// The new status, like CANCELED or SHOWED_UP.
        #[arg(long)]
        status: String,
    },
    /// List the restaurant's reservations.
    List(RestaurantList),
}

/// `window_days`: `missed_calls.conversion_window_days`, for the conversion a new reservation
/// may be.
pub(super) fn run(
    conn: &Connection,
    c: ReservationCommand,
    window_days: i64,
    p: &mut Printed,
) -> Result<(), CommandError> {
    match c {
        ReservationCommand::Add(args) => add::add(conn, args, window_days, p),
        ReservationCommand::Import { restaurant, file } => {
            let report = import_reservations(conn, &restaurant, open(&file)?, window_days)?;
            print_import(&report, p);
            Ok(())
        }
        ReservationCommand::Update { id, status } => {
            update_reservation(conn, &id, &status)?;
            p.say(format!("reservation {id}: status {status}"));
            Ok(())
        }
        ReservationCommand::List(args) => list(conn, args, p),
    }
}

fn list(conn: &Connection, args: RestaurantList, p: &mut Printed) -> Result<(), CommandError> {
    let list = list_reservations(conn, &args.restaurant)?;
    let views = list
        .iter()
        .map(|r| reservation_json(conn, r))
        .collect::<Result<Vec<_>, _>>()?;
    if args.json.json {
        print_json(&mut p.out, Value::Array(views))?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = views
        .iter()
        .map(|v| {
            vec![
                v["id"].as_str().unwrap_or_default().to_string(),
                v["start_at"].as_str().unwrap_or_default().to_string(),
                v["party_size"].to_string(),
                v["status"].as_str().unwrap_or_default().to_string(),
                v["customer"]["phone_number"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
            ]
        })
        .collect();
    write_table(
        &mut p.out,
        &["ID", "START_AT", "PARTY", "STATUS", "PHONE"],
        &rows,
    )?;
    p.say(count(views.len() as i64, "reservation"));
    Ok(())
}

pub fn update_reservation(conn: &Connection, id: &str, status: &str) -> Result<(), AdminError> {
    rules::status(status).map_err(command_error)?;
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
