//! The missed-call pipeline (SPEC §1): idempotency, caller, customer, reservation, gates, then
//! the dispatch outside any transaction and a second short job that records its result.

mod decide;
mod dispatch;
pub mod gates;
mod ledger;
mod reconcile;
pub mod retry;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::config::{MissedCallsConfig, WhatsAppConfig};
use crate::db::calls::CallRow;
use crate::db::{DbError, StorageFault, Writer};
use crate::domain::{Outcome, Source};
use crate::phone::{Caller, mask};
use crate::telemetry::metrics::Metrics;
use crate::time::now_ms;
use crate::vault::Vault;
use crate::whatsapp::template::{Variables, build_payload};
use crate::whatsapp::{Outgoing, Transport};
use decide::{Context, decide};
use gates::Outbound;
pub use reconcile::{Recovered, end_expired_holds, recover_interrupted, status_proves_the_send};

/// A missed call as the edge parsed it: nothing here can be malformed.
#[derive(Debug, Clone)]
pub struct Report {
    pub caller: Caller,
    pub external_call_id: Option<String>,
    /// `None`: the report did not say; the arrival time (or, on a retry, the stored time) is used.
    pub occurred_at: Option<i64>,
    pub received_at: i64,
    pub source: Source,
    /// Set by ringback's own retry of a FAILED call: the attempts it saw. The row is run again
    /// only if it is still that failure and its retry is due; else it is left as it is.
    pub retry_of: Option<i64>,
}

/// Who reports a call through the partner API, as the request was admitted: the token, and the
/// restaurant's country and zone its caller number and time were read with. The claim checks
/// both in its own transaction, so that a token remembered from an earlier request is as good
/// as one looked up now (SPEC §2.1).
#[derive(Debug, Clone)]
pub struct Reporter {
    pub token_id: String,
    pub country: String,
    pub timezone: String,
}

/// The ledger row a report ended with.
#[derive(Debug, Clone)]
pub struct Handled {
    pub call: CallRow,
    /// Set for a replay of a call that already ended: its stored outcome.
    pub original_outcome: Option<Outcome>,
}

