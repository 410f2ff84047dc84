//! `ringback backup FILE` (SPEC §8): a consistent, checked copy, taken while the server runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::error::{CommandError, fail};
use crate::db::{self, Access, OpenError};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where the copy goes (replaced if it exists); written beside it first, then renamed.
    pub file: PathBuf,
}

/// The copy is made in one step: one read transaction, so a server writing meanwhile neither
/// restarts it nor makes it inconsistent (WAL keeps the snapshot).
const ALL_PAGES: std::ffi::c_int = -1;
/// How long a copy waits for a lock another process holds, in steps of `LOCK_PAUSE`.
const LOCK_PATIENCE: Duration = Duration::from_secs(30);
const LOCK_PAUSE: Duration = Duration::from_millis(50);

/// `ringback backup FILE`: copies the database at `database` into `file` with SQLite's online
/// backup API, checks the copy, and only then puts it in place.
pub fn backup(database: &Path, file: &Path) -> Result<(), CommandError> {
    // Refuses a missing or foreign database, naming a missing directory. An older schema is
    // fine: the nightly copy runs between a binary's upgrade and the server's restart.
    match db::open_existing(database, Access::Read) {
        Ok(_) | Err(OpenError::SchemaTooOld { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    refuse_database_files(database, file)?;
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(fail(format!(
            "directory {} does not exist (backup file {})",
            dir.display(),
            file.display()
        )));
    }
    let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| fail(format!("cannot open {}: {e}", database.display())))?;
    source.busy_timeout(Duration::from_secs(5))?;
    let partial = db::companion(file, ".partial");
    remove_if_present(&partial)?;
    let copied = copy_database(&source, &partial).and_then(|()| check(&partial));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&partial, file) {
        // The copy holds access tokens: it does not stay behind under another name.
        let _ = std::fs::remove_file(&partial);
        return Err(fail(format!(
            "cannot move the checked copy to {}: {e}",
            file.display()
        )));
    }
    sync_directory(file);
    let summary = describe(file)?;
    eprintln!(
        "backed up {} to {} ({summary}; integrity check ok)",
        database.display(),
        file.display()
    );
    Ok(())
}

/// Writes every page of `source` into a new private file at `target`.
pub(super) fn copy_database(source: &Connection, target: &Path) -> Result<(), CommandError> {
    let mut copy = db::open_copy_target(target)
        .map_err(|e| fail(format!("cannot create {}: {e}", target.display())))?;
    {
        let backup =
            Backup::new(source, &mut copy).map_err(|e| fail(format!("the copy failed: {e}")))?;
        let mut waited = Duration::ZERO;
        loop {
            match backup.step(ALL_PAGES) {
                Ok(StepResult::Done) => break,
                // Another connection holds a lock for a moment: try again, for a while.
                Ok(_) if waited < LOCK_PATIENCE => {
                    std::thread::sleep(LOCK_PAUSE);
                    waited += LOCK_PAUSE;
                }
                Ok(_) => return Err(fail("the copy failed: the database stayed locked")),
                Err(e) => return Err(fail(format!("the copy failed: {e}"))),
            }
        }
    }
    // The copy stands alone as one file: no -wal beside it holds part of it, and opening it to
    // read (a check, `--db COPY calls list`) leaves no -wal or -shm behind. The server turns
    // WAL back on when it opens a restored copy.
    copy.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    drop(copy);
    remove_companions(target)?;
    Ok(())
}

/// `PRAGMA integrity_check`, and a schema this binary can read.
pub(super) fn check(file: &Path) -> Result<(), CommandError> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| fail(format!("cannot open {}: {e}", file.display())))?;
    let not_ringback = |why: String| {
        fail(format!(
            "{} is not a ringback database: {why}",
            file.display()
        ))
    };
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| not_ringback(e.to_string()))?;
    if result != "ok" {
        return Err(fail(format!(
            "{} failed its integrity check: {result}",
            file.display()
        )));
    }
    let version = db::schema_version(&conn).map_err(|e| not_ringback(e.to_string()))?;
    let known = db::latest_schema_version();
    if version < 1 {
        return Err(not_ringback("it has no ringback schema".into()));
    }
    if version > known {
        return Err(fail(format!(
            "{} was written by a newer ringback (schema {version}, this binary knows {known})",
            file.display()
        )));
    }
    Ok(())
}

/// "N restaurants, M calls", read from the file.
pub(super) fn describe(file: &Path) -> Result<String, CommandError> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let count = |table: &str| -> rusqlite::Result<i64> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
    };
    Ok(format!(
        "{}, {}",
        super::output::count(count("restaurants")?, "restaurant"),
        super::output::count(count("calls")?, "call")
    ))
}

/// Refuses a backup written over the database itself or one of its companion files: the
/// rename would put the copy in place of the live database.
fn refuse_database_files(database: &Path, file: &Path) -> Result<(), CommandError> {
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let normalised = |p: &Path| -> Option<PathBuf> {
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
    };
    for suffix in ["", "-wal", "-shm", "-journal", ".lock"] {
        let companion = db::companion(database, suffix);
        let clash = same(&companion, file)
            || matches!((normalised(&companion), normalised(file)), (Some(a), Some(b)) if a == b);
        if clash {
            return Err(fail(format!(
                "{} is the database's own file: write the backup somewhere else",
                file.display()
            )));
        }
    }
    Ok(())
}

/// `-wal` and `-shm` of a database nobody has open: after a TRUNCATE checkpoint they hold
/// nothing, and a stale `-wal` must never meet another database file.
fn remove_companions(database: &Path) -> Result<(), CommandError> {
    for suffix in ["-wal", "-shm"] {
        remove_if_present(&db::companion(database, suffix))?;
    }
    Ok(())
}

pub(super) fn remove_if_present(path: &Path) -> Result<(), CommandError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(fail(format!("cannot remove {}: {e}", path.display())))
        }
        _ => Ok(()),
    }
}

/// Makes a rename durable: the directory entry is on disk once this returns.
pub(super) fn sync_directory(file: &Path) {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
