//! `ringback restore FILE` (SPEC §8): a checked, atomic swap back while the server is stopped.

use std::path::{Path, PathBuf};

use clap::Args;
use rusqlite::{Connection, OpenFlags};

use super::backup::{check, copy_database, describe, remove_if_present, sync_directory};
use super::error::{CommandError, fail};
use crate::db;
use crate::db::lock::DatabaseLock;

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup to restore; it is checked before anything is replaced.
    pub file: PathBuf,
}

/// `ringback restore FILE`: refuses while a server holds the database; checks `file`; keeps
/// the database it replaces beside it; swaps the copy in with one rename.
pub fn restore(database: &Path, file: &Path) -> Result<(), CommandError> {
    let _lock = DatabaseLock::acquire(database).map_err(|e| fail(e.to_string()))?;
    if !file.is_file() {
        return Err(fail(format!("no backup file at {}", file.display())));
    }
    check(file)?;
    let incoming = db::companion(database, ".restoring");
    remove_if_present(&incoming)?;
    let source = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| fail(format!("cannot open {}: {e}", file.display())))?;
    let copied = copy_database(&source, &incoming).and_then(|()| check(&incoming));
    drop(source);
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&incoming);
        return Err(e);
    }
    let aside = match SetAside::keep(database) {
        Ok(aside) => aside,
        Err(e) => {
            let _ = std::fs::remove_file(&incoming);
            return Err(e);
        }
    };
    // One rename replaces the path: a crash leaves either the old database or the restored one
    // there, never nothing.
    if let Err(e) = std::fs::rename(&incoming, database) {
        let _ = std::fs::remove_file(&incoming);
        aside.undo();
        return Err(fail(format!(
            "cannot move the restored copy into place ({}; the database is unchanged): {e}",
            database.display()
        )));
    }
    sync_directory(database);
    let summary = describe(database)?;
    let kept = match &aside.kept {
        Some(kept) => format!("; the database it replaced is kept as {}", kept.display()),
        None => String::new(),
    };
    eprintln!(
        "restored {} from {} ({summary}){kept}",
        database.display(),
        file.display()
    );
    Ok(())
}

/// The database about to be replaced, kept as a copy of its own, and the companion files moved
/// off its path so that none of them meets the restored file.
struct SetAside {
    /// `<database>.before-restore-<time>`, when there was a database.
    kept: Option<PathBuf>,
    /// Companions moved beside the kept copy: `(where it was, where it is)`.
    moved: Vec<(PathBuf, PathBuf)>,
}

/// Files that belong to the database at a path: a WAL or a hot rollback journal laid beside
/// another database file would be replayed onto it.
const COMPANIONS: [&str; 2] = ["-wal", "-journal"];

impl SetAside {
    /// Copies the database to `<database>.before-restore-<time>` (a copy, not a link: the kept
    /// file must never share pages with the restored one) and moves its WAL and journal beside
    /// the copy. A database too damaged to open is kept all the same: that is when a restore is
    /// needed most. A stray companion with no database is deleted.
    fn keep(database: &Path) -> Result<SetAside, CommandError> {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%S%.3fZ")
            .to_string();
        let kept = database
            .exists()
            .then(|| db::companion(database, &format!(".before-restore-{stamp}")));
        if kept.is_some() {
            // Folds the WAL in when the file can be read, so that the copy is whole by itself.
            if let Ok(conn) =
                Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_WRITE)
            {
                let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            }
        }
        let mut aside = SetAside {
            kept: None,
            moved: Vec::new(),
        };
        if let Some(kept) = kept {
            std::fs::copy(database, &kept)
                .map_err(|e| fail(format!("cannot keep a copy of {}: {e}", database.display())))?;
            aside.kept = Some(kept);
        }
        for suffix in COMPANIONS {
            let from = db::companion(database, suffix);
            if !from.exists() {
                continue;
            }
            let moved = match &aside.kept {
                Some(kept) => {
                    let to = db::companion(kept, suffix);
                    std::fs::rename(&from, &to).map(|()| Some((from.clone(), to)))
                }
                None => std::fs::remove_file(&from).map(|()| None),
            };
            match moved {
                Ok(Some(pair)) => aside.moved.push(pair),
                Ok(None) => {}
                Err(e) => {
                    aside.undo();
                    return Err(fail(format!("cannot move {} aside: {e}", from.display())));
                }
            }
        }
        remove_if_present(&db::companion(database, "-shm"))?;
        Ok(aside)
    }

    /// Puts the companions back and drops the copy: the database is as it was.
    fn undo(self) {
        for (from, to) in self.moved.into_iter().rev() {
            let _ = std::fs::rename(&to, &from);
        }
        if let Some(kept) = self.kept {
            let _ = std::fs::remove_file(kept);
        }
    }
}
