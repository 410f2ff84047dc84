//! The `customers` table: one row per restaurant and E.164 number.

use rusqlite::{Connection, Row, params};

use super::optional;
use crate::secret::new_id;
use crate::time::now_ms;

#[derive(Debug, Clone)]
pub struct Customer {
    pub id: String,
    pub restaurant_id: String,
    pub phone_e164: String,
    pub name: Option<String>,
    pub source: String,
    pub whatsapp_suppressed: bool,
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, restaurant_id, phone_e164, name, source, whatsapp_suppressed, created_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Customer> {
    Ok(Customer {
        id: row.get(0)?,
        restaurant_id: row.get(1)?,
        phone_e164: row.get(2)?,
        name: row.get(3)?,
        source: row.get(4)?,
        whatsapp_suppressed: row.get(5)?,
        created_at: row.get(6)?,
    })
}

pub fn find_customer_by_phone(
    conn: &Connection,
    restaurant_id: &str,
    phone_e164: &str,
) -> rusqlite::Result<Option<Customer>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM customers WHERE restaurant_id = ?1 AND phone_e164 = ?2"
        ))?
        .query_row([restaurant_id, phone_e164], from_row),
    )
}

pub fn find_customer(
    conn: &Connection,
    restaurant_id: &str,
    id: &str,
) -> rusqlite::Result<Option<Customer>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM customers WHERE restaurant_id = ?1 AND id = ?2"
        ))?
        .query_row([restaurant_id, id], from_row),
    )
}

/// The customer with this number, created (with `name` and `source`) when there is none.
/// The boolean is true when it was created. Callers write through the single writer (or a CLI
/// transaction), so nothing can insert the number between the look-up and the insert.
pub fn match_or_create_customer(
    conn: &Connection,
    restaurant_id: &str,
    phone_e164: &str,
    name: Option<&str>,
    source: &str,
) -> rusqlite::Result<(Customer, bool)> {
    if let Some(found) = find_customer_by_phone(conn, restaurant_id, phone_e164)? {
        return Ok((found, false));
    }
    let customer = Customer {
        id: new_id("cus"),
        restaurant_id: restaurant_id.to_string(),
        phone_e164: phone_e164.to_string(),
        name: name.map(str::to_string),
        source: source.to_string(),
        whatsapp_suppressed: false,
        created_at: now_ms(),
    };
    conn.prepare_cached(
        "INSERT INTO customers (id, restaurant_id, phone_e164, name, source, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        customer.id,
        customer.restaurant_id,
        customer.phone_e164,
        customer.name,
        customer.source,
        customer.created_at
    ])?;
    Ok((customer, true))
}

pub fn set_customer_name(conn: &Connection, id: &str, name: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE customers SET name = ?2 WHERE id = ?1")?
        .execute(params![id, name])?;
    Ok(())
}

pub fn set_suppressed(conn: &Connection, id: &str, suppressed: bool) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE customers SET whatsapp_suppressed = ?2 WHERE id = ?1")?
        .execute(params![id, suppressed])?;
    Ok(())
}

pub fn list_customers(conn: &Connection, restaurant_id: &str) -> rusqlite::Result<Vec<Customer>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM customers WHERE restaurant_id = ?1 ORDER BY created_at, id"
    ))?;
    stmt.query_map([restaurant_id], from_row)?.collect()
}

/// Changes a customer's name (`Some(None)` clears it) and suppression; `None` leaves a field.
pub fn update_customer(
    conn: &Connection,
    id: &str,
    name: Option<Option<&str>>,
    suppressed: Option<bool>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE customers SET name = CASE WHEN ?2 THEN ?3 ELSE name END,
                              whatsapp_suppressed = COALESCE(?4, whatsapp_suppressed)
         WHERE id = ?1",
    )?
    .execute(params![id, name.is_some(), name.flatten(), suppressed])?;
    Ok(())
}
