//! Opening a database that must already exist, for every command but `migrate`, `serve` and
//! `demo`: nothing is created, and a command that only reads neither migrates nor writes.

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::{BUSY_TIMEOUT, DbError, latest_schema_version, migrate, set_up_for_writing};

/// What a command does with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only reads: the file is opened read-only, so the write lock is never taken, and an older
    /// schema is reported rather than migrated.
    Read,
    /// Writes: an older schema is migrated first, as the server does at start-up.
    Write,
}

/// Why there is no ringback database to work on.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("directory {dir} does not exist (database path {path})")]
    NoDirectory { dir: String, path: String },
    /// No file, or an empty one: `ringback migrate` makes a database of it.
    #[error(
        "no ringback database at {0} (run \"ringback migrate\" to create one, or pass --db / --config)"
    )]
    Missing(String),
    /// Something else is there; `migrate` would not help.
    #[error("{path} is not a ringback database: {why}")]
    NotRingback { path: String, why: String },
    #[error(
        "the database at {path} has schema version {found}, older than this ringback's {known}: \
         run \"ringback migrate\" first"
    )]
    SchemaTooOld {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("cannot open the database at {path}: {source}")]
    CannotOpen {
        path: String,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> Self {
        OpenError::Db(DbError::Sqlite(e))
    }
}

/// Opens the ringback database at `path` for a command; never creates one.
pub fn open_existing(path: &Path, access: Access) -> Result<Connection, OpenError> {
    let shown = path.display().to_string();
    check_file(path, &shown)?;
    let flags = match access {
        Access::Read => OpenFlags::SQLITE_OPEN_READ_ONLY,
        Access::Write => OpenFlags::SQLITE_OPEN_READ_WRITE,
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let cannot_open = |source| OpenError::CannotOpen {
        path: shown.clone(),
        source,
    };
    let mut conn = Connection::open_with_flags(path, flags).map_err(cannot_open)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Nothing is written before the file is known to be a ringback database.
    let found = match version_and_tables(&conn) {
        Ok(v) => v,
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            return Err(OpenError::NotRingback {
                path: shown,
                why: "it is not an SQLite database".into(),
            });
        }
        Err(e) => return Err(cannot_open(e)),
    };
    check_schema(found, access, &shown)?;
    if access == Access::Write {
        set_up_for_writing(&conn)?;
        migrate(&mut conn)?;
    }
    Ok(conn)
}

/// A file is at `path` (shown as `shown`), in a directory that exists.
fn check_file(path: &Path, shown: &str) -> Result<(), OpenError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir
        && !dir.is_dir()
    {
        return Err(OpenError::NoDirectory {
            dir: dir.display().to_string(),
            path: shown.into(),
        });
    }
    if path.is_dir() {
        return Err(OpenError::NotRingback {
            path: shown.into(),
            why: "it is a directory".into(),
        });
    }
    if !path.exists() {
        return Err(OpenError::Missing(shown.into()));
    }
    Ok(())
}

/// The schema `found` (version, tables) is ringback's, and one that `access` can work with.
fn check_schema(found: (i64, i64), access: Access, shown: &str) -> Result<(), OpenError> {
    let known = latest_schema_version();
    match found {
        (0, 0) => Err(OpenError::Missing(shown.into())),
        (0, _) => Err(OpenError::NotRingback {
            path: shown.into(),
            why: "an SQLite database without ringback's schema".into(),
        }),
        (version, _) if version > known => Err(DbError::SchemaTooNew {
            found: version,
            known,
        }
        .into()),
        (version, _) if version < known && access == Access::Read => Err(OpenError::SchemaTooOld {
            path: shown.into(),
            found: version,
            known,
        }),
        _ => Ok(()),
    }
}

/// `(PRAGMA user_version, number of tables)`.
fn version_and_tables(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    Ok((version, tables))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_only_open_of_a_wal_database_without_its_shm_file_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.db");
        drop(super::super::open(&path).expect("create"));
        assert!(!dir.path().join("r.db-shm").exists(), "closed cleanly");

        let conn = open_existing(&path, Access::Read).expect("read");

        let restaurants: i64 = conn
            .query_row("SELECT COUNT(*) FROM restaurants", [], |r| r.get(0))
            .expect("count");
        assert_eq!(restaurants, 0);
        let write = conn.execute("DELETE FROM restaurants", []);
        assert!(write.is_err(), "a read-only connection cannot write");
    }
}
