//! What happens later, whoever is listening (SPEC §10): a closed Telnyx session settles into a
//! missed call once `telnyx.settle_seconds` have passed with no answer; a FAILED Telnyx call is
//! sent again when its `next_attempt_at` comes; a send held after a crash ends FAILED when its
//! hold runs out with no status. All three are read from the database, so they survive a
//! restart; the loop looks every second, or at once when a hangup arrives.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db::calls::{self, CallRow};

use crate::db::statuses;
use crate::db::telnyx;
use crate::db::{self, DbError, ReadPool, Writer};

use crate::domain::Source;
use crate::missed_call::{Pipeline, PipelineError, Report, end_expired_holds};
use crate::phone::{Caller, E164};
use crate::time::now_ms;
use crate::webhooks::session::{self, Plan, plan_settlement};

/// How often the loop looks when nothing woke it.
const TICK: Duration = Duration::from_secs(1);
/// How often the webhooks' old bookkeeping is forgotten, and how old it must be: past Meta's
/// 7 days of redeliveries.
const PURGE_EVERY: Duration = Duration::from_secs(60 * 60);
const PURGE_FIRST: Duration = Duration::from_secs(60);
const KEEP_WEBHOOK_RECORDS_MS: i64 = 8 * 24 * 60 * 60 * 1000;
/// Rows of each of the four tables forgotten per writer job.
const PURGE_BATCH: i64 = 500;

#[derive(Clone)]
pub struct Timers {
    pub writer: Writer,
    pub reads: ReadPool,
    pub pipeline: Pipeline,
    pub settle_ms: i64,
    /// `missed_calls.retention_days`: the webhooks' records are kept no longer than the ledger.
    pub retention_days: i64,
    /// At most this many settles and retries run at once (`whatsapp.dispatch_threads`): a
    /// backlog must not claim more sends than can be made.
    pub max_running: usize,
    pub wake: Arc<Notify>,
}

/// Runs until `stop` is cancelled.
pub async fn run(timers: Timers, stop: CancellationToken) {
    // Sessions and calls being worked on, so a slow send is not started twice.
    let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
    // The first purge a minute after start-up, then hourly: a box restarted often still purges.
    let mut next_purge = tokio::time::Instant::now() + PURGE_FIRST;
    let mut purge: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        if let Err(e) = timers.look(&busy, &stop).await {
            tracing::warn!(db.error = %e, "timers: could not read what is due; trying again");
        }
        // On a task of its own: a long first purge must not hold back settles and retries.
        if tokio::time::Instant::now() >= next_purge
            && purge.as_ref().is_none_or(|p| p.is_finished())
        {
            next_purge = tokio::time::Instant::now() + PURGE_EVERY;
            let (this, stop) = (timers.clone(), stop.clone());
            purge = Some(tokio::spawn(async move {
                this.forget_old_webhook_records(&stop).await;
            }));
        }
        // A backlog moves on as each running one ends (it rings the bell).
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            () = timers.wake.notified() => {}
            () = stop.cancelled() => return,
        }
    }
}

struct Due {
    sessions: Vec<String>,
    retries: Vec<CallRow>,
    holds_over: bool,
}

/// A session to settle, or a failed call to send again.
enum Work {
    Settle(String),
    Retry(Box<CallRow>),
}

impl Work {
    fn key(&self) -> &str {
        match self {
            Work::Settle(session) => session,
            Work::Retry(call) => &call.id,
        }
    }
}

impl Timers {
    /// Forgets the webhooks' records older than 8 days; Telnyx's events, which name the caller,
    /// no later than the ledger's retention either.
    async fn forget_old_webhook_records(&self, stop: &CancellationToken) {
        let now = now_ms();
        let cutoff = now - KEEP_WEBHOOK_RECORDS_MS;
        let telnyx_cutoff = match self.retention_days {
            days if days > 0 => cutoff.max(now - days * 24 * 60 * 60 * 1000),
            _ => cutoff,
        };
        while !stop.is_cancelled() {
            let purged = self
                .writer
                .run(move |conn| {
                    Ok::<_, DbError>(statuses::purge_webhook_records(
                        conn,
                        telnyx_cutoff,
                        cutoff,
                        PURGE_BATCH,
                    )?)
                })
                .await;
            match purged {
                Ok(0) => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(e) => {
                    tracing::warn!(db.error = %e, "timers: could not forget old webhook records");
                    return;
                }
            }
        }
    }

