//! The `customers` table: one row per restaurant and E.164 number.

use crate::domain::Suppression;
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
    /// Why, while suppressed (SPEC §4.4).
    pub suppression_reason: Option<Suppression>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, restaurant_id, phone_e164, name, source, whatsapp_suppressed, \
     created_at, suppression_reason";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Customer> {
    Ok(Customer {
        id: row.get(0)?,
        restaurant_id: row.get(1)?,
        phone_e164: row.get(2)?,
        name: row.get(3)?,
        source: row.get(4)?,
        whatsapp_suppressed: row.get(5)?,
        created_at: row.get(6)?,
        suppression_reason: row.get(7)?,
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

/// Whether the restaurant has met this number: a customer, or a call from it.
pub fn number_known(conn: &Connection, restaurant_id: &str, e164: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM customers WHERE restaurant_id = ?1 AND phone_e164 = ?2)
             OR EXISTS (SELECT 1 FROM calls WHERE restaurant_id = ?1 AND caller_e164 = ?2)",
    )?
    .query_row([restaurant_id, e164], |r| r.get(0))
}

/// The restaurant a customer belongs to, whichever it is: for a console user who sees several.
pub fn customer_restaurant(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    optional(
        conn.prepare_cached("SELECT restaurant_id FROM customers WHERE id = ?1")?
            .query_row([id], |r| r.get(0)),
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

/// The customer with this number: matched, and renamed when a name is given; or created (with
/// `name` and `source`) when there is none. The boolean is true when it was created. The API, the
/// CLI, the imports and the pipeline all come through here, so a number is one customer however
/// it arrives. Callers write through the single writer (or a CLI transaction), so nothing can
/// insert the number between the look-up and the insert.
pub fn match_or_create_customer(
    conn: &Connection,
    restaurant_id: &str,
    phone_e164: &str,
    name: Option<&str>,
    source: &str,
) -> rusqlite::Result<(Customer, bool)> {
    if let Some(mut found) = find_customer_by_phone(conn, restaurant_id, phone_e164)? {
        if let Some(name) = name
            && found.name.as_deref() != Some(name)
        {
            set_customer_name(conn, &found.id, name)?;
            found.name = Some(name.to_string());
        }
        return Ok((found, false));
    }
    let customer = Customer {
        id: new_id("cus"),
        restaurant_id: restaurant_id.to_string(),
        phone_e164: phone_e164.to_string(),
        name: name.map(str::to_string),
        source: source.to_string(),
        whatsapp_suppressed: false,
        suppression_reason: None,
        created_at: now_ms(),
    };
    insert_customer(conn, &customer)?;
    Ok((customer, true))
}

fn insert_customer(conn: &Connection, customer: &Customer) -> rusqlite::Result<()> {
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
    Ok(())
}

pub fn set_customer_name(conn: &Connection, id: &str, name: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE customers SET name = ?2 WHERE id = ?1")?
        .execute(params![id, name])?;
    Ok(())
}

/// Suppresses a customer. The operator's word replaces any earlier reason (START cannot lift
/// it); WhatsApp's 131050 replaces the customer's own STOP (WhatsApp would refuse the next
/// message anyway, so a START must not lift it); a STOP never changes the reason of a customer
/// already suppressed, so a START cannot lift what the operator or WhatsApp decided.
pub fn suppress(conn: &Connection, id: &str, by: Suppression) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE customers SET whatsapp_suppressed = 1,
                suppression_reason = CASE
                    WHEN whatsapp_suppressed = 0 OR suppression_reason IS NULL THEN ?2
                    WHEN ?2 = 'operator' THEN ?2
                    WHEN ?2 = '131050' AND suppression_reason = 'reply' THEN ?2
                    ELSE suppression_reason END
         WHERE id = ?1",
    )?
    .execute(params![id, by])?;
    Ok(())
}

