//! WAL checkpoints on their own thread. The writer turns automatic checkpoints off, so that no
//! report's commit ever waits while the WAL is copied back into the database file.
//!
//! Under Litestream (`database.replication = "litestream"`) every checkpoint here is passive:
//! one that restarts or truncates the WAL could drop frames Litestream has not shipped yet, and
//! Litestream restarts the WAL itself once it has (SPEC §8.1).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::{DbError, Stopped, open_write_connection, spawn_watched};

const EVERY: Duration = Duration::from_secs(1);
/// Past this size, each tick also tries to start the WAL over (RESTART) without waiting: under
/// steady load some reader always holds a snapshot, so passive checkpoints alone never let the
/// WAL restart, and it would grow until the valve below.
const WAL_RESTART_BYTES: u64 = 64 * 1024 * 1024;
/// Past this size a checkpoint waits for the writer and the readers, so that the WAL cannot grow
/// without bound. A safety valve only, since a waiting checkpoint holds up every report meanwhile.
const WAL_LIMIT_BYTES: u64 = 1024 * 1024 * 1024;
/// How long the valve's checkpoint may wait for readers and the writer.
const VALVE_WAIT: Duration = Duration::from_secs(5);

/// Keeps the checkpoint thread alive; it stops when the last clone is dropped.
#[derive(Clone)]
pub struct Checkpointer {
    _alive: mpsc::SyncSender<()>,
}

impl Checkpointer {
    /// `owns_wal`: no replication reads the WAL, so the checkpoints may restart it.
    pub fn start(path: &Path, owns_wal: bool) -> Result<(Checkpointer, Stopped), DbError> {
        let conn = open_write_connection(path)?;
        let wal = wal_path(path);
        let (alive, stop) = mpsc::sync_channel::<()>(0);
        let stopped = spawn_watched("ringback-checkpoint", move || {
            // Said once when checkpoints start failing (a full disk) and once when they recover,
            // not every second in between.
            let mut failing = false;
            while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(EVERY) {
                let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
                let (mode, wait) = match size {
                    s if s > WAL_LIMIT_BYTES && owns_wal => ("RESTART", VALVE_WAIT),
                    _ => ("PASSIVE", Duration::ZERO),
                };
                let _ = conn.busy_timeout(wait);
                let pragma = format!("PRAGMA wal_checkpoint({mode})");
                match conn.query_row(&pragma, [], |_| Ok(())) {
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(db.error = %e, "WAL checkpoint failed; retrying every second");
                    }
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!("WAL checkpoints work again");
                    }
                    _ => {}
                }
                if owns_wal && mode == "PASSIVE" && size > WAL_RESTART_BYTES {
                    // Follows a passive pass that copied nearly everything, so it holds the
                    // write lock only for the last frames; with busy timeout 0 it gives up at
                    // once when the writer or a reader is in the way, and the next tick retries.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
                }
            }
        })
        .map_err(|e| DbError::Task(e.to_string()))?;
        Ok((Checkpointer { _alive: alive }, stopped))
    }
}

fn wal_path(db: &Path) -> PathBuf {
    super::companion(db, "-wal")
}
