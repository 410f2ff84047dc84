//! The call ledger's commands: `calls list` with its filters, `calls show`.

use clap::Subcommand;

use super::JsonFlag;
use crate::domain::Outcome;
use crate::time::When;

fn parse_outcome(text: &str) -> Result<Outcome, String> {
    text.trim().to_ascii_uppercase().parse().map_err(|_| {
        let known: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        format!("expected one of {}", known.join(", "))
    })
}

fn parse_when(text: &str) -> Result<When, String> {
    When::parse(text).ok_or_else(|| {
        "expected an RFC 3339 instant (2026-05-10T12:23:00Z), a local time \
         (2026-05-10T14:23) or a local date (2026-05-10)"
            .into()
    })
}

#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// List calls of the ledger, newest first, with why each was not sent.
    List {
        /// Only this restaurant's calls (rst_…); else every restaurant's.
        #[arg(long, value_name = "ID")]
        restaurant: Option<String>,
        /// Only calls with one of these outcomes, like SENT or SKIPPED_COOLDOWN.
        #[arg(long, value_delimiter = ',', value_parser = parse_outcome, value_name = "O[,O…]")]
        outcome: Vec<Outcome>,
        /// Only calls at or after this: an RFC 3339 instant, or a date or time in the restaurant's
        /// zone (without --restaurant, each call's own).
        #[arg(long, value_parser = parse_when, value_name = "WHEN")]
        since: Option<When>,
        /// Only calls at or before this, read as --since; a date counts to its end.
        #[arg(long, value_parser = parse_when, value_name = "WHEN")]
        until: Option<When>,
        /// At most this many calls.
        #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        limit: u32,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show one call whole: its outcome and why, times, caller, customer, message, error.
    Show {
        /// The call's id (call_…).
        id: String,
        /// Print it as one JSON object, with the API's field names.
        #[arg(long)]
        json: bool,
    },
}
