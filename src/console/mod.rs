//! The operator console (SPEC §9): the manager's pages, their JSON API and CSV export, users and
//! sessions, and `/r/{token}`, the booking link that records a click. A room of its own beside
//! the partner API; both reach the same database through the same single writer.

pub mod acts;
pub mod api;
pub mod export;
pub mod language;
pub mod login;
mod negotiate;
pub mod origin;
pub mod pages;
pub mod password;
pub mod queries;
pub mod redirect;
mod routes;
pub mod rows;
pub mod session;
pub mod throttle;
pub mod words;

pub use routes::routes;

use std::sync::Arc;

use tokio::sync::Semaphore;

/// What the console's handlers reach: the app's shared handles and the console's own state.
pub type ConsoleApp = crate::state::RoomState<ConsoleState>;

/// What the console keeps while the server runs.
pub struct ConsoleState {
    pub throttle: throttle::LoginThrottle,
    /// Argon2 verifications at once: each takes 19 MiB and a core for a moment.
    pub verifications: Arc<Semaphore>,
    /// Served over TLS: the session cookie is `Secure`.
    pub secure_cookie: bool,
}

impl ConsoleState {
    pub fn new(secure_cookie: bool) -> ConsoleState {
        ConsoleState {
            throttle: throttle::LoginThrottle::default(),
            verifications: Arc::new(Semaphore::new(4)),
            secure_cookie,
        }
    }
}
