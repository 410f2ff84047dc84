//! The command line (SPEC §6.2): the global flags, every command, and the dispatch that runs it.

pub mod backup;
pub mod calls;
pub mod customers;
pub mod demo;
mod error;
mod import;
pub mod key;
mod migrate;
mod output;
pub mod reservations;
pub mod restaurants;
pub mod restore;
pub mod serve;
pub mod templates;
pub mod tokens;
pub mod users;
pub mod whatsapp;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use rusqlite::{Connection, TransactionBehavior};

pub use error::{AdminError, CommandError, fail};
pub use output::{JsonFlag, RestaurantList};

use backup::BackupArgs;
use calls::CallsCommand;
use customers::CustomerCommand;
use key::KeyCommand;
use output::Printed;
use reservations::ReservationCommand;
use restaurants::{RemoveArgs, RestaurantCommand};
use restore::RestoreArgs;
use serve::ServeArgs;
use templates::TemplateCommand;
use tokens::TokenCommand;
use users::UserCommand;
use whatsapp::WhatsappCommand;

use crate::config::Config;
use crate::db::{self, Access};

#[derive(Debug, Parser)]
#[command(
    name = "ringback",
    version,
    about = "Turns a restaurant's missed calls into a WhatsApp message that brings the caller back"
)]
pub struct Cli {
    /// Configuration file (default: ./ringback.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database file; overrides database.path.
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the partner API, the console, the Telnyx and WhatsApp webhooks, health and metrics.
    Serve(ServeArgs),
    /// Seed (or reuse) ringback-demo.db with a demo restaurant and serve it with the sandbox
    /// transport: prints its partner token, two ready-to-paste curl commands and the console.
    Demo(ServeArgs),
    /// Create the database or bring it to this version's schema.
    Migrate,
    /// Restaurants: add, change, connect WhatsApp, remove, list.
    #[command(subcommand)]
    Restaurant(RestaurantCommand),
    /// The restaurants' WhatsApp numbers at Meta.
    #[command(subcommand)]
    Whatsapp(WhatsappCommand),
    /// Partner tokens, with which a PBX reports missed calls.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The WhatsApp templates a restaurant sends.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// A restaurant's customers, and who gets no messages.
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// A restaurant's reservations.
    #[command(subcommand)]
    Reservation(ReservationCommand),
    /// The call ledger: every reported call and what became of it.
    #[command(subcommand)]
    Calls(CallsCommand),
    /// Who may sign in to the console at /console/.
    #[command(subcommand)]
    User(UserCommand),
    /// Write a consistent, checked copy of the database to FILE, also while the server runs.
    Backup(BackupArgs),
    /// Replace the database with the backup FILE; refuses while a server uses the database.
    Restore(RestoreArgs),
    /// The key file that seals the WhatsApp access tokens in the database.
    #[command(subcommand)]
    Key(KeyCommand),
}

impl Cli {
    /// The configuration as the flags change it: `--db`, `--listen`, and for `demo` its own
    /// database and the sandbox transport.
    pub fn configure(&self, mut config: Config) -> Config {
        if let Some(db) = &self.db {
            config.database.path = db.clone();
            config.set_by_flag("database.path");
        }
        if let Command::Serve(ServeArgs { listen: Some(addr) })
        | Command::Demo(ServeArgs { listen: Some(addr) }) = &self.command
        {
            config.server.listen = addr.clone();
            config.set_by_flag("server.listen");
        }
        if let Command::Demo(_) = &self.command {
            config = demo::demo_config(config, self.db.clone());
        }
        config
    }
}

impl Command {
    /// `serve` and `demo`: a server, whose panics and last word go to its log.
    pub fn is_server(&self) -> bool {
        matches!(self, Command::Serve(_) | Command::Demo(_))
    }

    /// Commands that only read: they open the database read-only, so they never take its write
    /// lock nor migrate it.
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Command::Restaurant(RestaurantCommand::List(_))
                | Command::Restaurant(RestaurantCommand::Remove(RemoveArgs { yes: false, .. }))
                | Command::Whatsapp(WhatsappCommand::Check { .. })
                | Command::Token(TokenCommand::List { .. })
                | Command::Template(TemplateCommand::List(_))
                | Command::Customer(CustomerCommand::List(_))
                | Command::Reservation(ReservationCommand::List(_))
                | Command::Calls(_)
                | Command::User(UserCommand::List(_))
        )
    }
}

