//! WhatsApp credentials on the command line: the access token read from stdin or the
//! environment rather than the command line, and `whatsapp check`.

use std::io::{Read, Write};
use std::time::Duration;

use super::{CommandError, Printed, fail};
use crate::cli::restaurants::require_restaurant;
use crate::cli::usage;
use crate::cli::{Command, RestaurantCommand, WhatsappCommand};
use crate::config::{ACCESS_TOKEN_VAR, Config};
use crate::db::{self, Access};
use crate::vault::Vault;
use crate::whatsapp::cloud::Cloud;

/// `restaurant whatsapp ID --phone-number-id X` gets its token from `--access-token TOKEN`,
/// from stdin with `--access-token -`, or else from `RINGBACK_ACCESS_TOKEN`, so that a secret
/// never needs the command line (where `ps` and the shell history show it). Every other
/// command is returned as it is.
pub(super) fn with_access_token(command: Command) -> Result<Command, CommandError> {
    let Command::Restaurant(RestaurantCommand::Whatsapp {
        id,
        phone_number_id: Some(number),
        access_token,
        disable,
    }) = command
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
    Ok(Command::Restaurant(RestaurantCommand::Whatsapp {
        id,
        phone_number_id: Some(number),
        access_token: Some(token),
        disable,
    }))
}

/// `whatsapp check --restaurant ID`: reads the restaurant's number and token, lets go of the
/// database, then asks the Cloud API about the number.
pub(super) fn check(
    c: WhatsappCommand,
    config: &Config,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let WhatsappCommand::Check { restaurant } = c;
    let found = {
        let conn = db::open_existing(&config.database.path, Access::Read)?;
        require_restaurant(&conn, &restaurant)?
    };
    let account = found.whatsapp.ok_or_else(|| {
        fail(format!(
            "restaurant {restaurant} has no WhatsApp number connected \
             (ringback restaurant whatsapp {restaurant} --phone-number-id ID --access-token -)"
        ))
    })?;
    let vault = Vault::load(&config.database.key_path());
    let access_token = vault
        .open(&found.id, &account.access_token)
        .map_err(|problem| {
            fail(format!(
                "restaurant {restaurant}: {}; it sends nothing until the right key file is back \
                 or the token is set again (ringback restaurant whatsapp {restaurant} \
                 --phone-number-id ID --access-token -)",
                crate::views::sealed_token_reason(&problem.to_string())
            ))
        })?;
    let cloud = Cloud::new(
        &config.whatsapp.api_base,
        Duration::from_millis(config.whatsapp.timeout_ms),
    );
    let number = cloud
        .phone_number(&account.phone_number_id, &access_token)
        .map_err(|e| {
            fail(format!(
                "WhatsApp number {} of restaurant {restaurant}: {e}",
                account.phone_number_id
            ))
        })?;
    writeln!(
        p.out,
        "display_phone_number\t{}",
        number.display_phone_number
    )?;
    writeln!(p.out, "verified_name\t{}", number.verified_name)?;
    writeln!(p.out, "quality_rating\t{}", number.quality_rating)?;
    Ok(())
}
