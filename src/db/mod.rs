//! The embedded SQLite database: pragmas, migrations, the read pool and the single writer.

pub mod calls;
mod checkpoint;
pub mod conversions;
pub mod customers;
pub mod erasure;
mod existing;
pub mod lock;
pub mod reservations;
pub mod restaurants;
pub mod sealing;
pub mod statuses;
pub mod telnyx;
pub mod templates;
pub mod token_use;
pub mod tokens;
pub mod users;
mod writer;

use std::path::Path;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use rust_embed::RustEmbed;

pub use checkpoint::Checkpointer;
pub use existing::{Access, OpenError, open_existing};
pub use writer::{Writer, WriterStats};

/// Migrations are plain SQL files, compiled into the binary so that it is self-contained.
#[derive(RustEmbed)]
#[folder = "sql/"]
struct Migrations;

/// Read-only connections; WAL lets them read beside the writer.
pub type ReadPool = r2d2::Pool<SqliteConnectionManager>;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Every statement of a report is prepared once per connection and reused: parsing SQL again
/// for each report would cost the single writer more than running it.
const STATEMENT_CACHE: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migration {name} failed: {source}")]
    Migration {
        name: String,
        source: rusqlite::Error,
    },
    #[error(
        "the database was written by a newer ringback (schema {found}, this binary knows {known})"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("the database writer has stopped")]
    WriterGone,
    /// The writer's queue is full (`database.max_pending_writes`); nothing was queued.
    #[error("the write queue is full")]
    Busy,
    /// Another connection (a command, an operator's `sqlite3`) held the write lock past the busy
    /// timeout; nothing of the batch was written. Passes like a full disk does.
    #[error("another connection held the database's write lock past the busy timeout")]
    Locked,
    /// The database cannot commit: disk full, I/O error, out of memory. The batch was rolled back.
    #[error("the database cannot commit: {0}")]
    Storage(String),
    #[error("a database job panicked")]
    JobPanicked,
    #[error("a blocking task failed: {0}")]
    Task(String),
}

/// Whether an error means the database itself cannot write (disk full, I/O error, out of memory)
/// rather than one job's own failure. The writer rolls back a whole batch on such an error, and
/// the API answers it `503 STORAGE_UNAVAILABLE`.
pub trait StorageFault {
    fn is_storage_fault(&self) -> bool;
}

impl StorageFault for rusqlite::Error {
    fn is_storage_fault(&self) -> bool {
        use rusqlite::ErrorCode::*;
        matches!(
            self.sqlite_error_code(),
            Some(
                DiskFull
                    | SystemIoFailure
                    | OutOfMemory
                    | CannotOpen
                    | ReadOnly
                    | DatabaseBusy
                    | DatabaseLocked
                    | FileLockingProtocolFailed
            )
        )
    }
}

impl StorageFault for DbError {
    fn is_storage_fault(&self) -> bool {
        match self {
            DbError::Storage(_) | DbError::Locked => true,
            DbError::Sqlite(e) => e.is_storage_fault(),
            _ => false,
        }
    }
}

/// Creates the database file, readable by its owner only, before SQLite opens it: it holds
/// WhatsApp access tokens. SQLite gives its `-wal` and `-shm` files the same mode.
fn create_private(path: &Path) -> Result<(), DbError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::fs::PermissionsExt;
        if !path.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)
                .map_err(|e| DbError::Task(format!("cannot create {}: {e}", path.display())))?;
        }
        // A database put in place by hand or by `litestream restore` gets the umask's mode,
        // often readable by everyone; it holds callers' numbers, so it is made private again.
        for file in [
            path.to_path_buf(),
            companion(path, "-wal"),
            companion(path, "-shm"),
        ] {
            if let Ok(meta) = std::fs::metadata(&file)
                && meta.permissions().mode() & 0o077 != 0
                && std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).is_ok()
            {
                tracing::warn!(file = %file.display(), "the database file was readable by others; it is now private (0600)");
            }
        }
    }
    Ok(())
}

/// Litestream has replicated this database: it keeps its own tables in it.
pub fn replicated_by_litestream(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = '_litestream_seq')",
        [],
        |r| r.get(0),
    )
}

/// A file beside the database: `companion(db, "-wal")` is `ringback.db-wal`.
pub fn companion(database: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

/// Resolves with the reason when a watched thread ends.
pub type Stopped = tokio::sync::oneshot::Receiver<String>;

/// Starts a named thread whose end, by return or by panic, is reported on the returned
/// receiver: the app stops rather than serve without its writer or checkpointer.
pub(crate) fn spawn_watched(
    name: &str,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<Stopped> {
    struct Watch(Option<tokio::sync::oneshot::Sender<String>>, String);
    impl Drop for Watch {
        fn drop(&mut self) {
            let how = if std::thread::panicking() {
                "panicked"
            } else {
                "stopped"
            };
            if let Some(tx) = self.0.take() {
                let _ = tx.send(format!("the {} thread {how}", self.1));
            }
        }
    }
    let (tx, stopped) = tokio::sync::oneshot::channel();
    let watch = Watch(Some(tx), name.to_string());
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _watch = watch;
            body();
        })?;
    Ok(stopped)
}

/// Opens the connection that writes: the server's writer thread, or a CLI command.
pub fn open_write_connection(path: &Path) -> Result<Connection, DbError> {
    create_private(path)?;
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    set_up_for_writing(&conn)?;
    Ok(conn)
}

