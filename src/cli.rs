//! The command line (SPEC §6.2): every command and flag, as clap definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::db::templates::TemplateType;

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
    /// Serve the partner API.
    Serve {
        /// Address and port; overrides server.listen.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Seed ringback-demo.db with a demo restaurant and serve it with the sandbox transport.
    Demo {
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Create the database or bring it to this version's schema.
    Migrate,
    #[command(subcommand)]
    Restaurant(RestaurantCommand),
    #[command(subcommand)]
    Token(TokenCommand),
    #[command(subcommand)]
    Template(TemplateCommand),
    #[command(subcommand)]
    Customer(CustomerCommand),
    #[command(subcommand)]
    Reservation(ReservationCommand),
    #[command(subcommand)]
    Calls(CallsCommand),
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
}

impl Command {
    /// Commands that only read: they never take the database's write lock.
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Command::Restaurant(RestaurantCommand::List(_))
                | Command::Token(TokenCommand::List { .. })
                | Command::Template(TemplateCommand::List { .. })
                | Command::Customer(CustomerCommand::List { .. })
                | Command::Reservation(ReservationCommand::List { .. })
                | Command::Calls(CallsCommand::List { .. })
        )
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

/// `--balance CENTS|unlimited`.
#[derive(Debug, Clone, Copy)]
pub enum Balance {
    Unlimited,
    Cents(i64),
}

fn parse_balance(text: &str) -> Result<Balance, String> {
    if text.eq_ignore_ascii_case("unlimited") {
        return Ok(Balance::Unlimited);
    }
    match text.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Balance::Cents(n)),
        _ => Err("expected a whole number of cents (0 or more) or `unlimited`".into()),
    }
}

fn parse_template_type(text: &str) -> Result<TemplateType, String> {
    text.parse()
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print one JSON array, with the API's field names.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum RestaurantCommand {
    /// Add a restaurant; prints its id.
    Add {
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2 country, used to read national phone numbers.
        #[arg(long)]
        country: String,
        /// IANA time zone, like Europe/Paris.
        #[arg(long)]
        timezone: String,
        #[arg(long)]
        booking_url: Option<String>,
    },
    /// Change a restaurant.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        timezone: Option<String>,
        #[arg(long)]
        booking_url: Option<String>,
        /// Turn the MISSED_CALLS feature on or off.
        #[arg(long, value_enum)]
        missed_calls: Option<OnOff>,
        /// WhatsApp balance in cents, or `unlimited`.
        #[arg(long, value_parser = parse_balance, value_name = "CENTS|unlimited")]
        balance: Option<Balance>,
        /// Cost of one message in cents.
        #[arg(long, value_name = "CENTS", value_parser = clap::value_parser!(i64).range(0..))]
        message_cost: Option<i64>,
    },
    /// Connect or disconnect the restaurant's WhatsApp Business number.
    #[command(group(clap::ArgGroup::new("mode").required(true).args(["phone_number_id", "disable"])))]
    Whatsapp {
        id: String,
        #[arg(long, requires = "access_token")]
        phone_number_id: Option<String>,
        #[arg(long, requires = "phone_number_id")]
        access_token: Option<String>,
        #[arg(long, conflicts_with_all = ["phone_number_id", "access_token"])]
        disable: bool,
    },
    /// List restaurants.
    List(JsonFlag),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a partner token; prints the token, which is shown only this once.
    Create {
        #[arg(long)]
        restaurant: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (never their secret).
    List {
        #[arg(long)]
        restaurant: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Revoke a token by its id (tok_…).
    Revoke { token_id: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateStatus {
    Approved,
    Pending,
    Rejected,
}

impl TemplateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateStatus::Approved => "APPROVED",
            TemplateStatus::Pending => "PENDING",
            TemplateStatus::Rejected => "REJECTED",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Create or replace the restaurant's template of a type.
    Set {
        #[arg(long)]
        restaurant: String,
        #[arg(long = "type", value_parser = parse_template_type, value_name = "MISSED_CALL|MISSED_CALL_WITH_RESERVATION")]
        template_type: TemplateType,
        /// The template's name at Meta.
        #[arg(long)]
        name: String,
        #[arg(long)]
        language: String,
        #[arg(long, value_enum, default_value = "APPROVED")]
        status: TemplateStatus,
        /// Variables of the body parameters, in order.
        #[arg(long, value_delimiter = ',', value_name = "VAR,VAR,…")]
        body_params: Vec<String>,
        /// Variable of the URL button.
        #[arg(long, value_name = "VAR")]
        button_param: Option<String>,
        /// Used for customer_name when the customer has no name (default "there").
        #[arg(long, value_name = "TEXT")]
        name_fallback: Option<String>,
        #[arg(long, value_name = "true|false", action = clap::ArgAction::Set, default_value_t = true)]
        active: bool,
    },
    /// List the restaurant's templates.
    List {
        #[arg(long)]
        restaurant: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Add a customer (or rename the one with this number); prints its id.
    Add {
        #[arg(long)]
        restaurant: String,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Import customers from a CSV file with a `phone,name` header.
    Import {
        #[arg(long)]
        restaurant: String,
        file: PathBuf,
    },
    /// Stop all messages to a number.
    Suppress {
        #[arg(long)]
        restaurant: String,
        #[arg(long)]
        phone: String,
    },
    /// Allow messages to a number again.
    Unsuppress {
        #[arg(long)]
        restaurant: String,
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
        #[arg(long)]
        restaurant: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReservationCommand {
    /// Add a reservation; prints its id.
    Add {
        #[arg(long)]
        restaurant: String,
        #[arg(long)]
        phone: String,
        /// RFC 3339, or the restaurant's local time without an offset.
        #[arg(long, value_name = "DATETIME")]
        start: String,
        #[arg(long)]
        party_size: i64,
        #[arg(long, default_value = crate::bookings::rules::DEFAULT_STATUS)]
        status: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        external_id: Option<String>,
    },
    /// Import reservations from a CSV file with an
    /// `external_id,phone,name,start,party_size,status` header.
    Import {
        #[arg(long)]
        restaurant: String,
        file: PathBuf,
    },
    /// Change a reservation's status.
    Update {
        id: String,
        #[arg(long)]
        status: String,
    },
    /// List the restaurant's reservations.
    List {
        #[arg(long)]
        restaurant: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// List the newest calls of the ledger.
    List {
        #[arg(long)]
        restaurant: Option<String>,
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        limit: u32,
        #[command(flatten)]
        json: JsonFlag,
    },
}
