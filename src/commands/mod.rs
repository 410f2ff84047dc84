//! Runs a parsed admin command: opens the database, runs the command in one transaction, and
//! prints what `admin` returns (`serve` and `demo` are in `server`).

mod guests;
mod setup;

use std::io::Write;

use serde_json::Value;

use crate::admin::{self, AdminError};
use crate::cli::{CallsCommand, Command};
use crate::config::Config;
use crate::db;
use crate::views::CallView;

/// How a command failed: the process exits with `exit_code` and `message` on stderr.
#[derive(Debug)]
pub struct CommandError {
    pub exit_code: i32,
    pub message: String,
}

impl From<AdminError> for CommandError {
    fn from(e: AdminError) -> Self {
        let exit_code = if matches!(e, AdminError::Usage(_)) {
            2
        } else {
            1
        };
        CommandError {
            exit_code,
            message: e.to_string(),
        }
    }
}

impl From<db::DbError> for CommandError {
    fn from(e: db::DbError) -> Self {
        AdminError::from(e).into()
    }
}

impl From<rusqlite::Error> for CommandError {
    fn from(e: rusqlite::Error) -> Self {
        AdminError::from(e).into()
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        CommandError {
            exit_code: 1,
            message: e.to_string(),
        }
    }
}

pub fn fail(message: impl Into<String>) -> CommandError {
    CommandError {
        exit_code: 1,
        message: message.into(),
    }
}

/// Runs an admin command (anything but `serve` and `demo`) against the configured database.
pub fn run_admin(command: Command, config: &Config) -> Result<(), CommandError> {
    let mut conn = db::open(&config.database.path)?;
    let mut out = std::io::stdout().lock();
    // One transaction per command: an import is all-or-nothing on a crash, and fast.
    let tx = conn.transaction()?;
    match command {
        Command::Migrate => {
            writeln!(out, "database schema version {}", db::schema_version(&tx)?)?;
        }
        Command::Restaurant(c) => setup::restaurant(&tx, c, &mut out)?,
        Command::Token(c) => setup::token(&tx, c, &mut out)?,
        Command::Template(c) => setup::template(&tx, c, &mut out)?,
        Command::Customer(c) => guests::customer(&tx, c, &mut out)?,
        Command::Reservation(c) => guests::reservation(&tx, c, &mut out)?,
        Command::Calls(CallsCommand::List {
            restaurant,
            limit,
            json,
        }) => {
            if let Some(id) = &restaurant {
                admin::require_restaurant(&tx, id)?;
            }
            let rows = db::calls::list_calls(&tx, restaurant.as_deref(), limit)?;
            let views: Vec<CallView> = rows.iter().map(CallView::from_row).collect();
            if json.json {
                print_json(&mut out, serde_json::to_value(&views).unwrap_or_default())?;
            } else {
                for v in views {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        v.id,
                        v.occurred_at,
                        crate::phone::mask(&v.caller_phone_number),
                        v.outcome,
                        v.template_type.as_deref().unwrap_or("-")
                    )?;
                }
            }
        }
        Command::Serve { .. } | Command::Demo { .. } => {
            return Err(fail("serve and demo are not admin commands"));
        }
    }
    tx.commit()?;
    Ok(())
}

pub(crate) fn print_json(out: &mut impl Write, value: Value) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}
