//! Customers: added one by one or imported from CSV, suppressed and unsuppressed, listed.

use rusqlite::Connection;

use super::{AdminError, failed, phone_for, require_restaurant, usage};
use crate::bookings::rules;
use crate::db::customers::{self as table, Customer};
use crate::domain::Suppression;

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
