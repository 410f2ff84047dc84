//! The `restaurants` table: identity, locale, the feature switch, balance and WhatsApp account.

use rusqlite::{Connection, Row, params};

use super::optional;
use crate::secret::new_id;
use crate::time::now_ms;
use crate::vault::Sealed;

#[derive(Debug, Clone)]
pub struct Restaurant {
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// IANA time zone name.
    pub timezone: String,
    pub booking_url: Option<String>,
    pub missed_calls_enabled: bool,
    /// `None`: no balance is kept.
    pub balance_cents: Option<i64>,
    pub message_cost_cents: i64,
    pub whatsapp: Option<WhatsAppAccount>,
    /// The Telnyx number (E.164) whose incoming calls are this restaurant's (SPEC §10).
    pub telnyx_number: Option<String>,
    pub created_at: i64,
}

impl Restaurant {
    /// The restaurant's time zone. Its name is checked when set; should a zone ever vanish from
    /// the time zone database, UTC keeps the service answering.
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        crate::time::zone(&self.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

/// The restaurant's WhatsApp number and its access token, sealed (SPEC §8.2): the vault opens
/// it for the send, and nothing else ever needs it.
#[derive(Debug, Clone)]
pub struct WhatsAppAccount {
    pub phone_number_id: String,
    pub access_token: Sealed,
}

pub struct NewRestaurant<'a> {
    pub name: &'a str,
    pub country: &'a str,
    pub timezone: &'a str,
    pub booking_url: Option<&'a str>,
}

/// What `restaurant update` changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct RestaurantChanges {
    pub name: Option<String>,
    pub country: Option<String>,
    pub timezone: Option<String>,
    pub booking_url: Option<String>,
    pub missed_calls_enabled: Option<bool>,
    /// `Some(None)` makes the balance unlimited.
    pub balance_cents: Option<Option<i64>>,
    pub message_cost_cents: Option<i64>,
    /// `Some(None)` unties the restaurant's Telnyx number.
    pub telnyx_number: Option<Option<String>>,
}

const COLUMNS: &str = "id, name, country, timezone, booking_url, missed_calls_enabled, \
     balance_cents, message_cost_cents, wa_phone_number_id, wa_access_token_sealed, created_at, \
     telnyx_number";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Restaurant> {
    let phone_number_id: Option<String> = row.get(8)?;
    let access_token: Option<Vec<u8>> = row.get(9)?;
    Ok(Restaurant {
        id: row.get(0)?,
        name: row.get(1)?,
        country: row.get(2)?,
        timezone: row.get(3)?,
        booking_url: row.get(4)?,
        missed_calls_enabled: row.get(5)?,
        balance_cents: row.get(6)?,
        message_cost_cents: row.get(7)?,
        whatsapp: match (phone_number_id, access_token) {
            (Some(phone_number_id), Some(token)) => Some(WhatsAppAccount {
                phone_number_id,
                access_token: Sealed(token),
            }),
            _ => None,
        },
        created_at: row.get(10)?,
        telnyx_number: row.get(11)?,
    })
}

pub fn insert_restaurant(conn: &Connection, new: &NewRestaurant<'_>) -> rusqlite::Result<String> {
    let id = new_id("rst");
    conn.prepare_cached(
        "INSERT INTO restaurants (id, name, country, timezone, booking_url, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        new.name,
        new.country,
        new.timezone,
        new.booking_url,
        now_ms()
    ])?;
    Ok(id)
}

pub fn find_restaurant(conn: &Connection, id: &str) -> rusqlite::Result<Option<Restaurant>> {
    optional(
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM restaurants WHERE id = ?1"))?
            .query_row([id], from_row),
    )
}

/// The restaurants whose WhatsApp number has this id (a webhook names its number so); a group
/// may share one number.
pub fn restaurants_by_phone_number_id(
    conn: &Connection,
    phone_number_id: &str,
) -> rusqlite::Result<Vec<Restaurant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM restaurants WHERE wa_phone_number_id = ?1 ORDER BY created_at, id"
    ))?;
    stmt.query_map([phone_number_id], from_row)?.collect()
}

