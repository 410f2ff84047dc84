//! `restaurant add` and `update`: a restaurant's settings, each checked before it is written.

use std::io::Write;

use clap::{Args, ValueEnum};
use rusqlite::Connection;

use super::require_restaurant;
use crate::cli::error::{AdminError, CommandError, failed, usage};
use crate::cli::output::Printed;
use crate::db::restaurants::{self as table, NewRestaurant, RestaurantChanges};
use crate::phone::{is_known_country, normalise};
use crate::time::zone;

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The restaurant's name, as messages show it.
    #[arg(long)]
    pub name: String,
    /// ISO 3166-1 alpha-2 country, used to read national phone numbers.
    #[arg(long, value_name = "CC")]
    pub country: String,
    /// IANA time zone, like Europe/Paris.
    #[arg(long, value_name = "IANA_TZ")]
    pub timezone: String,
    /// The restaurant's booking page, for the booking_link template variable.
    #[arg(long, value_name = "URL")]
    pub booking_url: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

/// `--balance CENTS|unlimited`.
#[derive(Debug, Clone, Copy)]
pub enum Balance {
    Unlimited,
    Cents(i64),
}

fn parse_balance(text: &str) -> Result<Balance, String> {
    if text.eq_ignore_ascii_case("unlimited") {
        return Ok(Balance::Unlimited);
    }
    match text.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Balance::Cents(n)),
        _ => Err("expected a whole number of cents (0 or more) or `unlimited`".into()),
    }
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The restaurant's id (rst_…).
    pub id: String,
    /// New name.
    #[arg(long)]
    pub name: Option<String>,
    /// New ISO 3166-1 alpha-2 country.
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// New IANA time zone.
    #[arg(long, value_name = "TZ")]
    pub timezone: Option<String>,
    /// New booking page URL.
    #[arg(long, value_name = "URL")]
    pub booking_url: Option<String>,
    /// Turn the MISSED_CALLS feature on or off.
    #[arg(long, value_enum)]
    pub missed_calls: Option<OnOff>,
    /// WhatsApp balance in cents, or `unlimited`.
    #[arg(long, value_parser = parse_balance, value_name = "CENTS|unlimited")]
    pub balance: Option<Balance>,
    /// Cost of one message in cents.
    #[arg(long, value_name = "CENTS", value_parser = clap::value_parser!(i64).range(0..))]
    pub message_cost: Option<i64>,
    /// The Telnyx number whose incoming calls are this restaurant's, or `none` to untie it.
    #[arg(long, value_name = "+E164|none")]
    pub telnyx_number: Option<String>,
}

pub(super) fn add(conn: &Connection, args: AddArgs, p: &mut Printed) -> Result<(), CommandError> {
    let AddArgs {
        name,
        country,
        timezone,
        booking_url,
    } = args;
    let id = add_restaurant(conn, &name, &country, &timezone, booking_url.as_deref())?;
    writeln!(p.out, "{id}")?;
    p.say(format!(
        "restaurant {id} added: {} ({}, {timezone}); missed-call messages are off",
        name.trim(),
        country.trim().to_ascii_uppercase()
    ));
    Ok(())
}

pub(super) fn update(
    conn: &Connection,
    args: UpdateArgs,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let UpdateArgs {
        id,
        name,
        country,
        timezone,
        booking_url,
        missed_calls,
        balance,
        message_cost,
        telnyx_number,
    } = args;
    let changes = RestaurantChanges {
        name,
        country,
        timezone,
        booking_url,
        missed_calls_enabled: missed_calls.map(|m| matches!(m, OnOff::On)),
        balance_cents: balance.map(|b| match b {
            Balance::Unlimited => None,
            Balance::Cents(c) => Some(c),
        }),
        message_cost_cents: message_cost,
        telnyx_number: telnyx_number.map(|n| (!n.trim().eq_ignore_ascii_case("none")).then_some(n)),
    };
    let said = describe(&changes);
    if said.is_empty() {
        return Err(usage("nothing to change: give at least one flag, like --name").into());
    }
    update_restaurant(conn, &id, changes)?;
    p.say(format!("restaurant {id} updated: {said}"));
    Ok(())
}

/// `name "Chez Nous", missed-call messages on, balance 500 cents`.
fn describe(changes: &RestaurantChanges) -> String {
    let mut said = Vec::new();
    if let Some(name) = &changes.name {
        said.push(format!("name {:?}", name.trim()));
    }
    if let Some(country) = &changes.country {
        said.push(format!("country {}", country.trim().to_ascii_uppercase()));
    }
    if let Some(tz) = &changes.timezone {
        said.push(format!("time zone {tz}"));
    }
    if let Some(url) = &changes.booking_url {
        said.push(format!("booking URL {url}"));
    }
    if let Some(on) = changes.missed_calls_enabled {
        said.push(format!(
            "missed-call messages {}",
            if on { "on" } else { "off" }
        ));
    }
    match changes.balance_cents {
        Some(Some(cents)) => said.push(format!("balance {cents} cents")),
        Some(None) => said.push("balance unlimited".into()),
        None => {}
    }
    if let Some(cents) = changes.message_cost_cents {
        said.push(format!("message cost {cents} cents"));
    }
    match &changes.telnyx_number {
        Some(Some(number)) => said.push(format!("Telnyx number {number}")),
        Some(None) => said.push("no Telnyx number".into()),
        None => {}
    }
    said.join(", ")
}

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
