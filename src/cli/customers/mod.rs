//! `ringback customer …`: a restaurant's customers, added one by one or imported from CSV,
//! suppressed and unsuppressed, listed.

use std::path::PathBuf;

use clap::Subcommand;
use rusqlite::Connection;

use super::JsonFlag;
use super::restaurants::{phone_for, require_restaurant};
use crate::bookings::rules;
use crate::cli::error::{AdminError, failed, usage};
use crate::db::customers::{self as table, Customer};

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Add a customer (or rename the one with this number); prints its id.
    Add {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The phone number, E.164 or national (read with the restaurant's country).
        #[arg(long)]
        phone: String,
        /// The customer's name, for the customer_name template variable.
        #[arg(long)]
        name: Option<String>,
    },
    /// Import customers from a CSV file with a `phone,name` header.
    Import {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The CSV file to read.
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
    },
    /// Stop all messages to a number.
    Suppress {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The phone number, E.164 or national (read with the restaurant's country).
        #[arg(long)]
        phone: String,
    },
    /// Allow messages to a number again.
    Unsuppress {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The phone number, E.164 or national (read with the restaurant's country).
        #[arg(long)]
        phone: String,
    },
    /// Erase a customer's name and number everywhere (calls keep their outcome and time).
    Forget {
        /// The restaurant's id (rst_…).
        #[arg(long)]
        restaurant: String,
        /// The customer's phone number, in any format the restaurant's country reads.
        #[arg(long)]
        phone: String,
    },
    /// List the restaurant's customers.
    List {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

/// Adds a customer, or updates the name of the one with this number. Returns its id.
pub fn add_customer(
    conn: &Connection,
    restaurant_id: &str,
    phone: &str,
    name: Option<&str>,
) -> Result<String, AdminError> {
    Ok(add_or_rename_customer(conn, restaurant_id, phone, name)?
        .0
        .id)
}

/// Like `add_customer`; also says whether the customer was created.
pub fn add_or_rename_customer(
    conn: &Connection,
    restaurant_id: &str,
    phone: &str,
    name: Option<&str>,
) -> Result<(Customer, bool), AdminError> {
    let restaurant = require_restaurant(conn, restaurant_id)?;
    let number = phone_for(&restaurant, phone)?;
    let name = rules::name(name, "--name").map_err(|e| usage(e.to_string()))?;
    Ok(table::match_or_create_customer(
        conn,
        restaurant_id,
        number.as_str(),
        name.as_deref(),
        "OPERATOR",
    )?)
}

/// Suppresses (or lifts the suppression of) a number. Suppressing a number that is not yet a
/// customer creates it, so that a guest who asked for no messages gets none from the first call.
pub fn set_suppression(
    conn: &Connection,
    restaurant_id: &str,
    phone: &str,
    suppressed: bool,
) -> Result<Customer, AdminError> {
    let restaurant = require_restaurant(conn, restaurant_id)?;
    let number = phone_for(&restaurant, phone)?;
    let customer = if suppressed {
        table::match_or_create_customer(conn, restaurant_id, number.as_str(), None, "OPERATOR")?.0
    } else {
        table::find_customer_by_phone(conn, restaurant_id, number.as_str())?
            .ok_or_else(|| failed(format!("no customer with number {number}")))?
    };
    if suppressed {
        table::suppress(conn, &customer.id, table::Suppression::Operator)?;
    } else {
        table::unsuppress(conn, &customer.id)?;
    }
    Ok(Customer {
        whatsapp_suppressed: suppressed,
        suppression_reason: suppressed.then_some(table::Suppression::Operator),
        ..customer
    })
}

pub fn list_customers(conn: &Connection, restaurant_id: &str) -> Result<Vec<Customer>, AdminError> {
    require_restaurant(conn, restaurant_id)?;
    Ok(table::list_customers(conn, restaurant_id)?)
}
