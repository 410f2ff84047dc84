//! `ringback whatsapp check`: a restaurant's WhatsApp number at Meta, asked without a message.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;

use super::error::{CommandError, fail};
use super::output::Printed;
use super::restaurants::require_restaurant;
use crate::config::Config;
use crate::db::{self, Access};
use crate::vault::Vault;
use crate::whatsapp::cloud::Cloud;

#[derive(Debug, Subcommand)]
pub enum WhatsappCommand {
    /// Ask the Cloud API about the restaurant's number: tests its credentials without a message.
    Check {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
    },
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
