//! Customers: added one by one or imported from CSV, suppressed and unsuppressed, listed.

use std::io::Read;

use rusqlite::Connection;

use super::{AdminError, failed, phone_for, require_restaurant, usage};
use crate::db::customers::{self as table, Customer};

/// Adds a customer, or updates the name of the one with this number. Returns its id.
pub fn add_customer(
    conn: &Connection,
    restaurant_id: &str,
    phone: &str,
    name: Option<&str>,
) -> Result<String, AdminError> {
    let restaurant = require_restaurant(conn, restaurant_id)?;
    let number = phone_for(&restaurant, phone)?;
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    let (customer, created) =
        table::match_or_create_customer(conn, restaurant_id, number.as_str(), name, "OPERATOR")?;
    if let (false, Some(name)) = (created, name) {
        table::set_customer_name(conn, &customer.id, name)?;
    }
    Ok(customer.id)
}

/// How an import went: counts, and each rejected line with its reason.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub rejected: Vec<(u64, String)>,
}

/// Imports `phone,name` rows (a header line names the columns; extra columns are ignored).
/// A bad row is reported and skipped; the import never stops at it.
pub fn import_customers(
    conn: &Connection,
    restaurant_id: &str,
    input: impl Read,
) -> Result<ImportReport, AdminError> {
    let restaurant = require_restaurant(conn, restaurant_id)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| failed(format!("cannot read the CSV header: {e}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let phone_col = column("phone").ok_or_else(|| usage("the CSV header has no `phone` column"))?;
    let name_col = column("name");

    let mut report = ImportReport::default();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                report.rejected.push((line, e.to_string()));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let phone = record.get(phone_col).unwrap_or_default();
        let name = name_col
            .and_then(|c| record.get(c))
            .filter(|n| !n.is_empty());
        let number = match phone_for(&restaurant, phone) {
            Ok(n) => n,
            Err(e) => {
                report.rejected.push((line, e.to_string()));
                continue;
            }
        };
        let (customer, created) =
            table::match_or_create_customer(conn, restaurant_id, number.as_str(), name, "IMPORT")?;
        if created {
            report.added += 1;
        } else {
            if let Some(name) = name {
                table::set_customer_name(conn, &customer.id, name)?;
            }
            report.updated += 1;
        }
    }
    Ok(report)
}

/// Suppresses (or lifts the suppression of) a number. Suppressing a number that is not yet a
/// customer creates it, so that a guest who asked for no messages gets none from the first call.
pub fn set_suppression(
    conn: &Connection,
    restaurant_id: &str,
    phone: &str,
    suppressed: bool,
) -> Result<String, AdminError> {
    let restaurant = require_restaurant(conn, restaurant_id)?;
    let number = phone_for(&restaurant, phone)?;
    let customer = if suppressed {
        table::match_or_create_customer(conn, restaurant_id, number.as_str(), None, "OPERATOR")?.0
    } else {
        table::find_customer_by_phone(conn, restaurant_id, number.as_str())?
            .ok_or_else(|| failed(format!("no customer with number {number}")))?
    };
    table::set_suppressed(conn, &customer.id, suppressed)?;
    Ok(customer.id)
}

pub fn list_customers(conn: &Connection, restaurant_id: &str) -> Result<Vec<Customer>, AdminError> {
    require_restaurant(conn, restaurant_id)?;
    Ok(table::list_customers(conn, restaurant_id)?)
}