/// Runs the command: `serve` and `demo` serve until Ctrl-C or SIGTERM; any other command runs
/// against the configured database.
pub fn run(command: Command, config: Config) -> Result<(), CommandError> {
    match command {
        Command::Serve(_) => serve::serve(config, None),
        Command::Demo(_) => demo::serve_demo(config),
        admin => run_admin(admin, &config),
    }
}

/// Runs an admin command (anything but `serve` and `demo`) against the configured database.
///
/// Only `migrate` creates the database; every other command needs one already there. A command
/// that only reads opens it read-only: it takes no write lock and does not migrate. A command
/// that writes is one transaction, taken for writing from the start so that a running server's
/// writer and the command queue behind each other instead of failing. Imports commit in chunks
/// instead (see `import`), so that a server keeps answering reports during a long one.
fn run_admin(command: Command, config: &Config) -> Result<(), CommandError> {
    let path = &config.database.path;
    let mut printed = Printed::default();
    match command {
        Command::Migrate => migrate::migrate(config, &mut printed)?,
        Command::Key(KeyCommand::Rotate) => key::rotate(config, &mut printed)?,
        Command::Whatsapp(c) => whatsapp::check(c, config, &mut printed)?,
        // These manage their own connections: a copy, a swap, an erasure with its checkpoint.
        Command::Backup(args) => backup::backup(path, &args.file)?,
        Command::Restore(args) => restore::restore(path, &args.file)?,
        Command::Customer(CustomerCommand::Forget { restaurant, phone }) => {
            let owns_wal = config.database.replication.owns_wal();
            customers::forget(path, &restaurant, &phone, owns_wal)?;
        }
        // A password is read and hashed before the database is touched.
        Command::User(c) => users::run(path, c, &mut printed)?,
        Command::Serve(_) | Command::Demo(_) => {
            return Err(fail("serve and demo are not admin commands"));
        }
        command => run_in_database(command, config, &mut printed)?,
    }
    printed.write()
}

/// A command run on a connection of its own: read-only, or one write transaction, or for imports
/// and a restaurant's removal, chunks that each commit.
fn run_in_database(
    command: Command,
    config: &Config,
    printed: &mut Printed,
) -> Result<(), CommandError> {
    // A secret is read (from stdin, maybe) before the database is touched.
    let command = restaurants::with_access_token(command)?;
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
    let mut conn = db::open_existing(&config.database.path, access)?;
    // Imports and a restaurant's removal commit in chunks: a running server waits for
    // the write lock no longer than one of them.
    let commits_in_chunks = matches!(
        &command,
        Command::Customer(CustomerCommand::Import { .. })
            | Command::Reservation(ReservationCommand::Import { .. })
            | Command::Restaurant(RestaurantCommand::Remove(RemoveArgs { yes: true, .. }))
    );
    if commits_in_chunks {
        // Chunks already committed stay: what was said about them is printed even when
        // a later chunk fails.
        if let Err(e) = run_command(&conn, command, config, printed) {
            std::mem::take(printed).write()?;
            return Err(e);
        }
    } else {
        let behaviour = match access {
            Access::Read => TransactionBehavior::Deferred,
            Access::Write => TransactionBehavior::Immediate,
        };
        let tx = conn.transaction_with_behavior(behaviour)?;
        run_command(&tx, command, config, printed)?;
        tx.commit()?;
    }
    Ok(())
}

fn run_command(
    conn: &Connection,
    command: Command,
    config: &Config,
    p: &mut Printed,
) -> Result<(), CommandError> {
    match command {
        Command::Restaurant(c) => restaurants::run(conn, c, config, p),
        Command::Token(c) => tokens::run(conn, c, p),
        Command::Template(c) => templates::run(conn, c, p),
        Command::Customer(c) => customers::run(conn, c, p),
        Command::Reservation(c) => {
            reservations::run(conn, c, config.missed_calls.conversion_window_days, p)
        }
        Command::Calls(c) => calls::run(conn, c, p),
        Command::Migrate
        | Command::Key(_)
        | Command::Whatsapp(_)
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::User(_)
        | Command::Serve(_)
        | Command::Demo(_) => Err(fail("not a command that runs in a transaction")),
    }
}