impl Handled {
    /// The outcome this report is answered with: a replay's is `SKIPPED_DUPLICATE`.
    pub fn reported_outcome(&self) -> Outcome {
        match self.original_outcome {
            Some(_) => Outcome::SkippedDuplicate,
            None => self.call.outcome,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Being sent, or waiting for WhatsApp's status to say whether its message left; for
    /// `retry_after_ms` more at least (0: a send in flight, a moment).
    #[error("call {call_id} is being dispatched right now")]
    CallInProgress {
        call_id: String,
        retry_after_ms: i64,
    },
    #[error("the external_call_id was already used for a different caller number")]
    ExternalCallIdReused,
    #[error("the restaurant no longer exists")]
    RestaurantGone,
    /// The reporting token was revoked (or moved) since the request was admitted; nothing was
    /// claimed.
    #[error("the token was revoked")]
    TokenRevoked,
    /// The restaurant's country or zone changed since the report was read with them; nothing
    /// was claimed, and the report is to be read again.
    #[error("the restaurant's country or time zone changed")]
    ReporterChanged,
    /// ringback's own retry found the call changed since it read it (run, or its retry moved).
    #[error("call {call_id} is not due for a retry any more")]
    RetryNotDue { call_id: String },
    /// The call's row was deleted while its message was being sent (its restaurant removed):
    /// there is nothing left to record the result on, now or later.
    #[error("call {call_id} was deleted while it was being sent")]
    CallGone { call_id: String },
    /// The send ended but its result could not be committed yet; it is being retried, and a
    /// replay reports it once it is stored.
    #[error("the result of call {call_id} could not be stored yet: {source}")]
    ResultNotRecorded { call_id: String, source: DbError },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for PipelineError {
    fn from(e: rusqlite::Error) -> Self {
        PipelineError::Db(DbError::Sqlite(e))
    }
}

impl StorageFault for PipelineError {
    fn is_storage_fault(&self) -> bool {
        match self {
            PipelineError::Db(e) => e.is_storage_fault(),
            PipelineError::ResultNotRecorded { .. } => true,
            _ => false,
        }
    }
}

/// What the claim job decided.
enum Decision {
    /// A replay of a call that ended: answer with the stored row.
    Replay(CallRow),
    /// A gate closed; the row holds the outcome.
    Done(CallRow),
    /// The dispatch is claimed; send this.
    Dispatch(Box<Claim>),
}

struct Claim {
    send: Outbound,
    vars: Variables,
    /// The ledger row as claimed (DISPATCHING, with what it debited).
    row: CallRow,
}

impl Claim {
    /// The message to send. Built after the claim's commit, off the single writer's thread.
    fn message(&self) -> Outgoing {
        let send = &self.send;
        Outgoing {
            payload: build_payload(&send.template, &self.vars, send.to.as_str(), &self.row.id),
            call_id: self.row.id.clone(),
            phone_number_id: send.account.phone_number_id.clone(),
            access_token: send.account.access_token.clone(),
            to: send.to.as_str().to_string(),
        }
    }
}

/// Runs reports through the pipeline; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    metrics: Metrics,
    writer: Writer,
    transport: Arc<dyn Transport>,
    /// Bounds the blocking threads that wait on WhatsApp (`whatsapp.dispatch_threads`).
    dispatch_slots: Arc<Semaphore>,
    /// How long a claimed dispatch may wait for a free slot (`whatsapp.timeout_ms`).
    slot_wait: Duration,
    rules: Arc<MissedCallsConfig>,
    /// Opens each restaurant's access token for its send (SPEC §8.2).
    vault: Arc<Vault>,
    /// `server.public_url`: where a message's booking link points (SPEC §9).
    public_url: Arc<str>,
    /// With the WhatsApp webhook on, how long a timed-out send's retry waits for its status.
    status_wait_ms: i64,
    /// Reports in flight, and results still being stored, which shutdown waits for.
    in_flight: TaskTracker,
    /// Set when a send's result can be stored in no way: the process must stop.
    fatal: Fatal,
}

/// A reason the process must stop, set once by the pipeline and awaited by the app.
#[derive(Clone, Default)]
pub struct Fatal {
    reason: Arc<std::sync::OnceLock<String>>,
    set: tokio_util::sync::CancellationToken,
}

impl Fatal {
    pub fn stop(&self, reason: String) {
        let _ = self.reason.set(reason);
        self.set.cancel();
    }

    /// Resolves with the reason once the process must stop.
    pub async fn stopped(&self) -> String {
        self.set.cancelled().await;
        self.reason.get().cloned().unwrap_or_default()
    }
}

impl Pipeline {
    pub fn new(
        metrics: Metrics,
        writer: Writer,
        transport: Arc<dyn Transport>,
        whatsapp: &WhatsAppConfig,
        rules: MissedCallsConfig,
        public_url: &str,
        vault: Arc<Vault>,
    ) -> Pipeline {
        Pipeline {
            metrics,
            writer,
            transport,
            dispatch_slots: Arc::new(Semaphore::new(whatsapp.dispatch_threads)),
            slot_wait: Duration::from_millis(whatsapp.timeout_ms),
            rules: Arc::new(rules),
            vault,
            public_url: public_url.into(),
            status_wait_ms: if whatsapp.webhook_on() {
                whatsapp.reconcile_seconds * 1000
            } else {
                0
            },
            in_flight: TaskTracker::new(),
            fatal: Fatal::default(),
        }
    }

    /// `missed_calls.stale_after_minutes`, in ms: no retry is planned past it.
    pub fn stale_after_ms(&self) -> i64 {
        self.rules.stale_after_minutes * 60_000
    }

    /// What decides when ringback sends a FAILED Telnyx call again.
    pub fn retry_rule(&self) -> retry::RetryRule {
        retry::RetryRule {
            stale_after_ms: self.stale_after_ms(),
            status_wait_ms: self.status_wait_ms,
        }
    }

    pub fn in_flight(&self) -> &TaskTracker {
        &self.in_flight
    }

    /// Resolves when a send's result could be stored in no way, with why: the process stops
    /// and start-up recovery settles the row.
    pub fn fatal(&self) -> &Fatal {
        &self.fatal
    }

    /// Runs one report for `restaurant_id` to its outcome.
    ///
    /// The run is a task of its own: a PBX that hangs up while its report is being claimed or
    /// sent must not leave a claimed row in DISPATCHING, and shutdown waits for the task.
    pub async fn report(
        &self,
        restaurant_id: &str,
        report: Report,
    ) -> Result<Handled, PipelineError> {
        self.report_as(restaurant_id, None, report).await
    }

    /// `report` for a partner's request: the claim first checks that `reporter` still holds.
    pub async fn report_as(
        &self,
        restaurant_id: &str,
        reporter: Option<Reporter>,
        report: Report,
    ) -> Result<Handled, PipelineError> {
        let this = self.clone();
        let rid = restaurant_id.to_string();
        self.in_flight
            .spawn(async move { this.run(rid, reporter, report).await })
            .await
            .map_err(|e| DbError::Task(e.to_string()))?
    }

    async fn run(
        &self,
        restaurant_id: String,
        reporter: Option<Reporter>,
        report: Report,
    ) -> Result<Handled, PipelineError> {
        let context = Context {
            rules: Arc::clone(&self.rules),
            public_url: Arc::clone(&self.public_url),
            vault: Arc::clone(&self.vault),
            reporter,
        };
        let decision = self
            .writer
            .run(move |conn| decide(conn, &restaurant_id, &report, &context, now_ms()))
            .await?;
        let handled = match decision {
            Decision::Replay(call) => Handled {
                original_outcome: Some(call.outcome),
                call,
            },
            Decision::Done(call) => Handled {
                call,
                original_outcome: None,
            },
            Decision::Dispatch(claim) => {
                let result = self.send(&claim).await;
                Handled {
                    call: self.record(claim.row, result).await?,
                    original_outcome: None,
                }
            }
        };
        log_outcome(&handled);
        self.metrics.report(handled.reported_outcome());
        Ok(handled)
    }
}

/// One line per report, for the person reading the log: a failure stands out as a warning.
/// WhatsApp's error text stays in the ledger, not the log: it may quote the recipient.
fn log_outcome(handled: &Handled) {
    let call = &handled.call;
    let outcome = handled.reported_outcome();
    let caller = mask(call.caller_e164.as_deref().unwrap_or(&call.caller_raw));
    let error = call.error_code.as_deref().unwrap_or("");
    if matches!(outcome, Outcome::Failed | Outcome::Undeliverable) {
        tracing::warn!(
            call.id = %call.id, restaurant.id = %call.restaurant_id, caller = %caller,
            outcome = %outcome, error.code = error,
            "missed call not delivered"
        );
    } else {
        tracing::info!(
            call.id = %call.id, restaurant.id = %call.restaurant_id, caller = %caller,
            outcome = %outcome, "missed call handled"
        );
    }
}
