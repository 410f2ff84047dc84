//! Stores when each partner token was last used (SPEC §6.2), once a minute: the noting itself
//! is `db::token_use::TokenUse`, done by each request in memory.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::db::Writer;
use crate::db::token_use::TokenUse;

/// How often what was noted is written.
const EVERY: Duration = Duration::from_secs(60);

/// Writes the noted uses once a minute until `stop`; the app writes them a last time as it stops.
pub async fn run(writer: Writer, uses: Arc<TokenUse>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(EVERY) => uses.flush(&writer).await,
            () = stop.cancelled() => return,
        }
    }
}
