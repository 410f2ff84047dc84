//! `restaurant list`: every restaurant, as a table or as JSON.

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::cli::error::{AdminError, CommandError};
use crate::cli::output::{JsonFlag, Printed, count, print_json, write_table};
use crate::config::Config;
use crate::db::restaurants::{self as table, Restaurant};
use crate::time::format_utc;
use crate::vault::Vault;

pub(super) fn list(
    conn: &Connection,
    json: JsonFlag,
    config: &Config,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let list = list_restaurants(conn)?;
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
                .map(|(r, w)| restaurant_json(r, *w == "on"))
                .collect(),
        )?;
    } else {
        print_table(&list, &whatsapp, p)?;
    }
    for (id, problem) in problems {
        p.say(format!(
            "restaurant {id}: its WhatsApp access token cannot be decrypted ({problem}); \
             it sends nothing until the right key file is back or the token is set again"
        ));
    }
    Ok(())
}

/// One row a restaurant, under a header, and on stderr how many there are.
fn print_table(
    list: &[Restaurant],
    whatsapp: &[&str],
    p: &mut Printed,
) -> Result<(), CommandError> {
    let rows: Vec<Vec<String>> = list
        .iter()
        .zip(whatsapp)
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
    Ok(())
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
