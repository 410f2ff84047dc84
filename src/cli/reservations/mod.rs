//! `ringback reservation …`: a restaurant's reservations, entered by the operator or imported:
//! added, their status changed, listed.

mod add;

use std::path::PathBuf;

use clap::Subcommand;
use rusqlite::Connection;
use serde_json::Value;

pub use add::{ReservationSpec, add_reservation};

use super::JsonFlag;
use super::restaurants::require_restaurant;
use crate::bookings::rules;
use crate::cli::error::{AdminError, failed};
use crate::db::customers::find_customer;
use crate::db::reservations::{self as table, Reservation};
use crate::views::reservation_json as reservation_json_view;
use add::command_error;

#[derive(Debug, Subcommand)]
pub enum ReservationCommand {
    /// Add a reservation; prints its id.
    Add {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The phone number, E.164 or national (read with the restaurant's country).
        #[arg(long)]
        phone: String,
        /// RFC 3339, or the restaurant's local time without an offset.
        #[arg(long, value_name = "DATETIME")]
        start: String,
        /// How many guests.
        #[arg(long, value_name = "N")]
        party_size: i64,
        /// The reservation's status, like CONFIRMED or PENDING.
        #[arg(long, default_value = crate::bookings::rules::DEFAULT_STATUS)]
        status: String,
        /// The guest's name; sets the customer's name.
        #[arg(long)]
        name: Option<String>,
        /// The booking system's id for it, unique per restaurant.
        #[arg(long, value_name = "X")]
        external_id: Option<String>,
    },
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
    List {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        #[command(flatten)]
        json: JsonFlag,
    },
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
