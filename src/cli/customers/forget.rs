//! `customer forget` (SPEC §8): an erasure request.

use std::path::Path;
use std::time::Duration;

use rusqlite::TransactionBehavior;

use crate::cli::error::{CommandError, fail};
use crate::cli::output::count;
use crate::cli::restaurants::{phone_for, require_restaurant};
use crate::db::{self, Access, erasure};
use crate::phone::mask;

/// How long the final checkpoint keeps trying while a running server's writer and readers are
/// in its way, and how long it lets them work between two tries.
const CHECKPOINT_PATIENCE: Duration = Duration::from_secs(10);
const CHECKPOINT_AGAIN: Duration = Duration::from_millis(20);

/// The customer's name and number leave every table, and their bytes leave the database file and
/// its `-wal`, even while a server runs.
///
/// `owns_wal`: no replication reads the WAL (`database.replication = "none"`), so the erasure may
/// empty it; under Litestream only a passive checkpoint runs, and Litestream empties the WAL
/// once it has shipped it (SPEC §8.1).
pub(in crate::cli) fn forget(
    database: &Path,
    restaurant_id: &str,
    phone: &str,
    owns_wal: bool,
) -> Result<(), CommandError> {
    // Parsing the number first loads the phone metadata: tens of milliseconds of CPU that must
    // not be spent holding the write lock a running server waits for.
    crate::phone::warm_up();
    let mut conn = db::open_existing(database, Access::Write)?;
    // The write connection overwrites what it frees (`secure_delete`, see `db`), so deleted
    // rows cannot be read back from free pages or from the slack inside a page.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let restaurant = require_restaurant(&tx, restaurant_id)?;
    let number = phone_for(&restaurant, phone)?;
    let forgotten = erasure::forget_number(
        &tx,
        &restaurant.id,
        number.as_str(),
        &number.national_digits(),
    )?;
    tx.commit()?;
    // The pages as they were before the erasure are still in the WAL: copy the new ones into
    // the database file and empty the WAL.
    if owns_wal {
        checkpoint_until_empty(&conn)?;
    } else {
        conn.busy_timeout(Duration::ZERO)?;
        checkpoint(&conn, "PASSIVE")?;
    }
    if forgotten.is_empty() {
        eprintln!(
            "nothing to forget: no customer or call with {} in {}",
            mask(number.as_str()),
            restaurant.id
        );
    } else {
        eprintln!(
            "forgot {} in {}: customer {} deleted, {} kept with the number replaced by \
             \"{}\", {} detached",
            mask(number.as_str()),
            restaurant.id,
            forgotten.customer_id.as_deref().unwrap_or("(none)"),
            count(forgotten.calls as i64, "call"),
            erasure::FORGOTTEN,
            count(forgotten.reservations as i64, "reservation")
        );
        if !owns_wal {
            eprintln!(
                "replication = \"litestream\": the old pages leave the -wal as it is overwritten \
                 after Litestream restarts it, and the replica when Litestream's retention passes"
            );
        }
    }
    Ok(())
}

/// Empties the WAL without ever making a running server wait on it (SPEC §6.4): a passive pass
/// copies what it can without the write lock; then a TRUNCATE, with no busy timeout, takes the
/// write lock only to copy the few frames left and gives up at once when the server's writer
/// or a reader is in the way, to be tried again a moment later. Tried until the WAL is empty or
/// the patience runs out (then the server's own checkpoints finish the job, and the operator is
/// told).
fn checkpoint_until_empty(conn: &rusqlite::Connection) -> Result<(), CommandError> {
    conn.busy_timeout(Duration::ZERO)?;
    let started = std::time::Instant::now();
    loop {
        checkpoint(conn, "PASSIVE")?;
        if !checkpoint(conn, "TRUNCATE")? {
            return Ok(());
        }
        if started.elapsed() > CHECKPOINT_PATIENCE {
            return Err(fail(
                "the customer is erased from the tables, but the WAL could not be emptied \
                 while the server is busy; run the command again in a quiet moment",
            ));
        }
        std::thread::sleep(CHECKPOINT_AGAIN);
    }
}

/// Runs one checkpoint; returns whether it was kept from finishing (the writer or a reader was
/// in the way).
fn checkpoint(conn: &rusqlite::Connection, mode: &str) -> Result<bool, CommandError> {
    let ran = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        r.get::<_, i64>(0)
    });
    match ran {
        Ok(busy) => Ok(busy != 0),
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ) =>
        {
            Ok(true)
        }
        Err(e) => Err(e.into()),
    }
}
