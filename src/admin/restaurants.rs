//! Restaurants: creation, changes, the WhatsApp account, and their listing.

use rusqlite::{Connection, Transaction, TransactionBehavior};
use serde_json::{Value, json};

use super::{AdminError, failed, require_restaurant, usage};
use crate::db::restaurants::{self as table, NewRestaurant, Restaurant, RestaurantChanges};
use crate::phone::{is_known_country, normalise};
use crate::time::{format_utc, zone};
use crate::vault::{SealError, Vault};

/// Codes people write for a country that are not its ISO 3166-1 alpha-2 code.
const NOT_ISO: [(&str, &str); 2] = [("UK", "GB"), ("EL", "GR")];

fn check_country(country: &str) -> Result<String, AdminError> {
    let upper = country.trim().to_ascii_uppercase();
    if upper.len() == 2 && is_known_country(&upper) {
        return Ok(upper);
    }
    let hint = NOT_ISO
        .iter()
        .find(|(common, _)| *common == upper)
        .map(|(_, iso)| format!(": did you mean {iso}?"))
        .unwrap_or_else(|| " (like FR or US)".into());
    Err(usage(format!(
        "{country:?} is not an ISO 3166-1 alpha-2 country code{hint}"
    )))
}

fn check_timezone(timezone: &str) -> Result<(), AdminError> {
    zone(timezone).map(|_| ()).ok_or_else(|| {
        usage(format!(
            "{timezone:?} is not an IANA time zone (like Europe/Paris)"
        ))
    })
}

fn check_url(url: &str) -> Result<(), AdminError> {
    if (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(char::is_whitespace)
    {
        Ok(())
    } else {
        Err(usage(format!("{url:?} is not an http(s) URL")))
    }
}

fn check_name(name: &str) -> Result<(), AdminError> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(usage("the name must be 1 to 200 characters"));
    }
    Ok(())
}

pub fn add_restaurant(
    conn: &Connection,
    name: &str,
    country: &str,
    timezone: &str,
    booking_url: Option<&str>,
) -> Result<String, AdminError> {
    check_name(name)?;
    let country = check_country(country)?;
    check_timezone(timezone)?;
    if let Some(url) = booking_url {
        check_url(url)?;
    }
    Ok(table::insert_restaurant(
        conn,
        &NewRestaurant {
            name: name.trim(),
            country: &country,
            timezone,
            booking_url,
        },
    )?)
}

pub fn update_restaurant(
    conn: &Connection,
    id: &str,
    mut changes: RestaurantChanges,
) -> Result<(), AdminError> {
    if let Some(name) = &changes.name {
        check_name(name)?;
    }
    if let Some(country) = &changes.country {
        changes.country = Some(check_country(country)?);
    }
    if let Some(tz) = &changes.timezone {
        check_timezone(tz)?;
    }
    if let Some(url) = &changes.booking_url {
        check_url(url)?;
    }
    if changes.balance_cents.flatten().is_some_and(|b| b < 0) {
        return Err(usage("the balance cannot be negative"));
    }
    if changes.message_cost_cents.is_some_and(|c| c < 0) {
        return Err(usage("the message cost cannot be negative"));
    }
    if let Some(Some(number)) = &changes.telnyx_number {
        changes.telnyx_number = Some(Some(check_telnyx_number(conn, id, number, &changes)?));
    }
    if !table::update_restaurant(conn, id, &changes)? {
        return Err(failed(format!("no restaurant with id {id}")));
    }
    Ok(())
}

/// A Telnyx number in E.164 (read with the restaurant's country), held by no other restaurant:
/// a call's restaurant is the one whose number it rang.
fn check_telnyx_number(
    conn: &Connection,
    id: &str,
    number: &str,
    changes: &RestaurantChanges,
) -> Result<String, AdminError> {
    let restaurant = require_restaurant(conn, id)?;
    let country = changes.country.as_deref().unwrap_or(&restaurant.country);
    let e164 = normalise(number, country).map_err(|_| {
        usage(format!(
            "--telnyx-number {number} is not a valid phone number for {country}"
        ))
    })?;
    match crate::db::telnyx::restaurant_by_number(conn, e164.as_str())? {
        Some(holder) if holder != id => Err(failed(format!(
            "the Telnyx number {e164} is already tied to restaurant {holder}"
        ))),
        _ => Ok(e164.as_str().to_string()),
    }
}

