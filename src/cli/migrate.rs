//! `ringback migrate`: the database created or brought to this version's schema, and its key.

use super::error::CommandError;
use super::output::{Printed, count};
use crate::config::Config;
use crate::db;

/// The only command that creates the database.
pub(super) fn migrate(config: &Config, printed: &mut Printed) -> Result<(), CommandError> {
    let path = &config.database.path;
    let mut conn = db::open_write_connection(path)?;
    let applied = db::migrate(&mut conn)?;
    let version = db::schema_version(&conn)?;
    printed.say(format!(
        "database {} at schema version {version} ({} applied)",
        path.display(),
        count(applied as i64, "migration")
    ));
    let sealing = db::sealing::prepare(&mut conn, &config.database)?;
    say_sealing(&sealing, printed);
    Ok(())
}

/// What `migrate` says of the key file: created, tokens sealed, tokens that do not open.
fn say_sealing(sealing: &db::sealing::Sealing, printed: &mut Printed) {
    let key_file = sealing.vault.path().display();
    if sealing.created {
        printed.say(format!(
            "key file {key_file} created: it seals the WhatsApp access tokens; keep a copy with \
             this box's other credentials, never beside its backups"
        ));
    }
    if let Some(e) = &sealing.create_failed {
        printed.say(format!("cannot create the key file {key_file}: {e}"));
    }
    if sealing.sealed > 0 {
        printed.say(format!(
            "{} stored in plaintext by an earlier release now sealed with {key_file}",
            count(sealing.sealed as i64, "access token")
        ));
    }
    if let Some(problem) = &sealing.problem {
        printed.say(format!(
            "{problem}; restaurants whose access token cannot be decrypted send nothing: {}",
            if sealing.unreadable.is_empty() {
                "none yet".to_string()
            } else {
                sealing.affected()
            }
        ));
    }
}
