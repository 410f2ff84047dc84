//! WAL checkpoints on their own thread. The writer turns automatic checkpoints off, so that no
//! report's commit ever waits while the WAL is copied back into the database file.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::{DbError, open_write_connection};

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
    pub fn start(path: &Path) -> Result<Checkpointer, DbError> {
        let conn = open_write_connection(path)?;
        let wal = wal_path(path);
        let (alive, stop) = mpsc::sync_channel::<()>(0);
        thread::Builder::new()
            .name("ringback-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(EVERY) {
                    let mode = match std::fs::metadata(&wal) {
                        Ok(m) if m.len() > WAL_LIMIT_BYTES => "RESTART",
                        _ => "PASSIVE",
                    };
                    let pragma = format!("PRAGMA wal_checkpoint({mode})");
                    if let Err(e) = conn.query_row(&pragma, [], |_| Ok(())) {
                        tracing::warn!(db.error = %e, "WAL checkpoint failed; will retry");
                    }
                }
            })
            .map_err(|e| DbError::Task(e.to_string()))?;
        Ok(Checkpointer { _alive: alive })
    }
}

fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}
