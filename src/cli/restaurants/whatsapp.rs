//! `restaurant whatsapp`: the restaurant's WhatsApp Business number and its sealed token.

use std::io::Read;

use clap::Args;
use rusqlite::Connection;

use super::{RestaurantCommand, require_restaurant};
use crate::cli::Command;
use crate::cli::error::{AdminError, CommandError, fail, failed, usage};
use crate::cli::output::Printed;
use crate::config::{ACCESS_TOKEN_VAR, Config};
use crate::db::restaurants as table;
use crate::vault::{SealError, Vault};

#[derive(Debug, Args)]
pub struct WhatsappArgs {
    /// The restaurant's id (rst_…).
    pub id: String,
    /// The number's id at Meta (WhatsApp Manager → API Setup), not the phone number.
    #[arg(long, value_name = "ID")]
    pub phone_number_id: Option<String>,
    /// Meta access token; `-` reads it from stdin. Without this flag, RINGBACK_ACCESS_TOKEN.
    #[arg(long, value_name = "TOKEN|-", requires = "phone_number_id")]
    pub access_token: Option<String>,
    /// Disconnect the number: no more messages until it is connected again.
    #[arg(long, conflicts_with_all = ["phone_number_id", "access_token"])]
    pub disable: bool,
}

/// `restaurant whatsapp ID --phone-number-id X` gets its token from `--access-token TOKEN`,
/// from stdin with `--access-token -`, or else from `RINGBACK_ACCESS_TOKEN`, so that a secret
/// never needs the command line (where `ps` and the shell history show it). Every other
/// command is returned as it is.
pub(in crate::cli) fn with_access_token(command: Command) -> Result<Command, CommandError> {
    let Command::Restaurant(RestaurantCommand::Whatsapp(WhatsappArgs {
        id,
        phone_number_id: Some(number),
        access_token,
        disable,
    })) = command
    else {
        return Ok(command);
    };
    let token = match access_token.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| fail(format!("cannot read the access token from stdin: {e}")))?;
            let line = text.strip_suffix('\n').unwrap_or(&text);
            line.strip_suffix('\r').unwrap_or(line).to_string()
        }
        Some(token) => token.to_string(),
        None => std::env::var(ACCESS_TOKEN_VAR).map_err(|_| {
            usage(format!(
                "--phone-number-id needs an access token: --access-token - reads it from \
                 stdin, or set {ACCESS_TOKEN_VAR}"
            ))
        })?,
    };
    Ok(Command::Restaurant(RestaurantCommand::Whatsapp(
        WhatsappArgs {
            id,
            phone_number_id: Some(number),
            access_token: Some(token),
            disable,
        },
    )))
}

pub(super) fn whatsapp(
    conn: &Connection,
    args: WhatsappArgs,
    config: &Config,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let WhatsappArgs {
        id,
        phone_number_id,
        access_token,
        disable: _,
    } = args;
    match phone_number_id {
        Some(number) => {
            let token = access_token.ok_or_else(|| usage("--access-token is missing"))?;
            let vault = Vault::load(&config.database.key_path());
            set_whatsapp(conn, &id, Some((&number, &token)), &vault)?;
            p.say(format!(
                "restaurant {id}: WhatsApp number {number} connected with the access token \
                 given; `ringback whatsapp check --restaurant {id}` tests it"
            ));
        }
        None => {
            let vault = Vault::load(&config.database.key_path());
            set_whatsapp(conn, &id, None, &vault)?;
            p.say(format!("restaurant {id}: WhatsApp disconnected"));
        }
    }
    Ok(())
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
