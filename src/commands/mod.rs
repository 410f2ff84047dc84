//! Runs a parsed admin command: opens the database (never creating it but for `migrate`), runs
//! the command in one transaction, and prints what it gathered (`serve` and `demo` are in
//! `server`).

mod backup;
mod calls;
mod forget;
mod guests;
mod key;
mod restaurants;
mod setup;
mod users;
mod whatsapp;

use std::io::Write;

use rusqlite::{Connection, TransactionBehavior};

use serde_json::Value;

use crate::cli::AdminError;
use crate::cli::{Command, CustomerCommand, KeyCommand, ReservationCommand, RestaurantCommand};
use crate::config::Config;
use crate::db::{self, Access};

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

impl From<db::OpenError> for CommandError {
    fn from(e: db::OpenError) -> Self {
        // Run in the folder where the demo ran, with no --db: the demo's database is most
        // likely the one meant, and "ringback migrate" would make an empty one beside it.
        let demo = crate::demo::DEMO_DB;
        let hint = match &e {
            db::OpenError::Missing(path)
                if path.as_str() != demo && std::path::Path::new(demo).is_file() =>
            {
                format!("; the demo's database is in this folder: pass --db {demo}")
            }
            _ => String::new(),
        };
        fail(format!("{e}{hint}"))
    }
}

impl From<rusqlite::Error> for CommandError {
    fn from(e: rusqlite::Error) -> Self {
        AdminError::from(e).into()
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        fail(e.to_string())
    }
}

pub fn fail(message: impl Into<String>) -> CommandError {
    CommandError {
        exit_code: 1,
        message: message.into(),
    }
}

/// What a command prints, gathered while it runs and written once its transaction has ended:
/// a reader that stops reading (`ringback calls list | less`) must not hold the database.
#[derive(Debug, Default)]
pub(crate) struct Printed {
    /// stdout: the new id of a creation, or a listing; nothing for a change.
    pub out: Vec<u8>,
    /// stderr: what a change did, one line each.
    said: Vec<String>,
}

impl Printed {
    /// Says on stderr what the command did.
    pub fn say(&mut self, line: impl Into<String>) {
        self.said.push(line.into());
    }

    fn write(self) -> Result<(), CommandError> {
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(&self.out).and_then(|()| stdout.flush()) {
            // The reader went away (`| head`): what it read is all it wanted.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
        for line in self.said {
            eprintln!("{line}");
        }
        Ok(())
    }
}

/// Runs an admin command (anything but `serve` and `demo`) against the configured database.
///
/// Only `migrate` creates the database; every other command needs one already there. A command
/// that only reads opens it read-only: it takes no write lock and does not migrate. A command
/// that writes is one transaction, taken for writing from the start so that a running server's
/// writer and the command queue behind each other instead of failing. Imports commit in chunks
/// instead (see `cli::import`), so that a server keeps answering reports during a long one.
pub fn run_admin(command: Command, config: &Config) -> Result<(), CommandError> {
    let path = &config.database.path;
    let mut printed = Printed::default();
    match command {
        Command::Migrate => {
            let mut conn = db::open_write_connection(path)?;
            let applied = db::migrate(&mut conn)?;
            let version = db::schema_version(&conn)?;
            printed.say(format!(
                "database {} at schema version {version} ({} applied)",
                path.display(),
                count(applied as i64, "migration")
            ));
            let sealing = db::sealing::prepare(&mut conn, &config.database)?;
            say_sealing(&sealing, &mut printed);
        }
        Command::Key(KeyCommand::Rotate) => key::rotate(config, &mut printed)?,
        Command::Whatsapp(c) => whatsapp::check(c, config, &mut printed)?,
        // These manage their own connections: a copy, a swap, an erasure with its checkpoint.
        Command::Backup { file } => backup::backup(path, &file)?,
        Command::Restore { file } => backup::restore(path, &file)?,
        Command::Customer(CustomerCommand::Forget { restaurant, phone }) => {
            let owns_wal = config.database.replication.owns_wal();
            forget::forget(path, &restaurant, &phone, owns_wal)?;
        }
        // A password is read and hashed before the database is touched.
        Command::User(c) => users::user(path, c, &mut printed)?,
        Command::Serve { .. } | Command::Demo { .. } => {
            return Err(fail("serve and demo are not admin commands"));
        }
        command => {
            // A secret is read (from stdin, maybe) before the database is touched.
            let command = whatsapp::with_access_token(command)?;
            let access = if command.is_read_only() {
                Access::Read
            } else {
                Access::Write
            };
            if access == Access::Write {
                // Loaded before the write lock is taken: a command that parses a number must
                // not hold a running server's writer for as long as the metadata takes to load.
                crate::phone::warm_up();
            }
            let mut conn = db::open_existing(path, access)?;
            // Imports and a restaurant's removal commit in chunks: a running server waits for
            // the write lock no longer than one of them.
            let commits_in_chunks = matches!(
                &command,
                Command::Customer(CustomerCommand::Import { .. })
                    | Command::Reservation(ReservationCommand::Import { .. })
                    | Command::Restaurant(RestaurantCommand::Remove { yes: true, .. })
            );
            if commits_in_chunks {
                // Chunks already committed stay: what was said about them is printed even when
                // a later chunk fails.
                if let Err(e) = run_command(&conn, command, config, &mut printed) {
                    printed.write()?;
                    return Err(e);
                }
            } else {
                let behaviour = match access {
                    Access::Read => TransactionBehavior::Deferred,
                    Access::Write => TransactionBehavior::Immediate,
                };
                let tx = conn.transaction_with_behavior(behaviour)?;
                run_command(&tx, command, config, &mut printed)?;
                tx.commit()?;
            }
        }
    }
    printed.write()
}

fn run_command(
    conn: &Connection,
    command: Command,
    config: &Config,
    p: &mut Printed,
) -> Result<(), CommandError> {
    match command {
        Command::Restaurant(c) => restaurants::restaurant(conn, c, config, p),
        Command::Token(c) => setup::token(conn, c, p),
        Command::Template(c) => setup::template(conn, c, p),
        Command::Customer(c) => guests::customer(conn, c, p),
        Command::Reservation(c) => {
            guests::reservation(conn, c, config.missed_calls.conversion_window_days, p)
        }
        Command::Calls(c) => calls::calls(conn, c, p),
        Command::Migrate
        | Command::Key(_)
        | Command::Whatsapp(_)
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::User(_)
        | Command::Serve { .. }
        | Command::Demo { .. } => Err(fail("not a command that runs in a transaction")),
    }
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

pub(crate) fn print_json(out: &mut impl Write, value: Value) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}

/// A list as text: its header row, then one line per row, columns aligned by two spaces (the
/// last one left ragged, as it often holds free text).
pub(crate) fn write_table(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let lines = std::iter::once(&header).chain(rows);
    let columns = header.len();
    let mut widths = vec![0; columns];
    for line in lines.clone() {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for line in lines {
        let mut text = String::new();
        for (i, cell) in line.iter().enumerate() {
            if i + 1 == columns {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        writeln!(out, "{}", text.trim_end())?;
    }
    Ok(())
}

/// `1 token`, `2 tokens`.
pub(crate) fn count(n: i64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
