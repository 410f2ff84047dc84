//! `ringback restaurant …`: the restaurants a box serves, and the lookups every command makes.

mod edit;
mod list;
mod remove;
mod whatsapp;

use clap::Subcommand;
use rusqlite::Connection;

pub use edit::{AddArgs, Balance, OnOff, UpdateArgs, add_restaurant, update_restaurant};
pub use list::{list_restaurants, restaurant_json};
pub use remove::{RemoveArgs, ScopedRows, removal_of, remove_restaurant};
pub use whatsapp::{WhatsappArgs, set_whatsapp};

pub(super) use whatsapp::with_access_token;

use super::error::{AdminError, CommandError, failed, usage};
use super::output::{JsonFlag, Printed};
use crate::config::Config;
use crate::db::restaurants::{Restaurant, find_restaurant};
use crate::phone::{E164, normalise};

#[derive(Debug, Subcommand)]
pub enum RestaurantCommand {
    /// Add a restaurant; prints its id.
    Add(AddArgs),
    /// Change a restaurant: only what the flags given say.
    Update(UpdateArgs),
    /// Connect or disconnect the restaurant's WhatsApp Business number.
    #[command(group(clap::ArgGroup::new("mode").required(true).args(["phone_number_id", "disable"])))]
    Whatsapp(WhatsappArgs),
    /// Delete a restaurant and everything it owns (tokens, templates, customers, reservations,
    /// calls).
    Remove(RemoveArgs),
    /// List restaurants.
    List(JsonFlag),
}

pub(super) fn run(
    conn: &Connection,
    c: RestaurantCommand,
    config: &Config,
    p: &mut Printed,
) -> Result<(), CommandError> {
    match c {
        RestaurantCommand::Add(args) => edit::add(conn, args, p),
        RestaurantCommand::Update(args) => edit::update(conn, args, p),
        RestaurantCommand::Whatsapp(args) => whatsapp::whatsapp(conn, args, config, p),
        RestaurantCommand::Remove(args) => remove::remove(conn, args, p),
        RestaurantCommand::List(json) => list::list(conn, json, config, p),
    }
}

/// The restaurant, or a clear error naming the id.
pub fn require_restaurant(conn: &Connection, id: &str) -> Result<Restaurant, AdminError> {
    find_restaurant(conn, id)?.ok_or_else(|| failed(format!("no restaurant with id {id}")))
}

/// A number given on the command line, read like the API reads it (SPEC §4.2).
pub fn phone_for(restaurant: &Restaurant, raw: &str) -> Result<E164, AdminError> {
    normalise(raw, &restaurant.country).map_err(|e| usage(e.to_string()))
}
