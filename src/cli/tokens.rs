//! `ringback token …`: partner tokens, their plaintext shown once, listed without secrets.

use std::io::Write;

use clap::Subcommand;
use rusqlite::Connection;
use serde_json::{Value, json};

use super::error::{AdminError, CommandError, failed};
use super::output::{JsonFlag, Printed, count, print_json, write_table};
use super::restaurants::require_restaurant;
use crate::auth::{generate_token, hash_token};
use crate::db::tokens::{self as table, TokenInfo};
use crate::time::format_utc;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a partner token; prints the token, which is shown only this once.
    Create {
        /// The restaurant the token reports for (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// A label, like the PBX it is for.
        #[arg(long, value_name = "LABEL")]
        name: Option<String>,
    },
    /// List tokens (never their secret).
    List {
        /// Only this restaurant's tokens.
        #[arg(long, value_name = "ID")]
        restaurant: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Revoke a token by its id: its reports are refused from then on.
    Revoke {
        /// The token's id (tok_…), as `token list` shows it.
        token_id: String,
    },
}

pub(super) fn run(conn: &Connection, c: TokenCommand, p: &mut Printed) -> Result<(), CommandError> {
    match c {
        TokenCommand::Create { restaurant, name } => create(conn, &restaurant, name, p),
        TokenCommand::List { restaurant, json } => list(conn, restaurant, json, p),
        TokenCommand::Revoke { token_id } => revoke(conn, &token_id, p),
    }
}

fn create(
    conn: &Connection,
    restaurant: &str,
    name: Option<String>,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let (id, token) = create_token(conn, restaurant, name.as_deref())?;
    writeln!(p.out, "{token}")?;
    p.say(format!(
        "token {id} created for restaurant {restaurant}; it is shown only this once"
    ));
    Ok(())
}

fn list(
    conn: &Connection,
    restaurant: Option<String>,
    json: JsonFlag,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let list = list_tokens(conn, restaurant.as_deref())?;
    if json.json {
        print_json(&mut p.out, list.iter().map(token_json).collect())?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.restaurant_id.clone(),
                t.name.clone().unwrap_or_else(|| "-".into()),
                format_utc(t.created_at),
                // Minute-grained: written at most once a minute (SPEC §6.2).
                t.last_used_at.map_or_else(|| "never".into(), format_utc),
                t.revoked_at.map_or_else(
                    || "active".to_string(),
                    |at| format!("revoked {}", format_utc(at)),
                ),
            ]
        })
        .collect();
    write_table(
        &mut p.out,
        &[
            "ID",
            "RESTAURANT",
            "NAME",
            "CREATED_AT",
            "LAST_USED_AT",
            "STATE",
        ],
        &rows,
    )?;
    p.say(count(list.len() as i64, "token"));
    Ok(())
}

fn revoke(conn: &Connection, token_id: &str, p: &mut Printed) -> Result<(), CommandError> {
    match revoke_token(conn, token_id)? {
        Revoked::Now => p.say(format!(
            "token {token_id} revoked: its reports are refused from now on"
        )),
        Revoked::Already(at) => p.say(format!(
            "token {token_id} was already revoked at {}; nothing changed",
            format_utc(at)
        )),
    }
    Ok(())
}

/// Creates a token; returns `(token id, plaintext token)`. Only the hash is stored.
pub fn create_token(
    conn: &Connection,
    restaurant_id: &str,
    name: Option<&str>,
) -> Result<(String, String), AdminError> {
    require_restaurant(conn, restaurant_id)?;
    let token = generate_token();
    let id = table::insert_token(conn, restaurant_id, name, &hash_token(&token))?;
    Ok((id, token))
}

pub fn list_tokens(
    conn: &Connection,
    restaurant_id: Option<&str>,
) -> Result<Vec<TokenInfo>, AdminError> {
    Ok(table::list_tokens(conn, restaurant_id)?)
}

/// What `revoke_token` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Now,
    /// It was revoked before, at this time; nothing changed.
    Already(i64),
}

pub fn revoke_token(conn: &Connection, id: &str) -> Result<Revoked, AdminError> {
    let before =
        table::find_token(conn, id)?.ok_or_else(|| failed(format!("no token with id {id}")))?;
    if let Some(at) = before.revoked_at {
        return Ok(Revoked::Already(at));
    }
    table::revoke_token(conn, id)?;
    Ok(Revoked::Now)
}

pub fn token_json(t: &TokenInfo) -> Value {
    json!({
        "id": t.id,
        "restaurant_id": t.restaurant_id,
        "name": t.name,
        "created_at": format_utc(t.created_at),
        "revoked_at": t.revoked_at.map(format_utc),
        "last_used_at": t.last_used_at.map(format_utc),
    })
}
