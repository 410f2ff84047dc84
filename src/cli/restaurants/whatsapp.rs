//! `restaurant whatsapp`: the restaurant's WhatsApp Business number, its access token sealed
//! before it reaches the database.

use rusqlite::Connection;

use super::require_restaurant;
use crate::cli::error::{AdminError, failed, usage};
use crate::db::restaurants as table;
use crate::vault::{SealError, Vault};

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
