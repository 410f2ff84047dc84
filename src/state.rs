//! What every handler can reach: the pipeline, the writer, the read pool and the configuration.

use std::ops::Deref;
use std::sync::Arc;

use crate::config::Config;
use crate::db::{Checkpointer, ReadPool, Writer};
use crate::missed_call::Pipeline;
use crate::rate_limit::RateLimit;
use crate::telemetry::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub pipeline: Pipeline,
    /// The single writer, for the booking endpoints' writes.
    pub writer: Writer,
    pub reads: ReadPool,
    pub config: Arc<Config>,
    /// Keeps the WAL checkpoint thread running as long as the app is.
    pub checkpointer: Checkpointer,
    pub metrics: Metrics,
    /// Requests per partner token (`server.rate_limit_per_minute`).
    pub rate_limit: RateLimit,
    /// Opens access tokens (SPEC §8.2).
    pub vault: Arc<crate::vault::Vault>,
    /// When each partner token was last recorded as used (SPEC §6.2).
    pub token_use: Arc<crate::db::token_use::TokenUse>,
    /// Partner tokens found live, for missed-call reports (`auth::ReportingToken`).
    pub live_tokens: Arc<crate::db::tokens::LiveTokens>,
}

/// What a room's handlers reach (the console, the webhooks, operations): the shared handles
/// above, and the room's own state. Kept apart, so that `AppState` needs none of the rooms that
/// use it.
pub struct RoomState<T> {
    pub app: AppState,
    pub room: Arc<T>,
}

impl<T> RoomState<T> {
    pub fn new(app: AppState, room: T) -> RoomState<T> {
        RoomState {
            app,
            room: Arc::new(room),
        }
    }
}

impl<T> Clone for RoomState<T> {
    fn clone(&self) -> Self {
        RoomState {
            app: self.app.clone(),
            room: Arc::clone(&self.room),
        }
    }
}

impl<T> Deref for RoomState<T> {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.app
    }
}
