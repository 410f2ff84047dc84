//! `ringback key rotate` (SPEC §8.2): every sealed secret re-sealed under a new key.

use std::path::Path;

use clap::Subcommand;
use rusqlite::{Connection, TransactionBehavior};

use super::error::{CommandError, fail};
use super::output::{Printed, count};
use crate::config::Config;
use crate::db::restaurants::{reseal_token, sealed_tokens};
use crate::db::{self, Access};
use crate::vault::{NEW, OLD, Rotation, Sealed, Vault, companion};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Seal every access token under a new key; the old key file is kept as ringback.key.old.
    /// Safe while the server runs, which takes the new key at its next send.
    Rotate,
}

/// The old key is kept as `ringback.key.old`. Each step leaves every secret openable if the
/// command stops there: the new key is written (`.new`) before anything is sealed with it, the
/// re-seal is one transaction, and only then does the new key take the key file's name.
pub(super) fn rotate(config: &Config, p: &mut Printed) -> Result<(), CommandError> {
    let key_path = config.database.key_path();
    let mut conn = db::open_existing(&config.database.path, Access::Write)?;
    let vault = Vault::load(&key_path);
    if let Some(problem) = vault.problem() {
        return Err(fail(format!(
            "{problem}: there is no key to rotate from. Restore the key file from where this \
             box's credentials are kept, or run `ringback migrate` to create a new one (every \
             access token must then be set again)"
        )));
    }
    let rotation = begin(&conn, &key_path)?;
    // Read, opened and re-sealed under the write lock: a token set or removed meanwhile by
    // `restaurant whatsapp` is either seen here or written after, never overwritten.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tokens = sealed_tokens(&tx)?;
    // Every token must open before any is re-sealed: one that does not would be lost for good
    // once its key is no longer kept.
    let (resealed, refused) = reseal(&tokens, &vault, &rotation);
    if !refused.is_empty() {
        drop(tx);
        rotation.abandon();
        return Err(fail(format!(
            "the key was not rotated: these access tokens do not open with {} and would be \
             lost; set them again (ringback restaurant whatsapp ID --phone-number-id ID \
             --access-token -) or disconnect them first: {}",
            key_path.display(),
            refused.join("; ")
        )));
    }
    for (id, sealed) in &resealed {
        reseal_token(&tx, id, sealed)?;
    }
    tx.commit()?;
    rotation.finish().map_err(|e| {
        fail(format!(
            "the access tokens are sealed with the new key, kept in {}, but it could not take \
             the name {}: {e}. Run `ringback key rotate` again",
            companion(&key_path, NEW).display(),
            key_path.display()
        ))
    })?;
    p.say(format!(
        "key rotated: {} sealed with the new key in {}; the previous key is kept in {}. Store \
         the new key with the box's credentials, and keep the previous one there too until \
         every backup and replica made before now has aged out",
        count(resealed.len() as i64, "access token"),
        key_path.display(),
        companion(&key_path, OLD).display()
    ));
    Ok(())
}

/// Writes the new key beside the key file. A rotation stopped before its end is finished first
/// if anything was sealed under its key.
fn begin(conn: &Connection, key_path: &Path) -> Result<Rotation, CommandError> {
    let before = sealed_tokens(conn)?;
    Rotation::begin(key_path, |pending| {
        before
            .iter()
            .any(|(id, _, sealed)| pending.open(id, sealed).is_ok())
    })
    .map_err(|e| {
        fail(format!(
            "the key was not rotated: cannot write the new key beside {}: {e}",
            key_path.display()
        ))
    })
}

/// Each token opened with the current key and sealed with the new one; and each that could not
/// be, as `id (name): why`.
fn reseal<'a>(
    tokens: &'a [(String, String, Sealed)],
    vault: &Vault,
    rotation: &Rotation,
) -> (Vec<(&'a String, Sealed)>, Vec<String>) {
    let mut resealed = Vec::with_capacity(tokens.len());
    let mut refused = Vec::new();
    for (id, name, sealed) in tokens {
        match vault.open(id, sealed) {
            Ok(secret) => match rotation.seal(id, secret.expose()) {
                Ok(new) => resealed.push((id, new)),
                Err(e) => refused.push(format!("{id} ({name}): {e}")),
            },
            Err(problem) => refused.push(format!("{id} ({name}): {problem}")),
        }
    }
    (resealed, refused)
}