/// Suppresses the number at `restaurant_id` and at every other restaurant that sends from the
/// same WhatsApp number (a group's shared line): WhatsApp's 131050 is about that line, not one
/// restaurant. A restaurant that does not know the number yet gets it as a suppressed customer.
pub fn suppress_on_the_line(
    conn: &Connection,
    restaurant_id: &str,
    e164: &str,
    by: Suppression,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT other.id FROM restaurants AS this
           JOIN restaurants AS other
             ON other.id = this.id OR other.wa_phone_number_id = this.wa_phone_number_id
          WHERE this.id = ?1",
    )?;
    let restaurants = stmt
        .query_map([restaurant_id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for restaurant in restaurants {
        let (customer, _) = match_or_create_customer(conn, &restaurant, e164, None, "WHATSAPP")?;
        suppress(conn, &customer.id, by)?;
    }
    Ok(())
}

/// Lifts a customer's suppression, whatever its reason (the operator).
pub fn unsuppress(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE customers SET whatsapp_suppressed = 0, suppression_reason = NULL WHERE id = ?1",
    )?
    .execute([id])?;
    Ok(())
}

/// A START reply: lifts only a suppression the customer's own STOP made. Returns whether it did.
pub fn lift_reply_suppression(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE customers SET whatsapp_suppressed = 0, suppression_reason = NULL
             WHERE id = ?1 AND whatsapp_suppressed = 1 AND suppression_reason = 'reply'",
        )?
        .execute([id])?;
    Ok(changed == 1)
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
                              whatsapp_suppressed = COALESCE(?4, whatsapp_suppressed),
                              suppression_reason = CASE
                                  WHEN ?4 IS NULL THEN suppression_reason
                                  -- Saying again what is so (a booking system syncing its copy)
                                  -- keeps the reason: a guest's own STOP stays theirs to lift.
                                  WHEN ?4 AND whatsapp_suppressed = 1
                                       AND suppression_reason IS NOT NULL THEN suppression_reason
                                  WHEN ?4 THEN ?5 ELSE NULL END
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        name.is_some(),
        name.flatten(),
        suppressed,
        Suppression::Operator
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_with_a_restaurant() -> Connection {
        crate::db::memory_database_with_a_restaurant()
    }

    #[test]
    fn a_known_number_is_matched_and_renamed_only_when_a_name_is_given() {
        let conn = database_with_a_restaurant();
        let (first, created) =
            match_or_create_customer(&conn, "rst_1", "+33612345678", Some("Camille"), "API")
                .expect("create");

        let (unnamed, created_again) =
            match_or_create_customer(&conn, "rst_1", "+33612345678", None, "MISSED_CALL")
                .expect("match");
        let (renamed, _) =
            match_or_create_customer(&conn, "rst_1", "+33612345678", Some("Lou"), "IMPORT")
                .expect("rename");

        assert!(created && !created_again);
        assert_eq!(unnamed.id, first.id);
        assert_eq!(unnamed.name.as_deref(), Some("Camille"));
        assert_eq!(renamed.id, first.id);
        assert_eq!(renamed.name.as_deref(), Some("Lou"));
        let stored = find_customer(&conn, "rst_1", &first.id)
            .expect("find")
            .expect("customer");
        assert_eq!(stored.name.as_deref(), Some("Lou"));
        assert_eq!(stored.source, "API");
    }

    #[test]
    fn a_suppression_keeps_the_strongest_reason_whatever_the_order() {
        use Suppression::*;
        let conn = database_with_a_restaurant();
        let cases = [
            (vec![Reply, StoppedMarketing], StoppedMarketing),
            (vec![StoppedMarketing, Reply], StoppedMarketing),
            (vec![Operator, Reply], Operator),
            (vec![Operator, StoppedMarketing], Operator),
            (vec![Reply, Operator], Operator),
            (vec![StoppedMarketing, Operator], Operator),
            (vec![Reply, Reply], Reply),
        ];
        for (n, (steps, expected)) in cases.into_iter().enumerate() {
            let phone = format!("+3361234567{n}");
            let (customer, _) =
                match_or_create_customer(&conn, "rst_1", &phone, None, "API").expect("customer");
            for by in &steps {
                suppress(&conn, &customer.id, *by).expect("suppress");
            }
            let stored = find_customer(&conn, "rst_1", &customer.id)
                .expect("find")
                .expect("customer");
            assert!(stored.whatsapp_suppressed);
            assert_eq!(stored.suppression_reason, Some(expected), "{steps:?}");
        }
    }
}
