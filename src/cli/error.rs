//! What the operations behind the commands fail with: a value the command cannot take, or a
//! command that could not be carried out.

use crate::db::DbError;

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

pub(crate) fn usage(message: impl Into<String>) -> AdminError {
    AdminError::Usage(message.into())
}

pub(crate) fn failed(message: impl Into<String>) -> AdminError {
    AdminError::Failed(message.into())
}
