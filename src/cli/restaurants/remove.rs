//! `restaurant remove`: what a restaurant takes with it, and its removal in short transactions.

use clap::Args;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::require_restaurant;
use crate::cli::error::{AdminError, CommandError, fail, failed};
use crate::cli::output::{Printed, count};
use crate::db::restaurants::{self as table, Restaurant};

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The restaurant's id (rst_…).
    pub id: String,
    /// Really delete; without it, only say what would go.
    #[arg(long)]
    pub yes: bool,
}

/// Without `--yes`, only says what would go, and fails.
pub(super) fn remove(
    conn: &Connection,
    args: RemoveArgs,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let RemoveArgs { id, yes } = args;
    if yes {
        let rows = remove_restaurant(conn, &id)?;
        p.say(format!(
            "restaurant {id} removed, with {}",
            describe_rows(&rows)
        ));
        Ok(())
    } else {
        let (restaurant, rows) = removal_of(conn, &id)?;
        Err(fail(format!(
            "restaurant {id} was not removed: pass --yes to delete {} and its {}",
            restaurant.name,
            describe_rows(&rows)
        )))
    }
}

/// What removing a restaurant takes with it: `(row name, count)` per scoped table.
pub type ScopedRows = Vec<(&'static str, i64)>;

/// What `restaurant remove` would delete, without deleting it.
pub fn removal_of(conn: &Connection, id: &str) -> Result<(Restaurant, ScopedRows), AdminError> {
    let restaurant = require_restaurant(conn, id)?;
    Ok((restaurant, table::count_scoped_rows(conn, id)?))
}

/// Rows deleted per transaction while a restaurant is removed: a running server's writer waits
/// for the write lock at most that long (SPEC §6.4), whatever the restaurant's size.
const REMOVAL_CHUNK: i64 = 2_000;

/// The tables a restaurant may hold hundreds of thousands of rows of, deleted chunk by chunk
/// (in this order, each before what it refers to); the rest go in the last transaction.
const BULKY: [&str; 3] = ["calls", "reservations", "customers"];

/// Deletes the restaurant and everything scoped to it. `conn` must not be inside a transaction:
/// its rows go in short transactions of their own, table by table, then what is left and the
/// restaurant itself in a last one. Interrupted, it leaves the restaurant with fewer rows, and
/// running it again finishes the job.
pub fn remove_restaurant(conn: &Connection, id: &str) -> Result<ScopedRows, AdminError> {
    require_restaurant(conn, id)?;
    let immediate = || Transaction::new_unchecked(conn, TransactionBehavior::Immediate);
    let mut chunked = Vec::with_capacity(BULKY.len());
    for name in BULKY {
        let mut count = 0;
        loop {
            let tx = immediate()?;
            let n = table::delete_scoped_rows(&tx, name, id, REMOVAL_CHUNK)?;
            tx.commit()?;
            count += i64::try_from(n).unwrap_or(i64::MAX);
            if n < REMOVAL_CHUNK as usize {
                break;
            }
        }
        chunked.push((name, count));
    }
    let tx = immediate()?;
    let mut removed = table::delete_restaurant(&tx, id)?
        .ok_or_else(|| failed(format!("no restaurant with id {id}")))?;
    tx.commit()?;
    // The last transaction counted what came in meanwhile; the chunks, the rest.
    for ((name, _), (_, count)) in table::SCOPED_TABLES.iter().zip(removed.iter_mut()) {
        if let Some((_, earlier)) = chunked.iter().find(|(t, _)| t == name) {
            *count += earlier;
        }
    }
    Ok(removed)
}

/// `3 calls, 1 reservation, 2 customers, 2 templates and 1 token`.
fn describe_rows(rows: &ScopedRows) -> String {
    let mut parts: Vec<String> = rows.iter().map(|(row, n)| count(*n, row)).collect();
    let last = parts.pop().unwrap_or_default();
    if parts.is_empty() {
        last
    } else {
        format!("{} and {last}", parts.join(", "))
    }
}
