//! The key file at start-up (SPEC §8.2): `serve`, `demo` and `migrate` create it when missing,
//! seal the access tokens an earlier release stored in plaintext, and name the restaurants whose
//! token the key does not open.

use rusqlite::Connection;

use super::DbError;
use super::restaurants::{plaintext_tokens, replace_plaintext_token, sealed_tokens};
use crate::config::DatabaseConfig;
use crate::vault::{KeyProblem, Vault};

/// What the start-up found and did; each part is said once, in the log or by `migrate`.
pub struct Sealing {
    pub vault: Vault,
    /// The key file did not exist and was made.
    pub created: bool,
    /// The key file was missing and could not be made.
    pub create_failed: Option<String>,
    /// Plaintext tokens now sealed.
    pub sealed: usize,
    /// Plaintext tokens left as they were, since nothing could seal them: their restaurants.
    pub left_plaintext: Vec<String>,
    /// Restaurants (id, name) whose token does not open, and why.
    pub unreadable: Vec<(String, String)>,
    pub problem: Option<KeyProblem>,
}

/// Prepares the key of `config` for the database behind `conn` (the write connection, before
/// the server serves).
pub fn prepare(conn: &mut Connection, config: &DatabaseConfig) -> Result<Sealing, DbError> {
    let key_path = &config.key_path();
    let owns_wal = config.replication.owns_wal();
    // A credential systemd loads is systemd's to provide, never ours to make.
    let (created, create_failed) = if config.key_is_credential() {
        (false, None)
    } else {
        match Vault::create_if_missing(key_path) {
            Ok(created) => (created, None),
            Err(e) => (false, Some(e.to_string())),
        }
    };
    let vault = Vault::load(key_path);
    let plaintext = plaintext_tokens(conn)?;
    let mut sealed = 0;
    let mut left_plaintext: Vec<String> = plaintext.iter().map(|(id, _)| id.clone()).collect();
    if !plaintext.is_empty() && vault.problem().is_none() {
        let tx = conn.transaction()?;
        for (id, token) in &plaintext {
            if let Ok(token) = vault.seal(id, token) {
                replace_plaintext_token(&tx, id, &token)?;
                sealed += 1;
            }
        }
        tx.commit()?;
        left_plaintext.clear();
        // The rows are sealed, but an earlier release may have left copies of a token in free
        // space (a database from before writes overwrote what they freed, or edited by hand):
        // VACUUM rewrites the database without them, once, at this upgrade.
        conn.execute_batch("VACUUM")?;
        // The old pages, plaintext included, are still in the WAL: copy the new ones into the
        // database and empty it. Under Litestream, which must ship every frame first, only a
        // passive checkpoint; Litestream restarts the WAL itself.
        let mode = if owns_wal { "TRUNCATE" } else { "PASSIVE" };
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))?;
    }
    let mut unreadable = Vec::new();
    let mut problem = vault.problem();
    for (id, name, token) in sealed_tokens(conn)? {
        if let Err(p) = vault.open(&id, &token) {
            problem.get_or_insert(p);
            unreadable.push((id, name));
        }
    }
    Ok(Sealing {
        left_plaintext,
        vault,
        created,
        create_failed,
        sealed,
        unreadable,
        problem,
    })
}

impl Sealing {
    /// Says what the start-up found, through the log.
    pub fn log(&self) {
        let key_file = self.vault.path().display().to_string();
        if self.created {
            tracing::info!(
                key_file = %key_file,
                "created the key file that seals WhatsApp access tokens; keep a copy with this \
                 box's other credentials, never beside its backups"
            );
        }
        if let Some(e) = &self.create_failed {
            tracing::error!(key_file = %key_file, error = %e, "cannot create the key file");
        }
        if self.sealed > 0 {
            tracing::info!(
                key_file = %key_file,
                tokens = self.sealed,
                "access tokens stored in plaintext by an earlier release are now sealed"
            );
        }
        if !self.left_plaintext.is_empty() {
            tracing::error!(
                key_file = %key_file,
                restaurants = %self.left_plaintext.join(", "),
                problem = %self.problem.as_ref().map(ToString::to_string).unwrap_or_default(),
                "access tokens stored in plaintext by an earlier release could not be sealed; \
                 their restaurants send nothing until the key file is usable"
            );
        }
        if !self.unreadable.is_empty() {
            tracing::warn!(
                key_file = %key_file,
                problem = %self.problem.as_ref().map(ToString::to_string).unwrap_or_default(),
                restaurants = %self.affected(),
                "WhatsApp access tokens cannot be decrypted: these restaurants send nothing \
                 (SKIPPED_NO_WHATSAPP) until the right key file is back or their token is set again"
            );
        }
    }

    /// `rst_… (Name), rst_… (Name)`.
    pub fn affected(&self) -> String {
        self.unreadable
            .iter()
            .map(|(id, name)| format!("{id} ({name})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
