//! WAL checkpoints on their own thread. The writer turns automatic checkpoints off, so that no
//! report's commit ever waits while the WAL is copied back into the database file.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::{DbError, Stopped, open_write_connection, spawn_watched};

const EVERY: Duration = Duration::from_secs(1);
/// Past this size a checkpoint waits for the writer, so that the WAL cannot grow without bound.
/// Passive checkpoints keep it far below this in practice; this is a safety valve only, since a
/// waiting checkpoint holds up every report meanwhile.
const WAL_LIMIT_BYTES: u64 = 1024 * 1024 * 1024;

/// Keeps the checkpoint thread alive; it stops when the last clone is dropped.
#[derive(Clone)]
pub struct Checkpointer {
    _alive: mpsc::SyncSender<()>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> Result<(Checkpointer, Stopped), DbError> {
        let conn = open_write_connection(path)?;
        let wal = wal_path(path);
        let (alive, stop) = mpsc::sync_channel::<()>(0);
        let stopped = spawn_watched("ringback-checkpoint", move || {
            // Said once when checkpoints start failing (a full disk) and once when they recover,
            // not every second in between.
            let mut failing = false;
            while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(EVERY) {
                let mode = match std::fs::metadata(&wal) {
                    Ok(m) if m.len() > WAL_LIMIT_BYTES => "RESTART",
                    _ => "PASSIVE",
                };
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
            }
        })
        .map_err(|e| DbError::Task(e.to_string()))?;
        Ok((Checkpointer { _alive: alive }, stopped))
    }
}

fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}
