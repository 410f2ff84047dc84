//! When each partner token was last used (SPEC §6.2: `token list` shows it, so that a rotation
//! can be checked before the old token is revoked). A request only notes the time in memory;
//! once a minute, and at shutdown, one writer job stores what was noted. Off the request's
//! path, and never in a report's place in the write queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::db::{DbError, Writer};
use crate::time::now_ms;

/// How often what was noted is written.
const EVERY: Duration = Duration::from_secs(60);

/// The latest use of each token since the last write.
#[derive(Default)]
pub struct TokenUse(Mutex<HashMap<String, i64>>);

impl TokenUse {
    /// Notes that the token `id` authenticated a request now.
    pub fn record(&self, id: &str) {
        let now = now_ms();
        let mut noted = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match noted.get_mut(id) {
            Some(at) => *at = (*at).max(now),
            None => {
                noted.insert(id.to_string(), now);
            }
        }
    }

    fn take(&self) -> HashMap<String, i64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts back what could not be written, unless a later use was noted meanwhile.
    fn restore(&self, unwritten: HashMap<String, i64>) {
        let mut noted = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for (id, at) in unwritten {
            let entry = noted.entry(id).or_insert(at);
            *entry = (*entry).max(at);
        }
    }

    /// Writes what was noted in one writer job; kept for the next time if it cannot be.
    pub async fn flush(&self, writer: &Writer) {
        let noted = self.take();
        if noted.is_empty() {
            return;
        }
        let uses: Vec<(String, i64)> = noted.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let written = writer
            .run(move |conn| {
                for (id, at) in &uses {
                    crate::db::tokens::record_use(conn, id, *at)?;
                }
                Ok::<_, DbError>(())
            })
            .await;
        if let Err(e) = written {
            tracing::debug!(error = %e, "tokens' last use not written; kept for the next minute");
            self.restore(noted);
        }
    }
}

/// Writes the noted uses once a minute until `stop`; the app writes them a last time as it stops.
pub async fn run(writer: Writer, uses: Arc<TokenUse>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(EVERY) => uses.flush(&writer).await,
            () = stop.cancelled() => return,
        }
    }
}