    /// Starts what is due, up to `max_running` at once; the rest waits for the next look.
    async fn look(
        &self,
        busy: &Arc<Mutex<HashSet<String>>>,
        stop: &CancellationToken,
    ) -> Result<(), DbError> {
        let now = now_ms();
        let settle_ms = self.settle_ms;
        // Past those still running, so a slow send does not hold back the rest.
        let read_ahead = u32::try_from(self.max_running * 4).unwrap_or(u32::MAX);
        // Read first: a look that finds nothing due costs no commit.
        let due = db::read(&self.reads, move |conn| {
            Ok::<_, DbError>(Due {
                sessions: telnyx::due_sessions(conn, now, settle_ms, read_ahead)?,
                retries: calls::find_due_retries(conn, now, read_ahead)?,
                holds_over: calls::next_hold_end(conn)?.is_some_and(|end| end <= now),
            })
        })
        .await?;
        if due.holds_over {
            let stale_ms = self.pipeline.stale_after_ms();
            let ended = self
                .writer
                .run(move |conn| end_expired_holds(conn, now_ms(), stale_ms))
                .await;
            match ended {
                Ok(0) => {}
                Ok(ended) => tracing::warn!(
                    calls = ended,
                    "no WhatsApp status came for sends interrupted by a restart: now FAILED, so they are sent again"
                ),
                // Ended at a later look; the settles and retries due now still start.
                Err(e) => {
                    tracing::warn!(db.error = %e, "timers: could not end the holds that are over yet")
                }
            }
        }
        let work = (due.sessions.into_iter().map(Work::Settle))
            .chain(due.retries.into_iter().map(|c| Work::Retry(Box::new(c))));
        for item in work {
            let running = busy.lock().unwrap_or_else(|e| e.into_inner()).len();
            if stop.is_cancelled() || running >= self.max_running {
                break;
            }
            let Some(claim) = Claim::take(busy, item.key()) else {
                continue;
            };
            let this = self.clone();
            self.pipeline.in_flight().spawn(async move {
                match item {
                    Work::Settle(session) => this.settle(&session).await,
                    Work::Retry(call) => this.retry(*call).await,
                }
                drop(claim);
                // Room for the next one.
                this.wake.notify_one();
            });
        }
        Ok(())
    }

    /// A closed session: answered, set aside, or a missed call through the pipeline.
    async fn settle(&self, session_id: &str) {
        let id = session_id.to_string();
        let plan = self
            .writer
            .run(move |conn| plan_settlement(conn, &id, now_ms()))
            .await;
        let (restaurant_id, report) = match plan {
            Ok(Plan::Settled) => return,
            Ok(Plan::Run {
                restaurant_id,
                report,
            }) => (restaurant_id, report),
            Err(e) => {
                tracing::warn!(telnyx.session = %session_id, db.error = %e, "a closed call could not be settled yet; trying again");
                return;
            }
        };
        let ran = self.pipeline.report(&restaurant_id, *report).await;
        let settlement = session::settlement_of(session_id, ran);
        if let Some((settlement, call_id)) = settlement {
            let id = session_id.to_string();
            let stored = self
                .writer
                .run_always(move |conn| {
                    Ok::<_, DbError>(telnyx::settle(
                        conn,
                        &id,
                        settlement,
                        call_id.as_deref(),
                        now_ms(),
                    )?)
                })
                .await;
            if let Err(e) = stored {
                // Settled again later: the pipeline then answers the call's replay.
                tracing::warn!(telnyx.session = %session_id, db.error = %e, "could not mark a call session settled");
            }
        }
    }

    /// A FAILED Telnyx call whose next attempt is due, sent again through the pipeline.
    async fn retry(&self, call: CallRow) {
        let now = now_ms();
        let forgotten = call.is_forgotten();
        if forgotten || now - call.occurred_at >= self.pipeline.stale_after_ms() {
            let id = call.id.clone();
            let _ = self
                .writer
                .run(move |conn| Ok::<_, DbError>(calls::set_next_attempt(conn, &id, None)?))
                .await;
            if !forgotten {
                tracing::warn!(call.id = %call.id, "a failed call is now too old to send: it stays FAILED");
            }
            return;
        }
        let caller = match &call.caller_e164 {
            Some(number) => Caller::Number(E164::from_stored(number)),
            None => Caller::Hidden(call.caller_raw.clone()),
        };
        let report = Report {
            caller,
            external_call_id: call.external_call_id.clone(),
            occurred_at: Some(call.occurred_at),
            received_at: now,
            source: Source::Telnyx,
            retry_of: Some(call.attempts),
        };
        tracing::info!(call.id = %call.id, attempt = call.attempts + 1, "sending a failed call again");
        match self.pipeline.report(&call.restaurant_id, report).await {
            Ok(_) | Err(PipelineError::RetryNotDue { .. }) => {}
            Err(e) => {
                tracing::warn!(call.id = %call.id, error = %e, "a retry of a failed call did not run")
            }
        }
    }
}

/// A session's or a call's place in the busy set, given back when dropped.
struct Claim {
    busy: Arc<Mutex<HashSet<String>>>,
    key: String,
}

impl Claim {
    /// Marks `key` busy until the claim is dropped; `None` if it already was.
    fn take(busy: &Arc<Mutex<HashSet<String>>>, key: &str) -> Option<Claim> {
        let mut set = busy.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(key.to_string()).then(|| Claim {
            busy: Arc::clone(busy),
            key: key.to_string(),
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut set = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        set.remove(&self.key);
    }
}
