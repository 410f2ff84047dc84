//! What every handler can reach: the pipeline, the writer, the read pool and the configuration.

use std::sync::Arc;

use crate::config::Config;
use crate::db::{Checkpointer, ReadPool, Writer};
use crate::missed_call::Pipeline;
use crate::ops::health::Readiness;
use crate::ops::metrics::Metrics;
use crate::rate_limit::RateLimit;

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
    /// The last readiness answer, reused for a second.
    pub readiness: Arc<Readiness>,
    /// Login throttling and the bounds of password checks.
    pub console: Arc<crate::console::ConsoleState>,
    /// The webhooks' keys, and the bell that wakes the timers (SPEC §10).
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// Opens access tokens (SPEC §8.2).
    pub vault: Arc<crate::vault::Vault>,
    /// When each partner token was last recorded as used (SPEC §6.2).
    pub token_use: Arc<crate::jobs::token_use::TokenUse>,
}