/// Connects the restaurant's WhatsApp Business number, or (`None`) disconnects it. The access
/// token is sealed with the vault's key before it reaches the database (SPEC §8.2).
pub fn set_whatsapp(
    conn: &Connection,
    id: &str,
    account: Option<(&str, &str)>,
    vault: &Vault,
) -> Result<(), AdminError> {
    if let Some((phone_number_id, token)) = account {
        // Meta's ids are digits; anything else would end up inside the Cloud API's URL path.
        if phone_number_id.is_empty() || !phone_number_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(usage(
                "--phone-number-id is the number's id from WhatsApp Manager: digits only, like 106540352242922",
            ));
        }
        check_access_token(token)?;
    }
    require_restaurant(conn, id)?;
    let sealed = match account {
        Some((phone_number_id, token)) => {
            let sealed = vault.seal(id, token).map_err(|e| match e {
                SealError::Key(problem) => failed(format!(
                    "the access token was not stored: {problem}. Restore the key file from where \
                     this box's credentials are kept; if it is lost, `ringback migrate` creates \
                     a new one, and every restaurant's access token must then be set again"
                )),
                SealError::TooLong => usage("the access token is too long"),
            })?;
            Some((phone_number_id, sealed))
        }
        None => None,
    };
    table::set_whatsapp_account(conn, id, sealed.as_ref().map(|(n, t)| (*n, t)))?;
    Ok(())
}

/// A Meta access token is one run of visible ASCII characters; anything else is a placeholder
/// copied from a guide (`EAAG…`) or a paste gone wrong, which WhatsApp would refuse at the first
/// missed call.
fn check_access_token(token: &str) -> Result<(), AdminError> {
    if token.is_empty() {
        return Err(usage("the access token is empty"));
    }
    if token.contains('…') || token.contains("...") {
        return Err(usage(
            "the access token contains \"…\": it looks like a placeholder, not a token",
        ));
    }
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(usage(
            "the access token contains spaces or characters a Meta token never has",
        ));
    }
    Ok(())
}

/// What removing a restaurant takes with it: `(row name, count)` per scoped table.
pub type ScopedRows = Vec<(&'static str, i64)>;

/// What `restaurant remove` would delete, without deleting it.
pub fn removal_of(conn: &Connection, id: &str) -> Result<(Restaurant, ScopedRows), AdminError> {
    let restaurant = require_restaurant(conn, id)?;
    Ok((restaurant, table::count_scoped_rows(conn, id)?))
}

/// Rows deleted per transaction while a restaurant is removed: a running server's writer waits
/// for the write lock at most that long (SPEC §6.4), whatever the restaurant's size.
const REMOVAL_CHUNK: i64 = 2_000;

/// The tables a restaurant may hold hundreds of thousands of rows of, deleted chunk by chunk
/// (in this order, each before what it refers to); the rest go in the last transaction.
const BULKY: [&str; 3] = ["calls", "reservations", "customers"];

/// Deletes the restaurant and everything scoped to it. `conn` must not be inside a transaction:
/// its rows go in short transactions of their own, table by table, then what is left and the
/// restaurant itself in a last one. Interrupted, it leaves the restaurant with fewer rows, and
/// running it again finishes the job.
pub fn remove_restaurant(conn: &Connection, id: &str) -> Result<ScopedRows, AdminError> {
    require_restaurant(conn, id)?;
    let immediate = || Transaction::new_unchecked(conn, TransactionBehavior::Immediate);
    let mut chunked = Vec::with_capacity(BULKY.len());
    for name in BULKY {
        let mut count = 0;
        loop {
            let tx = immediate()?;
            let n = table::delete_scoped_rows(&tx, name, id, REMOVAL_CHUNK)?;
            tx.commit()?;
            count += i64::try_from(n).unwrap_or(i64::MAX);
            if n < REMOVAL_CHUNK as usize {
                break;
            }
        }
        chunked.push((name, count));
    }
    let tx = immediate()?;
    let mut removed = table::delete_restaurant(&tx, id)?
        .ok_or_else(|| failed(format!("no restaurant with id {id}")))?;
    tx.commit()?;
    // The last transaction counted what came in meanwhile; the chunks, the rest.
    for ((name, _), (_, count)) in table::SCOPED_TABLES.iter().zip(removed.iter_mut()) {
        if let Some((_, earlier)) = chunked.iter().find(|(t, _)| t == name) {
            *count += earlier;
        }
    }
    Ok(removed)
}

pub fn list_restaurants(conn: &Connection) -> Result<Vec<Restaurant>, AdminError> {
    Ok(table::list_restaurants(conn)?)
}

/// A restaurant as `--json` shows it; never the access token. `whatsapp`: its account is
/// connected and its token opens with the key file.
pub fn restaurant_json(r: &Restaurant, whatsapp: bool) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "country": r.country,
        "timezone": r.timezone,
        "booking_url": r.booking_url,
        "features": {"missed_calls": r.missed_calls_enabled, "whatsapp": whatsapp},
        "whatsapp_phone_number_id": r.whatsapp.as_ref().map(|w| &w.phone_number_id),
        "telnyx_number": r.telnyx_number,
        "balance_cents": r.balance_cents,
        "message_cost_cents": r.message_cost_cents,
        "created_at": format_utc(r.created_at),
    })
}
