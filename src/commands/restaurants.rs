//! The restaurant commands: add, update, connect WhatsApp, remove, list.

use std::io::Write;

use rusqlite::Connection;

use super::{CommandError, Printed, count, fail, print_json, write_table};
use crate::cli::restaurants::{self, ScopedRows};
use crate::cli::usage;
use crate::cli::{Balance, OnOff, RestaurantCommand};
use crate::config::Config;
use crate::db::restaurants::RestaurantChanges;
use crate::vault::Vault;

pub(super) fn restaurant(
    conn: &Connection,
    c: RestaurantCommand,
    config: &Config,
    p: &mut Printed,
) -> Result<(), CommandError> {
    match c {
        RestaurantCommand::Add {
            name,
            country,
            timezone,
            booking_url,
        } => {
            let id = restaurants::add_restaurant(
                conn,
                &name,
                &country,
                &timezone,
                booking_url.as_deref(),
            )?;
            writeln!(p.out, "{id}")?;
            p.say(format!(
                "restaurant {id} added: {} ({}, {timezone}); missed-call messages are off",
                name.trim(),
                country.trim().to_ascii_uppercase()
            ));
        }
        RestaurantCommand::Update {
            id,
            name,
            country,
            timezone,
            booking_url,
            missed_calls,
            balance,
            message_cost,
            telnyx_number,
        } => {
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
                telnyx_number: telnyx_number
                    .map(|n| (!n.trim().eq_ignore_ascii_case("none")).then_some(n)),
            };
            let said = describe(&changes);
            if said.is_empty() {
                return Err(usage("nothing to change: give at least one flag, like --name").into());
            }
            restaurants::update_restaurant(conn, &id, changes)?;
            p.say(format!("restaurant {id} updated: {said}"));
        }
        RestaurantCommand::Whatsapp {
            id,
            phone_number_id,
            access_token,
            disable: _,
        } => match phone_number_id {
            Some(number) => {
                let token = access_token.ok_or_else(|| usage("--access-token is missing"))?;
                let vault = Vault::load(&config.database.key_path());
                restaurants::set_whatsapp(conn, &id, Some((&number, &token)), &vault)?;
                p.say(format!(
                    "restaurant {id}: WhatsApp number {number} connected with the access token \
                     given; `ringback whatsapp check --restaurant {id}` tests it"
                ));
            }
            None => {
                let vault = Vault::load(&config.database.key_path());
                restaurants::set_whatsapp(conn, &id, None, &vault)?;
                p.say(format!("restaurant {id}: WhatsApp disconnected"));
            }
        },
        RestaurantCommand::Remove { id, yes: true } => {
            let rows = restaurants::remove_restaurant(conn, &id)?;
            p.say(format!(
                "restaurant {id} removed, with {}",
                describe_rows(&rows)
            ));
        }
        RestaurantCommand::Remove { id, yes: false } => {
            let (restaurant, rows) = restaurants::removal_of(conn, &id)?;
            return Err(fail(format!(
                "restaurant {id} was not removed: pass --yes to delete {} and its {}",
                restaurant.name,
                describe_rows(&rows)
            )));
        }
        RestaurantCommand::List(json) => {
            let list = restaurants::list_restaurants(conn)?;
            let vault = Vault::load(&config.database.key_path());
            // A token the key file cannot open is no WhatsApp integration (SPEC §8.2): the list
            // says so, and why, rather than "on".
            let mut problems = Vec::new();
            let whatsapp: Vec<&str> = list
                .iter()
                .map(|r| match &r.whatsapp {
                    None => "off",
                    Some(account) => match vault.open(&r.id, &account.access_token) {
                        Ok(_) => "on",
                        Err(problem) => {
                            problems.push((r.id.clone(), problem));
                            "unreadable"
                        }
                    },
                })
                .collect();
            if json.json {
                print_json(
                    &mut p.out,
                    list.iter()
                        .zip(&whatsapp)
                        .map(|(r, w)| restaurants::restaurant_json(r, *w == "on"))
                        .collect(),
                )?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .zip(&whatsapp)
                    .map(|(r, whatsapp)| {
                        vec![
                            r.id.clone(),
                            r.name.clone(),
                            r.country.clone(),
                            r.timezone.clone(),
                            if r.missed_calls_enabled { "on" } else { "off" }.to_string(),
                            whatsapp.to_string(),
                        ]
                    })
                    .collect();
                write_table(
                    &mut p.out,
                    &[
                        "ID",
                        "NAME",
                        "COUNTRY",
                        "TIMEZONE",
                        "MISSED_CALLS",
                        "WHATSAPP",
                    ],
                    &rows,
                )?;
                p.say(count(list.len() as i64, "restaurant"));
            }
            for (id, problem) in problems {
                p.say(format!(
                    "restaurant {id}: its WhatsApp access token cannot be decrypted ({problem}); \
                     it sends nothing until the right key file is back or the token is set again"
                ));
            }
        }
    }
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

/// `3 calls, 1 reservation, 2 customers, 2 templates and 1 token`.
fn describe_rows(rows: &ScopedRows) -> String {
    let mut parts: Vec<String> = rows.iter().map(|(row, n)| count(*n, row)).collect();
    let last = parts.pop().unwrap_or_default();
    if parts.is_empty() {
        last
    } else {
        format!("{} and {last}", parts.join(", "))
    }
}
