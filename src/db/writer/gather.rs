//! Gathering a batch: every job already waiting, and — when more than one was — those that
//! arrive within a moment more, so that each commit carries more of them.

use std::sync::atomic::Ordering;
use std::sync::mpsc;

use super::{Job, MAX_BATCH, WriterStats};

/// When more than one job was waiting (others are on their way), how long the writer waits for
/// more before it commits; a batch already of `LINGER_UNTIL` jobs does not wait. A commit costs
/// about the same for one job as for thirty: each index's last page is written and synced once
/// either way.
const LINGER: std::time::Duration = std::time::Duration::from_micros(250);
const LINGER_UNTIL: usize = 32;

/// Adds the jobs already queued to `batch`, up to `MAX_BATCH`.
pub(super) fn take_waiting(queue: &mpsc::Receiver<Box<dyn Job>>, batch: &mut Vec<Box<dyn Job>>) {
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// Waits `LINGER` once, then takes every job that arrived meanwhile: under load the next jobs
/// are a fraction of a millisecond away, and each commit then carries more of them. One sleep,
/// not a wake-up per arriving job: each wake-up is a context switch on both sides.
pub(super) fn linger(
    queue: &mpsc::Receiver<Box<dyn Job>>,
    batch: &mut Vec<Box<dyn Job>>,
    stats: &WriterStats,
) {
    if batch.len() >= LINGER_UNTIL {
        return;
    }
    std::thread::sleep(LINGER);
    let before = batch.len();
    take_waiting(queue, batch);
    stats
        .pending
        .fetch_sub(batch.len() - before, Ordering::SeqCst);
}
