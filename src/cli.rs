//! The command line (SPEC §6.2): every command and flag, as clap definitions.

mod calls;
mod setup;
mod users;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use calls::CallsCommand;
pub use setup::{
    Balance, OnOff, RestaurantCommand, TemplateCommand, TemplateStatus, TokenCommand,
    WhatsappCommand,
};
pub use users::UserCommand;

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

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Add a customer (or rename the one with this number); prints its id.
    Add {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The phone number, E.164 or national (read with the restaurant's country).
        #[arg(long)]
        phone: String,
        /// The customer's name, for the customer_name template variable.
        #[arg(long)]
        name: Option<String>,
    },
    /// Import customers from a CSV file with a `phone,name` header.
    Import {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The CSV file to read.
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
    },
    /// Stop all messages to a number.
    Suppress {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The phone number, E.164 or national (read with the restaurant's country).
        #[arg(long)]
        phone: String,
    },
    /// Allow messages to a number again.
    Unsuppress {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The phone number, E.164 or national (read with the restaurant's country).
        #[arg(long)]
        phone: String,
    },
    /// Erase a customer's name and number everywhere (calls keep their outcome and time).
    Forget {
        /// The restaurant's id (rst_…).
        #[arg(long)]
        restaurant: String,
        /// The customer's phone number, in any format the restaurant's country reads.
        #[arg(long)]
        phone: String,
    },
    /// List the restaurant's customers.
    List {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReservationCommand {
    /// Add a reservation; prints its id.
    Add {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The phone number, E.164 or national (read with the restaurant's country).
        #[arg(long)]
        phone: String,
        /// RFC 3339, or the restaurant's local time without an offset.
        #[arg(long, value_name = "DATETIME")]
        start: String,
        /// How many guests.
        #[arg(long, value_name = "N")]
        party_size: i64,
        /// The reservation's status, like CONFIRMED or PENDING.
        #[arg(long, default_value = crate::bookings::rules::DEFAULT_STATUS)]
        status: String,
        /// The guest's name; sets the customer's name.
        #[arg(long)]
        name: Option<String>,
        /// The booking system's id for it, unique per restaurant.
        #[arg(long, value_name = "X")]
        external_id: Option<String>,
    },
    /// Import reservations from a CSV file with an
    /// `external_id,phone,name,start,party_size,status` header.
    Import {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// The CSV file to read.
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
    },
    /// Change a reservation's status.
    Update {
        /// The reservation's id (res_…).
        id: String,
        /// The new status, like CANCELED or SHOWED_UP.
        #[arg(long)]
        status: String,
    },
    /// List the restaurant's reservations.
    List {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}
