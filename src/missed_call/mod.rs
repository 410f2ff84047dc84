//! The missed-call pipeline (SPEC §1): idempotency, caller, customer, reservation, gates, then
//! the dispatch outside any transaction and a second short job that records its result.

mod dispatch;
pub mod gates;
mod ledger;
mod reconcile;
pub mod retry;

use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::config::{MissedCallsConfig, WhatsAppConfig};
use crate::db::calls::{self, CallDecision, CallRow};
use crate::db::customers::match_or_create_customer;
use crate::db::reservations::find_upcoming_reservation;
use crate::db::restaurants::{Restaurant, find_restaurant};
use crate::db::{DbError, StorageFault, Writer};
use crate::domain::{Outcome, Source, TemplateType};
use crate::links::{booking_link, new_link_token};
use crate::phone::{Caller, E164, mask};
use crate::telemetry::metrics::Metrics;
use crate::time::{local_date_and_time, now_ms};
use crate::vault::{KeyProblem, Vault};
use crate::whatsapp::template::{Variables, build_payload, sent_with};
use crate::whatsapp::{Outgoing, Transport};
use gates::{Gate, GateInput, Guest, Outbound};
use ledger::{Claimed, claim_call_row};
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
        let this = self.clone();
        let rid = restaurant_id.to_string();
        self.in_flight
            .spawn(async move { this.run(rid, report).await })
            .await
            .map_err(|e| DbError::Task(e.to_string()))?
    }

    async fn run(&self, restaurant_id: String, report: Report) -> Result<Handled, PipelineError> {
        let context = Context {
            rules: Arc::clone(&self.rules),
            public_url: Arc::clone(&self.public_url),
            vault: Arc::clone(&self.vault),
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

/// What a decision reads besides the database.
struct Context {
    rules: Arc<MissedCallsConfig>,
    public_url: Arc<str>,
    vault: Arc<Vault>,
}

/// Steps 3 to 7 and the claim, as one job of the writer.
fn decide(
    conn: &Connection,
    restaurant_id: &str,
    report: &Report,
    context: &Context,
    now: i64,
) -> Result<Decision, PipelineError> {
    let rules = &*context.rules;
    let restaurant = find_restaurant(conn, restaurant_id)?.ok_or(PipelineError::RestaurantGone)?;
    // Step 3: idempotency. The insert claims the key.
    let row = match claim_call_row(conn, &restaurant, report)? {
        Claimed::Run(row) => row,
        Claimed::Replay(row) => return Ok(Decision::Replay(row)),
    };
    // Steps 4 to 6: the caller, the customer, the upcoming reservation, the template type.
    let guest = match &report.caller {
        Caller::Hidden(_) => None,
        Caller::Number(number) => {
            Some(identify(conn, &restaurant, number, row.occurred_at, rules)?)
        }
    };
    // Step 7: the gates; the last one debits the balance.
    let gate = gates::evaluate(
        conn,
        &GateInput {
            restaurant: &restaurant,
            guest: guest.as_ref(),
            call_id: &row.id,
            occurred_at: row.occurred_at,
            now,
            rules,
            vault: &context.vault,
        },
    )?;
    let (link_token, prepared) = prepare(&gate, &row, &restaurant, guest.as_ref(), context);
    let decided = Decided {
        guest: guest.as_ref(),
        gate: &gate,
        link_token,
        sent_with: prepared.as_ref().map(|(_, m)| m.as_str()),
    };
    let row = write_decision(conn, row, &decided, now)?;
    Ok(match (gate, prepared) {
        (Gate::Open(send), Some((vars, _))) => Decision::Dispatch(Box::new(Claim {
            send: *send,
            vars,
            row,
        })),
        _ => Decision::Done(row),
    })
}

/// For an open gate: the link token (a retry keeps the one it had) and the template's variables
/// with what the message is sent with; a closed gate keeps the row's token, if any.
fn prepare(
    gate: &Gate,
    row: &CallRow,
    restaurant: &Restaurant,
    guest: Option<&Guest>,
    context: &Context,
) -> (Option<String>, Option<(Variables, String)>) {
    let Gate::Open(send) = gate else {
        return (row.link_token.clone(), None);
    };
    let token = row.link_token.clone().unwrap_or_else(new_link_token);
    let vars = variables(restaurant, guest, &context.public_url, &token);
    let sent_with = sent_with(&send.template, &vars);
    (Some(token), Some((vars, sent_with)))
}

/// What steps 4 to 7 decided for a call, to be written over its row.
struct Decided<'a> {
    guest: Option<&'a Guest>,
    gate: &'a Gate,
    link_token: Option<String>,
    /// For a claimed dispatch: the template, language, parameters and link it sends with.
    sent_with: Option<&'a str>,
}

/// Steps 5 and 6 for a known number.
fn identify(
    conn: &Connection,
    restaurant: &Restaurant,
    number: &E164,
    occurred_at: i64,
    rules: &MissedCallsConfig,
) -> Result<Guest, PipelineError> {
    let (customer, created) =
        match_or_create_customer(conn, &restaurant.id, number.as_str(), None, "MISSED_CALL")?;
    let not_before = occurred_at - rules.reservation_grace_minutes * 60_000;
    let reservation = find_upcoming_reservation(conn, &restaurant.id, &customer.id, not_before)?;
    let template_type = match reservation {
        Some(_) => TemplateType::MissedCallWithReservation,
        None => TemplateType::MissedCall,
    };
    Ok(Guest {
        number: number.clone(),
        customer,
        new_customer: created,
        reservation,
        template_type,
    })
}

/// Writes what was decided over the claimed row; returns the row as it now reads.
fn write_decision(
    conn: &Connection,
    row: CallRow,
    decided: &Decided<'_>,
    now: i64,
) -> Result<CallRow, PipelineError> {
    let (guest, gate, link_token) = (decided.guest, decided.gate, decided.link_token.clone());
    let (outcome, debited) = match gate {
        Gate::Skip(outcome) => (*outcome, 0),
        Gate::Sealed(_) => (Outcome::SkippedNoWhatsapp, 0),
        Gate::Open(send) => (Outcome::Dispatching, send.debited),
    };
    // Why the restaurant has no usable WhatsApp, for the console and `calls show`: the key file.
    let error = match gate {
        Gate::Sealed(problem) => Some((KeyProblem::CODE, problem.to_string())),
        _ => None,
    };
    let customer_id = guest.map(|g| g.customer.id.clone());
    let reservation_id = guest.and_then(|g| g.reservation.as_ref().map(|r| r.id.clone()));
    let template_type = guest.map(|g| g.template_type);
    calls::record_decision(
        conn,
        &row.id,
        &CallDecision {
            customer_id: customer_id.as_deref(),
            reservation_id: reservation_id.as_deref(),
            template_type,
            occurred_at: row.occurred_at,
            outcome,
            debited_cents: debited,
            link_token: link_token.as_deref(),
            new_customer: guest.is_some_and(|g| g.new_customer),
            error: error
                .as_ref()
                .map(|(code, message)| (*code, message.as_str())),
            sent_with: decided.sent_with,
        },
        now,
    )?;
    let (error_code, error_message) = error
        .map(|(code, message)| (code.to_string(), message))
        .unzip();
    Ok(CallRow {
        customer_id,
        reservation_id,
        template_type,
        outcome,
        message_id: None,
        error_code,
        error_message,
        debited_cents: debited,
        link_token,
        // As `record_decision` counts them: a claimed dispatch is one more attempt.
        attempts: row.attempts + i64::from(outcome == Outcome::Dispatching),
        next_attempt_at: None,
        delivery_state: None,
        ..row
    })
}

/// The template's variables for this call (SPEC §5.2).
fn variables(
    restaurant: &Restaurant,
    guest: Option<&Guest>,
    public_url: &str,
    token: &str,
) -> Variables {
    let tz = restaurant.time_zone();
    Variables {
        customer_name: guest.and_then(|g| g.customer.name.clone()),
        restaurant_name: restaurant.name.clone(),
        reservation: guest.and_then(|g| g.reservation.as_ref()).map(|r| {
            let (date, time) = local_date_and_time(r.start_at, &tz);
            (date, time, r.party_size)
        }),
        booking_link: booking_link(public_url, restaurant.booking_url.as_deref(), token),
        booking_token: token.to_string(),
    }
}