pub fn list_restaurants(conn: &Connection) -> rusqlite::Result<Vec<Restaurant>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM restaurants ORDER BY created_at, id"
    ))?;
    stmt.query_map([], from_row)?.collect()
}

/// How many restaurants have the missed-calls feature on (for the start-up line).
pub fn count_enabled(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM restaurants WHERE missed_calls_enabled = 1",
        [],
        |r| r.get(0),
    )
}

/// Returns false when no such restaurant exists.
pub fn update_restaurant(
    conn: &Connection,
    id: &str,
    changes: &RestaurantChanges,
) -> rusqlite::Result<bool> {
    let found = conn
        .prepare_cached(
            "UPDATE restaurants SET
            name = COALESCE(?2, name),
            country = COALESCE(?3, country),
            timezone = COALESCE(?4, timezone),
            booking_url = COALESCE(?5, booking_url),
            missed_calls_enabled = COALESCE(?6, missed_calls_enabled),
            balance_cents = CASE WHEN ?7 THEN ?8 ELSE balance_cents END,
            message_cost_cents = COALESCE(?9, message_cost_cents),
            telnyx_number = CASE WHEN ?10 THEN ?11 ELSE telnyx_number END
         WHERE id = ?1",
        )?
        .execute(params![
            id,
            changes.name,
            changes.country,
            changes.timezone,
            changes.booking_url,
            changes.missed_calls_enabled,
            changes.balance_cents.is_some(),
            changes.balance_cents.flatten(),
            changes.message_cost_cents,
            changes.telnyx_number.is_some(),
            changes.telnyx_number.clone().flatten(),
        ])?;
    Ok(found == 1)
}

/// Connects (`Some`) or disconnects (`None`) the restaurant's WhatsApp account; the token comes
/// sealed.
pub fn set_whatsapp_account(
    conn: &Connection,
    id: &str,
    account: Option<(&str, &Sealed)>,
) -> rusqlite::Result<bool> {
    let (phone_number_id, token) = account.unzip();
    let found = conn
        .prepare_cached(
            "UPDATE restaurants SET wa_phone_number_id = ?2, wa_access_token_sealed = ?3,
                    wa_access_token = NULL
             WHERE id = ?1",
        )?
        .execute(params![id, phone_number_id, token.map(|t| &t.0)])?;
    Ok(found == 1)
}

/// Every sealed access token, by restaurant: what `key rotate` re-seals and the start-up
/// checks with the key.
pub fn sealed_tokens(conn: &Connection) -> rusqlite::Result<Vec<(String, String, Sealed)>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, wa_access_token_sealed FROM restaurants
         WHERE wa_access_token_sealed IS NOT NULL ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, Sealed(r.get(2)?))))?;
    rows.collect()
}

/// Replaces a restaurant's sealed token (a rotation's re-seal).
pub fn reseal_token(conn: &Connection, id: &str, token: &Sealed) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE restaurants SET wa_access_token_sealed = ?2 WHERE id = ?1")?
        .execute(params![id, token.0])?;
    Ok(())
}

/// Access tokens stored in plaintext by a release before tokens were sealed, by restaurant.
pub fn plaintext_tokens(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn
        .prepare("SELECT id, wa_access_token FROM restaurants WHERE wa_access_token IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Puts a sealed token in place of the plaintext one. The write connection overwrites what it
/// frees (`secure_delete`), so the plaintext leaves the page, not only the row.
pub fn replace_plaintext_token(
    conn: &Connection,
    id: &str,
    token: &Sealed,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE restaurants SET wa_access_token_sealed = ?2, wa_access_token = NULL WHERE id = ?1",
    )?
    .execute(params![id, token.0])?;
    Ok(())
}

/// Takes `cents` from a kept balance; false (and nothing taken) when the balance is short.
/// An unlimited balance always succeeds.
pub fn debit_balance(conn: &Connection, id: &str, cents: i64) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE restaurants SET balance_cents = balance_cents - ?2
         WHERE id = ?1 AND (balance_cents IS NULL OR balance_cents >= ?2)",
        )?
        .execute(params![id, cents])?;
    Ok(changed == 1)
}

