//! The setup commands' definitions: restaurants, their WhatsApp number, partner tokens and
//! templates.

use clap::{Subcommand, ValueEnum};

use super::JsonFlag;
use crate::domain::TemplateType;

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

#[derive(Debug, Subcommand)]
pub enum RestaurantCommand {
    /// Add a restaurant; prints its id.
    Add {
        /// The restaurant's name, as messages show it.
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2 country, used to read national phone numbers.
        #[arg(long, value_name = "CC")]
        country: String,
        /// IANA time zone, like Europe/Paris.
        #[arg(long, value_name = "IANA_TZ")]
        timezone: String,
        /// The restaurant's booking page, for the booking_link template variable.
        #[arg(long, value_name = "URL")]
        booking_url: Option<String>,
    },
    /// Change a restaurant: only what the flags given say.
    Update {
        /// The restaurant's id (rst_…).
        id: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New ISO 3166-1 alpha-2 country.
        #[arg(long, value_name = "CC")]
        country: Option<String>,
        /// New IANA time zone.
        #[arg(long, value_name = "TZ")]
        timezone: Option<String>,
        /// New booking page URL.
        #[arg(long, value_name = "URL")]
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
        /// The Telnyx number whose incoming calls are this restaurant's, or `none` to untie it.
        #[arg(long, value_name = "+E164|none")]
        telnyx_number: Option<String>,
    },
    /// Connect or disconnect the restaurant's WhatsApp Business number.
    #[command(group(clap::ArgGroup::new("mode").required(true).args(["phone_number_id", "disable"])))]
    Whatsapp {
        /// The restaurant's id (rst_…).
        id: String,
        /// The number's id at Meta (WhatsApp Manager → API Setup), not the phone number.
        #[arg(long, value_name = "ID")]
        phone_number_id: Option<String>,
        /// Meta access token; `-` reads it from stdin. Without this flag, RINGBACK_ACCESS_TOKEN.
        #[arg(long, value_name = "TOKEN|-", requires = "phone_number_id")]
        access_token: Option<String>,
        /// Disconnect the number: no more messages until it is connected again.
        #[arg(long, conflicts_with_all = ["phone_number_id", "access_token"])]
        disable: bool,
    },
    /// Delete a restaurant and everything it owns (tokens, templates, customers, reservations,
    /// calls).
    Remove {
        /// The restaurant's id (rst_…).
        id: String,
        /// Really delete; without it, only say what would go.
        #[arg(long)]
        yes: bool,
    },
    /// List restaurants.
    List(JsonFlag),
}

#[derive(Debug, Subcommand)]
pub enum WhatsappCommand {
    /// Ask the Cloud API about the restaurant's number: tests its credentials without a message.
    Check {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a partner token; prints the token, which is shown only this once.
    Create {
        /// The restaurant the token reports for (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// A label, like the PBX it is for.
        #[arg(long, value_name = "LABEL")]
        name: Option<String>,
    },
    /// List tokens (never their secret).
    List {
        /// Only this restaurant's tokens.
        #[arg(long, value_name = "ID")]
        restaurant: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Revoke a token by its id: its reports are refused from then on.
    Revoke {
        /// The token's id (tok_…), as `token list` shows it.
        token_id: String,
    },
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
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        /// Which calls the template answers: without or with an upcoming reservation.
        #[arg(long = "type", value_parser = parse_template_type, value_name = "MISSED_CALL|MISSED_CALL_WITH_RESERVATION")]
        template_type: TemplateType,
        /// The template's name at Meta.
        #[arg(long, value_name = "META_NAME")]
        name: String,
        /// The template's language code at Meta, like fr or en_US.
        #[arg(long, value_name = "CODE")]
        language: String,
        /// The template's review status at Meta; only APPROVED templates are sent.
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
        /// Whether the template is used; an inactive one is kept but not sent.
        #[arg(long, value_name = "true|false", action = clap::ArgAction::Set, default_value_t = true)]
        active: bool,
    },
    /// List the restaurant's templates.
    List {
        /// The restaurant's id (rst_…).
        #[arg(long, value_name = "ID")]
        restaurant: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}
