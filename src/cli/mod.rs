//! The command line (SPEC §6.2): every command and flag, as clap definitions.

mod calls;
pub mod customers;
mod error;
pub(crate) mod import;
pub mod reservations;
pub mod restaurants;
pub mod templates;
pub mod tokens;
mod users;
mod whatsapp;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use calls::CallsCommand;
pub use customers::CustomerCommand;
pub use error::AdminError;
pub(crate) use error::usage;
pub use reservations::ReservationCommand;
pub use restaurants::{Balance, OnOff, RestaurantCommand};
pub use templates::TemplateCommand;
pub use tokens::TokenCommand;
pub use users::UserCommand;
pub use whatsapp::WhatsappCommand;

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
    Serve {
        /// Address and port; overrides server.listen.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Seed (or reuse) ringback-demo.db with a demo restaurant and serve it with the sandbox
    /// transport: prints its partner token, two ready-to-paste curl commands and the console.
    Demo {
        /// Address and port; overrides server.listen.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
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
    Backup {
        /// Where the copy goes (replaced if it exists); written beside it first, then renamed.
        file: PathBuf,
    },
    /// Replace the database with the backup FILE; refuses while a server uses the database.
    Restore {
        /// The backup to restore; it is checked before anything is replaced.
        file: PathBuf,
    },
    /// The key file that seals the WhatsApp access tokens in the database.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Seal every access token under a new key; the old key file is kept as ringback.key.old.
    /// Safe while the server runs, which takes the new key at its next send.
    Rotate,
}

impl Command {
    /// Commands that only read: they open the database read-only, so they never take its write
    /// lock nor migrate it.
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Command::Restaurant(RestaurantCommand::List(_))
                | Command::Restaurant(RestaurantCommand::Remove { yes: false, .. })
                | Command::Whatsapp(WhatsappCommand::Check { .. })
                | Command::Token(TokenCommand::List { .. })
                | Command::Template(TemplateCommand::List { .. })
                | Command::Customer(CustomerCommand::List { .. })
                | Command::Reservation(ReservationCommand::List { .. })
                | Command::Calls(_)
                | Command::User(UserCommand::List(_))
        )
    }
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print one JSON array, with the API's field names.
    #[arg(long)]
    pub json: bool,
}
