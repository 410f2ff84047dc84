//! Retention (SPEC §8): at start-up and every 24 hours, delete ledger rows whose call happened
//! more than `missed_calls.retention_days` ago — a small batch per writer job, with a pause
//! between batches, so that reports keep their turn at the writer while it runs.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::db::erasure::{delete_calls_before, restaurant_ids};
use crate::db::{DbError, Writer};
use crate::time::now_ms;

/// Rows deleted per writer job: a few milliseconds of the writer's time.
pub const BATCH: i64 = 500;
/// Between two batches, so that reports queued meanwhile commit first.
const PAUSE: Duration = Duration::from_millis(20);
const EVERY: Duration = Duration::from_secs(24 * 60 * 60);
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Runs until `stop` is cancelled. `days = 0` keeps everything.
pub async fn run(writer: Writer, days: i64, stop: CancellationToken) {
    if days <= 0 {
        return;
    }
    loop {
        let cutoff = now_ms() - days * DAY_MS;
        match delete_older(&writer, cutoff, &stop).await {
            Ok(0) => {}
            Ok(rows) => {
                tracing::info!(
                    rows,
                    days,
                    "retention: deleted ledger rows older than the limit"
                )
            }
            // Tried again at the next run; the rows are only kept a day longer.
            Err(e) => tracing::warn!(db.error = %e, "retention: could not delete old ledger rows"),
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Deletes every row older than `cutoff_ms`, batch by batch; returns how many went.
pub async fn delete_older(
    writer: &Writer,
    cutoff_ms: i64,
    stop: &CancellationToken,
) -> Result<usize, DbError> {
    let restaurants = loop {
        match writer
            .run(|conn| Ok::<_, DbError>(restaurant_ids(conn)?))
            .await
        {
            Ok(ids) => break ids,
            // A full queue at start-up (a PBX retrying after a restart), or a command holding
            // the write lock: reports go first.
            Err(DbError::Busy | DbError::Locked) => tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = stop.cancelled() => return Ok(0),
            },
            Err(e) => return Err(e),
        }
    };
    let mut total = 0;
    for restaurant in restaurants {
        loop {
            let id = restaurant.clone();
            let deleted = writer
                .run(move |conn| {
                    Ok::<_, DbError>(delete_calls_before(conn, &id, cutoff_ms, BATCH)?)
                })
                .await;
            match deleted {
                Ok(n) => {
                    total += n;
                    if (n as i64) < BATCH {
                        break;
                    }
                }
                // A full queue is busy with reports, or a command holds the lock: reports first.
                Err(DbError::Busy | DbError::Locked) => {
                    tokio::time::sleep(Duration::from_secs(1)).await
                }
                Err(e) => return Err(e),
            }
            tokio::select! {
                () = tokio::time::sleep(PAUSE) => {}
                () = stop.cancelled() => return Ok(total),
            }
        }
    }
    Ok(total)
}
