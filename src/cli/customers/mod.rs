//! `ringback customer …`: a restaurant's customers, and who gets no messages.

mod forget;

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use rusqlite::Connection;

pub(super) use forget::forget;

use super::error::{AdminError, CommandError, fail, failed, usage};
use super::import::{import_customers, open, print_import};
use super::output::{Printed, RestaurantList, count, print_json, write_table};
use super::restaurants::{phone_for, require_restaurant};
use crate::bookings::rules;
use crate::db::customers::{self as table, Customer};
use crate::domain::Suppression;

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
    List(RestaurantList),
}

pub(super) fn run(
    conn: &Connection,
    c: CustomerCommand,
    p: &mut Printed,
) -> Result<(), CommandError> {
    match c {
        CustomerCommand::Add {
            restaurant,
            phone,
            name,
        } => add(conn, &restaurant, &phone, name, p),
        CustomerCommand::Import { restaurant, file } => {
            let report = import_customers(conn, &restaurant, open(&file)?)?;
            print_import(&report, p);
            Ok(())
        }
        CustomerCommand::Suppress { restaurant, phone } => {
            suppress(conn, &restaurant, &phone, true, p)
        }
        CustomerCommand::Unsuppress { restaurant, phone } => {
            suppress(conn, &restaurant, &phone, false, p)
        }
        CustomerCommand::Forget { .. } => Err(fail("customer forget runs on its own connection")),
        CustomerCommand::List(args) => list(conn, args, p),
    }
}

fn add(
    conn: &Connection,
    restaurant: &str,
    phone: &str,
    name: Option<String>,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let (customer, created) = add_or_rename_customer(conn, restaurant, phone, name.as_deref())?;
    writeln!(p.out, "{}", customer.id)?;
    let number = &customer.phone_e164;
    p.say(match (created, &customer.name) {
        (true, Some(n)) => format!("customer {} added: {number}, named {n:?}", customer.id),
        (true, None) => format!("customer {} added: {number}", customer.id),
        (false, Some(n)) if name.is_some() => {
            format!(
                "customer {} ({number}) already exists; its name is now {n:?}",
                customer.id
            )
        }
        (false, _) => format!(
            "customer {} ({number}) already exists; nothing changed",
            customer.id
        ),
    });
    Ok(())
}

/// `customer suppress` and `customer unsuppress`.
fn suppress(
    conn: &Connection,
    restaurant: &str,
    phone: &str,
    suppressed: bool,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let c = set_suppression(conn, restaurant, phone, suppressed)?;
    let (done, so) = if suppressed {
        ("suppressed", "no WhatsApp messages")
    } else {
        ("unsuppressed", "WhatsApp messages allowed again")
    };
    p.say(format!("customer {} ({}) {done}: {so}", c.id, c.phone_e164));
    Ok(())
}

fn list(conn: &Connection, args: RestaurantList, p: &mut Printed) -> Result<(), CommandError> {
    let list = list_customers(conn, &args.restaurant)?;
    if args.json.json {
        print_json(
            &mut p.out,
            list.iter().map(crate::views::customer_json).collect(),
        )?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            let suppressed = match (c.whatsapp_suppressed, &c.suppression_reason) {
                (false, _) => "-".to_string(),
                (true, Some(reason)) => format!("suppressed ({})", reason.as_str()),
                (true, None) => "suppressed".into(),
            };
            vec![
                c.id.clone(),
                c.phone_e164.clone(),
                c.name.clone().unwrap_or_else(|| "-".into()),
                suppressed,
            ]
        })
        .collect();
    write_table(&mut p.out, &["ID", "PHONE", "NAME", "WHATSAPP"], &rows)?;
    p.say(count(list.len() as i64, "customer"));
    Ok(())
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
        table::suppress(conn, &customer.id, Suppression::Operator)?;
    } else {
        table::unsuppress(conn, &customer.id)?;
    }
    Ok(Customer {
        whatsapp_suppressed: suppressed,
        suppression_reason: suppressed.then_some(Suppression::Operator),
        ..customer
    })
}

pub fn list_customers(conn: &Connection, restaurant_id: &str) -> Result<Vec<Customer>, AdminError> {
    require_restaurant(conn, restaurant_id)?;
    Ok(table::list_customers(conn, restaurant_id)?)
}
