//! What the admin commands do, on a database connection: restaurants, tokens, templates,
//! customers, reservations and the call ledger. The CLI prints what these return.

pub mod customers;
pub mod import;
pub mod reservations;
pub mod restaurants;
pub mod templates;
pub mod tokens;

use crate::db::DbError;
use crate::db::restaurants::{Restaurant, find_restaurant};
use crate::phone::{E164, normalise};

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

/// The restaurant, or a clear error naming the id.
pub fn require_restaurant(conn: &rusqlite::Connection, id: &str) -> Result<Restaurant, AdminError> {
    find_restaurant(conn, id)?.ok_or_else(|| failed(format!("no restaurant with id {id}")))
}

/// A number given on the command line, read like the API reads it (SPEC §4.2).
pub fn phone_for(restaurant: &Restaurant, raw: &str) -> Result<E164, AdminError> {
    normalise(raw, &restaurant.country).map_err(|e| usage(e.to_string()))
}
