//! `restaurant add` and `restaurant update`: a restaurant's name, country, zone, booking page,
//! features, balance and Telnyx number, each checked before it is written.

use rusqlite::Connection;

use super::require_restaurant;
use crate::cli::error::{AdminError, failed, usage};
use crate::db::restaurants::{self as table, NewRestaurant, RestaurantChanges};
use crate::phone::{is_known_country, normalise};
use crate::time::zone;

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
