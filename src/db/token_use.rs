//! When each partner token was last used (SPEC §6.2: `token list` shows it, so that a rotation
//! can be checked before the old token is revoked). A request only notes the time in memory;
//! `flush` stores what was noted in one writer job — off the request's path, and never in a
//! report's place in the write queue. `jobs::token_use` flushes once a minute and at shutdown.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{DbError, Writer};
use crate::time::now_ms;

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
                    super::tokens::record_use(conn, id, *at)?;
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
