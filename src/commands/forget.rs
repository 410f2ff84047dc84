//! `customer forget` (SPEC §8): an erasure request. The customer's name and number leave every
//! table, and their bytes leave the database file and its `-wal`, even while a server runs.

use std::path::Path;
use std::time::Duration;

use rusqlite::TransactionBehavior;

use super::{CommandError, fail};
use crate::admin;
use crate::db::{self, Access, erasure};
use crate::phone::mask;

/// How long the final checkpoint may wait for a running server's readers to move on.
const CHECKPOINT_PATIENCE: Duration = Duration::from_secs(10);

pub fn forget(database: &Path, restaurant_id: &str, phone: &str) -> Result<(), CommandError> {
    let mut conn = db::open_existing(database, Access::Write)?;
    // The write connection overwrites what it frees (`secure_delete`, see `db`), so deleted
    // rows cannot be read back from free pages or from the slack inside a page.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let restaurant = admin::require_restaurant(&tx, restaurant_id)?;
    let number = admin::phone_for(&restaurant, phone)?;
    let forgotten = erasure::forget_number(
        &tx,
        &restaurant.id,
        number.as_str(),
        &number.national_digits(),
    )?;
    tx.commit()?;
    // The pages as they were before the erasure are still in the WAL: copy the new ones into
    // the database file and empty the WAL.
    checkpoint_until_empty(&conn)?;
    if forgotten.is_empty() {
        eprintln!(
            "nothing to forget: no customer or call with {} in {}",
            mask(number.as_str()),
            restaurant.id
        );
    } else {
        eprintln!(
            "forgot {} in {}: customer {} deleted, {} calls kept with the number replaced by \
             \"{}\", {} reservations detached",
            mask(number.as_str()),
            restaurant.id,
            forgotten.customer_id.as_deref().unwrap_or("(none)"),
            forgotten.calls,
            erasure::FORGOTTEN,
            forgotten.reservations
        );
    }
    Ok(())
}

/// A TRUNCATE checkpoint waits for a running server's readers; it is tried until it empties the
/// WAL or the patience runs out (then the server's own checkpoints finish the job, and the
/// operator is told).
fn checkpoint_until_empty(conn: &rusqlite::Connection) -> Result<(), CommandError> {
    let started = std::time::Instant::now();
    loop {
        let (busy, _, _): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if busy == 0 {
            return Ok(());
        }
        if started.elapsed() > CHECKPOINT_PATIENCE {
            return Err(fail(
                "the customer is erased from the tables, but the WAL could not be emptied \
                 while the server is busy; run the command again in a quiet moment",
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
