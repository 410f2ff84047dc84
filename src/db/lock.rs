//! The server's claim on its database: an advisory lock on `<database>.lock`, held while `serve`
//! or `demo` runs, so that `restore` can tell a running server from a stopped one and a second
//! server on the same file refuses to start. A lock file of its own, never the database: closing
//! any descriptor of the database file would drop SQLite's own locks on it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Held for as long as it lives; the kernel releases it when the process ends, however it ends.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "a ringback server is running on {0}, or a restore is (stop the server first, e.g. \
         `systemctl stop ringback`)"
    )]
    Held(PathBuf),
    #[error("directory {dir} does not exist (database path {path})")]
    NoDirectory { dir: String, path: String },
    #[error("cannot open the lock file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn lock_path(database: &Path) -> PathBuf {
    super::companion(database, ".lock")
}

impl DatabaseLock {
    /// Takes the lock, or says that a server holds it.
    pub fn acquire(database: &Path) -> Result<DatabaseLock, LockError> {
        let path = lock_path(database);
        let dir = match database.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(LockError::NoDirectory {
                dir: dir.display().to_string(),
                path: database.display().to_string(),
            });
        }
        // Opened to read only and readable by all: it holds nothing, and whoever made it first
        // (root running a restore, say) must not stop the service's user from locking it later.
        let mut options = OpenOptions::new();
        options.read(true);
        if !path.exists() {
            options.append(true).create(true);
        }
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644);
        let created = !path.exists();
        let file = options.open(&path).map_err(|source| LockError::Io {
            path: path.clone(),
            source,
        })?;
        // The umask may have narrowed the mode (root's 077 would lock the service's user out).
        #[cfg(unix)]
        if created {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644));
        }
        match file.try_lock() {
            Ok(()) => Ok(DatabaseLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::Held(database.to_path_buf())),
            Err(TryLockError::Error(source)) => Err(LockError::Io { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_file_made_by_another_user_can_still_be_locked_read_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("r.db");
        drop(DatabaseLock::acquire(&db).expect("first"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(lock_path(&db))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o644);
            // Read-only for its owner too: a lock needs no write access.
            std::fs::set_permissions(lock_path(&db), std::fs::Permissions::from_mode(0o444))
                .expect("chmod");
        }
        DatabaseLock::acquire(&db).expect("locked through a read-only descriptor");
    }

    #[test]
    fn a_missing_directory_is_named_as_such() {
        let err =
            DatabaseLock::acquire(Path::new("/nonexistent-ringback/x/r.db")).expect_err("no dir");
        assert!(
            err.to_string()
                .contains("directory /nonexistent-ringback/x does not exist"),
            "{err}"
        );
    }

    #[test]
    fn a_second_claim_on_the_same_database_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("r.db");
        let first = DatabaseLock::acquire(&db).expect("first");
        assert!(matches!(
            DatabaseLock::acquire(&db),
            Err(LockError::Held(_))
        ));
        drop(first);
        DatabaseLock::acquire(&db).expect("free again");
    }
}