/// Charges a message that turned out to have left after its debit was given back (WhatsApp's
/// status proved it); a balance too low for it goes to zero, never below.
pub fn charge_balance(conn: &Connection, id: &str, cents: i64) -> rusqlite::Result<()> {
    if cents > 0 {
        conn.prepare_cached(
            "UPDATE restaurants SET balance_cents = max(0, balance_cents - ?2)
             WHERE id = ?1 AND balance_cents IS NOT NULL",
        )?
        .execute(params![id, cents])?;
    }
    Ok(())
}

/// Gives back what a claim debited; an unlimited balance stays unlimited.
pub fn credit_balance(conn: &Connection, id: &str, cents: i64) -> rusqlite::Result<()> {
    if cents > 0 {
        conn.prepare_cached(
            "UPDATE restaurants SET balance_cents = balance_cents + ?2
             WHERE id = ?1 AND balance_cents IS NOT NULL",
        )?
        .execute(params![id, cents])?;
    }
    Ok(())
}

/// Every table whose rows belong to a restaurant, in an order they can be deleted in (a row
/// before the rows it references), each with the name of one of its rows.
pub const SCOPED_TABLES: [(&str, &str); 6] = [
    ("calls", "call"),
    ("reservations", "reservation"),
    ("customers", "customer"),
    ("templates", "template"),
    ("partner_tokens", "token"),
    ("users", "console user"),
];

/// How many rows of each table of `SCOPED_TABLES` belong to the restaurant, in that order, as
/// `(row name, count)`.
pub fn count_scoped_rows(
    conn: &Connection,
    id: &str,
) -> rusqlite::Result<Vec<(&'static str, i64)>> {
    SCOPED_TABLES
        .iter()
        .map(|(table, row)| {
            let count = conn
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM {table} WHERE restaurant_id = ?1"
                ))?
                .query_row([id], |r| r.get(0))?;
            Ok((*row, count))
        })
        .collect()
}

/// Deletes at most `limit` of the restaurant's rows of `table` (one of `SCOPED_TABLES`); returns
/// how many went.
pub fn delete_scoped_rows(
    conn: &Connection,
    table: &str,
    id: &str,
    limit: i64,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(&format!(
        "DELETE FROM {table} WHERE rowid IN
             (SELECT rowid FROM {table} WHERE restaurant_id = ?1 LIMIT ?2)"
    ))?
    .execute(params![id, limit])
}

/// Deletes the restaurant and every row scoped to it; returns how many rows of each table went,
/// as `count_scoped_rows` does, or `None` when there is no such restaurant. The caller's
/// transaction makes it all or nothing.
pub fn delete_restaurant(
    conn: &Connection,
    id: &str,
) -> rusqlite::Result<Option<Vec<(&'static str, i64)>>> {
    if find_restaurant(conn, id)?.is_none() {
        return Ok(None);
    }
    // A console user of this restaurant goes with it; its sessions first.
    conn.prepare_cached(
        "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE restaurant_id = ?1)",
    )?
    .execute([id])?;
    let mut deleted = Vec::with_capacity(SCOPED_TABLES.len());
    for (table, row) in SCOPED_TABLES {
        let count = conn
            .prepare_cached(&format!("DELETE FROM {table} WHERE restaurant_id = ?1"))?
            .execute([id])?;
        deleted.push((row, i64::try_from(count).unwrap_or(i64::MAX)));
    }
    conn.prepare_cached("DELETE FROM restaurants WHERE id = ?1")?
        .execute([id])?;
    Ok(Some(deleted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_with_a_restaurant_id_is_deleted_with_its_restaurant() {
        let mut conn = Connection::open_in_memory().expect("memory");
        crate::db::migrate(&mut conn).expect("migrate");
        let mut stmt = conn
            .prepare(
                "SELECT m.name FROM sqlite_schema m, pragma_table_info(m.name) c
                 WHERE m.type = 'table' AND c.name = 'restaurant_id' ORDER BY m.name",
            )
            .expect("query");
        let scoped: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("names");

        let mut listed: Vec<&str> = SCOPED_TABLES.iter().map(|(t, _)| *t).collect();
        listed.sort_unstable();
        assert_eq!(scoped, listed);
    }
}
