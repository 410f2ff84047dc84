//! How a command fails: its operations' errors, and the exit code and message it ends with.

use crate::db::{self, DbError};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The command was given a value it cannot take (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The command could not be carried out (exit 1).
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for AdminError {
    fn from(e: rusqlite::Error) -> Self {
        AdminError::Db(DbError::Sqlite(e))
    }
}

pub(super) fn usage(message: impl Into<String>) -> AdminError {
    AdminError::Usage(message.into())
}

pub(super) fn failed(message: impl Into<String>) -> AdminError {
    AdminError::Failed(message.into())
}

/// How a command failed: the process exits with `exit_code` and `message` on stderr.
#[derive(Debug)]
pub struct CommandError {
    pub exit_code: i32,
    pub message: String,
}

impl From<AdminError> for CommandError {
    fn from(e: AdminError) -> Self {
        let exit_code = if matches!(e, AdminError::Usage(_)) {
            2
        } else {
            1
        };
        CommandError {
            exit_code,
            message: e.to_string(),
        }
    }
}

impl From<db::DbError> for CommandError {
    fn from(e: db::DbError) -> Self {
        AdminError::from(e).into()
    }
}

impl From<db::OpenError> for CommandError {
    fn from(e: db::OpenError) -> Self {
        // Run in the folder where the demo ran, with no --db: the demo's database is most
        // likely the one meant, and "ringback migrate" would make an empty one beside it.
        let demo = super::demo::DEMO_DB;
        let hint = match &e {
            db::OpenError::Missing(path)
                if path.as_str() != demo && std::path::Path::new(demo).is_file() =>
            {
                format!("; the demo's database is in this folder: pass --db {demo}")
            }
            _ => String::new(),
        };
        fail(format!("{e}{hint}"))
    }
}

impl From<rusqlite::Error> for CommandError {
    fn from(e: rusqlite::Error) -> Self {
        AdminError::from(e).into()
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        fail(e.to_string())
    }
}

pub fn fail(message: impl Into<String>) -> CommandError {
    CommandError {
        exit_code: 1,
        message: message.into(),
    }
}