/// Opens `path`, created private (0600), as the target of a copy made with SQLite's backup API:
/// no WAL and no page size of its own, so that the copy takes the source's pages — 4 KiB in a
/// database an earlier release made — which a WAL target of another page size would refuse.
pub fn open_copy_target(path: &Path) -> Result<Connection, DbError> {
    create_private(path)?;
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

fn set_up_for_writing(conn: &Connection) -> Result<(), DbError> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // synchronous = FULL: a report answered 201 survives a power cut. secure_delete: what a
    // write frees (the old version of an updated row, an index entry, a page) is overwritten
    // with zeros, so that `customer forget` finds no stale copy of a number or a name in free
    // space; it costs no extra I/O but for pages freed whole. page_size = 1024 (before WAL, so
    // that it holds for a new database; an existing one keeps its own): each commit writes every
    // page it changed whole, once to the WAL and again at the checkpoint, and a report changes a
    // few bytes in each of a dozen indexes, so smaller pages halve the bytes written per report.
    conn.execute_batch(
        "PRAGMA page_size = 1024; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA secure_delete = ON;",
    )?;
    Ok(())
}

/// Opens the database for `migrate`, `serve` and `demo`, the commands that may create it:
/// creates it when missing and applies pending migrations. Every other command opens it with
/// `open_existing`.
pub fn open(path: &Path) -> Result<Connection, DbError> {
    let mut conn = open_write_connection(path)?;
    migrate(&mut conn)?;
    Ok(conn)
}

pub fn open_read_pool(path: &Path, size: u32) -> Result<ReadPool, DbError> {
    let manager = SqliteConnectionManager::file(path)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_init(|c| {
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            c.busy_timeout(BUSY_TIMEOUT)
        });
    // No `SELECT 1` before each checkout: a local file's connection does not go stale, and the
    // check costs every read a query. A read that fails says so itself, at once.
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .test_on_check_out(false)
        .build(manager)?)
}

/// The schema version this binary brings: the number of the last embedded migration.
pub fn latest_schema_version() -> i64 {
    migration_files().last().map(|(n, _)| *n).unwrap_or(0)
}

pub fn schema_version(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn
        .prepare_cached("PRAGMA user_version")?
        .query_row([], |r| r.get(0))?)
}

/// For unit tests: an in-memory database at the latest schema, with one restaurant, `rst_1`
/// (French, in Paris).
#[cfg(test)]
pub(crate) fn memory_database_with_a_restaurant() -> Connection {
    let mut conn = Connection::open_in_memory().expect("memory");
    migrate(&mut conn).expect("migrate");
    conn.execute(
        "INSERT INTO restaurants (id, name, country, timezone, created_at)
         VALUES ('rst_1', 'Chez', 'FR', 'Europe/Paris', 0)",
        [],
    )
    .expect("restaurant");
    conn
}

/// Applies every embedded migration newer than the database, each in its own transaction.
/// Returns how many were applied.
pub fn migrate(conn: &mut Connection) -> Result<usize, DbError> {
    let current = schema_version(conn)?;
    let known = latest_schema_version();
    if current > known {
        return Err(DbError::SchemaTooNew {
            found: current,
            known,
        });
    }
    let mut applied = 0;
    for (version, name) in migration_files() {
        if version <= current {
            continue;
        }
        let Some(file) = Migrations::get(&name) else {
            continue;
        };
        let sql = String::from_utf8_lossy(&file.data);
        let run = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(&sql)?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()
        };
        run(conn).map_err(|source| DbError::Migration {
            name: name.clone(),
            source,
        })?;
        applied += 1;
    }
    Ok(applied)
}

/// `(version, file name)` of every embedded `NNNN_name.sql`, in order.
fn migration_files() -> Vec<(i64, String)> {
    let mut files: Vec<(i64, String)> = Migrations::iter()
        .filter_map(|name| {
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            let version = digits.parse().ok()?;
            name.ends_with(".sql").then(|| (version, name.to_string()))
        })
        .collect();
    files.sort();
    files
}

/// Runs a read on the blocking pool with a pooled read-only connection, never on the runtime.
pub async fn read<T, E, F>(pool: &ReadPool, f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let conn = pool.get().map_err(DbError::from)?;
        f(&conn)
    })
    .await
    .map_err(|e| E::from(DbError::Task(e.to_string())))?
}

/// What `EXPLAIN QUERY PLAN` says of `sql`, its steps joined by `; `: for the tests that prove
/// a listing walks its index instead of sorting.
#[cfg(test)]
pub(crate) fn query_plan(
    conn: &Connection,
    sql: &str,
    args: Vec<rusqlite::types::Value>,
) -> String {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
        .expect("plan");
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .expect("rows")
        .join("; ")
}

/// Rewrites the readiness probe's one row: a write, so that a commit proves the database can
/// still store (a no-op commits even on a full disk).
pub fn touch_readiness_probe(conn: &Connection, now_ms: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE readiness_probe SET checked_at = ?1 WHERE id = 1")?
        .execute([now_ms])?;
    Ok(())
}

/// Maps "no row" to `None`, as every `find_…` function wants.
pub(crate) fn optional<T>(result: rusqlite::Result<T>) -> rusqlite::Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests;
