//! `ringback calls …`: the call ledger, every reported call and what became of it.

mod list;
mod show;

use clap::Subcommand;
use rusqlite::Connection;

pub use list::ListArgs;

use super::error::CommandError;
use super::output::Printed;
use crate::db::calls::CallRow;
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
    List(ListArgs),
    /// Show one call whole: its outcome and why, times, caller, customer, message, error.
    Show {
        /// The call's id (call_…).
        id: String,
        /// Print it as one JSON object, with the API's field names.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run(conn: &Connection, c: CallsCommand, p: &mut Printed) -> Result<(), CommandError> {
    match c {
        CallsCommand::List(args) => list::list(conn, args, p),
        CallsCommand::Show { id, json } => show::show(conn, &id, json, p),
    }
}

/// The number as E.164, or as received for a hidden caller.
fn caller(row: &CallRow) -> &str {
    row.caller_e164.as_deref().unwrap_or(&row.caller_raw)
}
