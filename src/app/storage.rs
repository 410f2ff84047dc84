//! Opening the database for a server: the lock, migrations, start-up recovery, the writer, the
//! read pool and the checkpointer.

use std::sync::Arc;

use super::StartError;
use crate::config::Config;
use crate::db::{self, Checkpointer, DbError, ReadPool, Stopped, Writer};
use crate::missed_call::recover_interrupted;
use crate::vault::Vault;

/// The database side of the app, opened together on a blocking thread.
pub(super) struct Storage {
    pub(super) vault: Arc<Vault>,
    pub(super) restaurants_enabled: i64,
    pub(super) reads: ReadPool,
    pub(super) writer: Writer,
    pub(super) writer_stopped: Stopped,
    pub(super) checkpointer: Checkpointer,
    pub(super) checkpointer_stopped: Stopped,
}

/// Opens (and migrates) the database, turns rows a crash left in flight into FAILED, and starts
/// the writer and the checkpointer. Blocking: file I/O and SQLite.
pub(super) fn open_storage(config: &Config) -> Result<Storage, DbError> {
    let (path, max_pending_writes) = (&config.database.path, config.database.max_pending_writes);
    let mut conn = db::open(path)?;
    let whatsapp = &config.whatsapp;
    let hold_ms = whatsapp
        .webhook_on()
        .then_some(whatsapp.reconcile_seconds * 1000);
    let stale_ms = config.missed_calls.stale_after_minutes * 60_000;
    let recovered = recover_interrupted(&mut conn, hold_ms, stale_ms)?;
    if recovered.failed > 0 {
        tracing::warn!(
            calls = recovered.failed,
            "dispatches interrupted by a restart are now FAILED; a retry sends them"
        );
    }
    if recovered.sent > 0 {
        tracing::info!(
            calls = recovered.sent,
            "dispatches interrupted by a restart had already reached WhatsApp (its status said so): SENT"
        );
    }
    if recovered.held > 0 {
        tracing::warn!(
            calls = recovered.held,
            seconds = whatsapp.reconcile_seconds,
            "dispatches interrupted by a restart wait for WhatsApp's status before they count as FAILED"
        );
    }
    let owns_wal = config.database.replication.owns_wal();
    if owns_wal && db::replicated_by_litestream(&conn)? {
        // Under Litestream with replication = "none", ringback's checkpoints and `customer
        // forget` would restart the WAL under Litestream's feet.
        tracing::warn!(
            "Litestream has replicated this database, but [database] replication is \"none\": \
             if Litestream still runs, set replication = \"litestream\" in the configuration \
             (docs/operations.md, \"Replication\")"
        );
    }
    let sealing = db::sealing::prepare(&mut conn, &config.database)?;
    sealing.log();
    let restaurants_enabled = db::restaurants::count_enabled(&conn)?;
    let reads = db::open_read_pool(path, 16)?;
    let (writer, writer_stopped) =
        Writer::start(conn, max_pending_writes).map_err(|e| DbError::Task(e.to_string()))?;
    let (checkpointer, checkpointer_stopped) = Checkpointer::start(path, owns_wal)?;
    Ok(Storage {
        vault: Arc::new(sealing.vault),
        restaurants_enabled,
        reads,
        writer,
        writer_stopped,
        checkpointer,
        checkpointer_stopped,
    })
}

/// `open_storage` on a blocking thread, after warming the phone metadata and the password hasher.
pub(super) async fn open_storage_off_runtime(config: &Config) -> Result<Storage, StartError> {
    let db_error = |source| StartError::Database {
        path: config.database.path.display().to_string(),
        source,
    };
    let open_config = config.clone();
    tokio::task::spawn_blocking(move || {
        crate::phone::warm_up();
        crate::console::password::warm_up();
        open_storage(&open_config)
    })
    .await
    .map_err(|e| db_error(DbError::Task(e.to_string())))?
    .map_err(db_error)
}
