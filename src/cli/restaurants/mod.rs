//! `ringback restaurant …`: the restaurants a box serves, and the lookups every other command
//! makes through them.

mod edit;
mod list;
mod remove;
mod whatsapp;

use clap::{Subcommand, ValueEnum};

pub use edit::{add_restaurant, update_restaurant};
pub use list::{list_restaurants, restaurant_json};
pub use remove::{ScopedRows, removal_of, remove_restaurant};
pub use whatsapp::set_whatsapp;

use super::JsonFlag;
use crate::cli::error::{AdminError, failed, usage};
use crate::db::restaurants::{Restaurant, find_restaurant};
use crate::phone::{E164, normalise};

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

#[derive(Debug, Subcommand)]
pub enum RestaurantCommand {
    /// Add a restaurant; prints its id.
    Add {
        /// The restaurant's name, as messages show it.
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2 country, used to read national phone numbers.
        #[arg(long, value_name = "CC")]
        country: String,
        /// IANA time zone, like Europe/Paris.
        #[arg(long, value_name = "IANA_TZ")]
        timezone: String,
        /// The restaurant's booking page, for the booking_link template variable.
        #[arg(long, value_name = "URL")]
        booking_url: Option<String>,
    },
    /// Change a restaurant: only what the flags given say.
    Update {
        /// The restaurant's id (rst_…).
        id: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New ISO 3166-1 alpha-2 country.
        #[arg(long, value_name = "CC")]
        country: Option<String>,
        /// New IANA time zone.
        #[arg(long, value_name = "TZ")]
        timezone: Option<String>,
        /// New booking page URL.
        #[arg(long, value_name = "URL")]
        booking_url: Option<String>,
        /// Turn the MISSED_CALLS feature on or off.
        #[arg(long, value_enum)]
        missed_calls: Option<OnOff>,
        /// WhatsApp balance in cents, or `unlimited`.
        #[arg(long, value_parser = parse_balance, value_name = "CENTS|unlimited")]
        balance: Option<Balance>,
        /// Cost of one message in cents.
        #[arg(long, value_name = "CENTS", value_parser = clap::value_parser!(i64).range(0..))]
        message_cost: Option<i64>,
        /// The Telnyx number whose incoming calls are this restaurant's, or `none` to untie it.
        #[arg(long, value_name = "+E164|none")]
        telnyx_number: Option<String>,
    },
    /// Connect or disconnect the restaurant's WhatsApp Business number.
    #[command(group(clap::ArgGroup::new("mode").required(true).args(["phone_number_id", "disable"])))]
    Whatsapp {
        /// The restaurant's id (rst_…).
        id: String,
        /// The number's id at Meta (WhatsApp Manager → API Setup), not the phone number.
        #[arg(long, value_name = "ID")]
        phone_number_id: Option<String>,
        /// Meta access token; `-` reads it from stdin. Without this flag, RINGBACK_ACCESS_TOKEN.
        #[arg(long, value_name = "TOKEN|-", requires = "phone_number_id")]
        access_token: Option<String>,
        /// Disconnect the number: no more messages until it is connected again.
        #[arg(long, conflicts_with_all = ["phone_number_id", "access_token"])]
        disable: bool,
    },
    /// Delete a restaurant and everything it owns (tokens, templates, customers, reservations,
    /// calls).
    Remove {
        /// The restaurant's id (rst_…).
        id: String,
        /// Really delete; without it, only say what would go.
        #[arg(long)]
        yes: bool,
    },
    /// List restaurants.
    List(JsonFlag),
}

/// The restaurant, or a clear error naming the id.
pub fn require_restaurant(conn: &rusqlite::Connection, id: &str) -> Result<Restaurant, AdminError> {
    find_restaurant(conn, id)?.ok_or_else(|| failed(format!("no restaurant with id {id}")))
}

/// A number given on the command line, read like the API reads it (SPEC §4.2).
pub fn phone_for(restaurant: &Restaurant, raw: &str) -> Result<E164, AdminError> {
    normalise(raw, &restaurant.country).map_err(|e| usage(e.to_string()))
}
