//! Runs a parsed admin command: opens the database, runs the command in one transaction, and
//! prints what `admin` returns (`serve` and `demo` are in `server`).

mod backup;
mod forget;
mod guests;
mod setup;

use std::io::Write;

use rusqlite::{Connection, TransactionBehavior};

use serde_json::Value;

use crate::admin::{self, AdminError};
use crate::cli::{CallsCommand, Command, CustomerCommand, ReservationCommand};
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
///
/// A command that writes is one transaction, taken for writing from the start so that a running
/// server's writer and the command queue behind each other instead of failing; a command that
/// only reads takes no write lock. Imports commit in chunks instead (see `admin::import`), so
/// that a server keeps answering reports during a long one.
///
/// What a command prints is gathered first and written once its transaction has ended: a pager
/// that stops reading (`ringback calls list | less`) must not hold the database.
pub fn run_admin(command: Command, config: &Config) -> Result<(), CommandError> {
    let database = &config.database.path;
    // These manage their own connections: a copy, a swap, an erasure with its checkpoint.
    match &command {
        Command::Backup { file } => return backup::backup(database, file),
        Command::Restore { file } => return backup::restore(database, file),
        Command::Customer(CustomerCommand::Forget {
            restaurant, phone, ..
        }) => return forget::forget(database, restaurant, phone),
        _ => {}
    }
    let mut conn = db::open(database)?;
    let mut out = Vec::new();
    let is_import = matches!(
        &command,
        Command::Customer(CustomerCommand::Import { .. })
            | Command::Reservation(ReservationCommand::Import { .. })
    );
    if is_import {
        run_command(&conn, command, &mut out)?;
    } else {
        let behaviour = if command.is_read_only() {
            TransactionBehavior::Deferred
        } else {
            TransactionBehavior::Immediate
        };
        let tx = conn.transaction_with_behavior(behaviour)?;
        run_command(&tx, command, &mut out)?;
        tx.commit()?;
    }
    drop(conn);
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&out).and_then(|()| stdout.flush()) {
        // The reader went away (`| head`): what it read is all it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn run_command(
    conn: &Connection,
    command: Command,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    match command {
        Command::Migrate => {
            writeln!(out, "database schema version {}", db::schema_version(conn)?)?;
        }
        Command::Restaurant(c) => setup::restaurant(conn, c, out)?,
        Command::Token(c) => setup::token(conn, c, out)?,
        Command::Template(c) => setup::template(conn, c, out)?,
        Command::Customer(c) => guests::customer(conn, c, out)?,
        Command::Reservation(c) => guests::reservation(conn, c, out)?,
        Command::Calls(CallsCommand::List {
            restaurant,
            limit,
            json,
        }) => {
            if let Some(id) = &restaurant {
                admin::require_restaurant(conn, id)?;
            }
            let rows = db::calls::list_calls(conn, restaurant.as_deref(), limit)?;
            let views: Vec<CallView> = rows.iter().map(CallView::from_row).collect();
            if json.json {
                print_json(out, serde_json::to_value(&views).unwrap_or_default())?;
            } else {
                for v in views {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        v.id,
                        v.occurred_at,
                        v.caller_phone_number,
                        v.outcome,
                        v.template_type.map_or("-", |t| t.as_str())
                    )?;
                }
            }
        }
        Command::Serve { .. }
        | Command::Demo { .. }
        | Command::Backup { .. }
        | Command::Restore { .. } => {
            return Err(fail("serve and demo are not admin commands"));
        }
    }
    Ok(())
}

/// Refuses a path with no database: only `migrate`, `serve` and `demo` create one.
pub(crate) fn require_database(path: &std::path::Path) -> Result<(), CommandError> {
    if path.is_file() {
        return Ok(());
    }
    Err(fail(format!(
        "no ringback database at {} (run \"ringback migrate\" to create one, or pass --db / --config)",
        path.display()
    )))
}

pub(crate) fn print_json(out: &mut impl Write, value: Value) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}
