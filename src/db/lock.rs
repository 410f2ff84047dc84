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
    #[error("a ringback server is running on {0} (stop it first, e.g. `systemctl stop ringback`)")]
    Held(PathBuf),
    #[error("cannot open the lock file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl DatabaseLock {
    /// Takes the lock, or says that a server holds it.
    pub fn acquire(database: &Path) -> Result<DatabaseLock, LockError> {
        let path = lock_path(database);
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(|source| LockError::Io {
            path: path.clone(),
            source,
        })?;
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
