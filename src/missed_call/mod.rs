//! The missed-call pipeline (SPEC §1): idempotency, caller, customer, reservation, gates, then
//! the dispatch outside any transaction and a second short job that records its result.

pub mod gates;
mod ledger;
pub mod outcome;

use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::config::MissedCallsConfig;
use crate::db::calls::{self, CallDecision, CallRow};
use crate::db::customers::match_or_create_customer;
use crate::db::reservations::find_upcoming_reservation;
use crate::db::restaurants::WhatsAppAccount;
use crate::db::restaurants::find_restaurant;
use crate::db::templates::{Template, TemplateType};
use crate::db::{DbError, Writer};
use crate::phone::{Caller, E164, mask};
use crate::time::{local_date_and_time, now_ms};
use crate::whatsapp::template::{Variables, build_payload};
use crate::whatsapp::{DispatchResult, Outgoing, Transport};
use gates::{Gate, GateInput};
pub use ledger::recover_interrupted;
use ledger::{claim_call_row, record_result};
use outcome::Outcome;

/// A missed call as the edge parsed it: nothing here can be malformed.
#[derive(Debug, Clone)]
pub struct Report {
    pub caller: Caller,
    pub external_call_id: Option<String>,
    /// `None`: the report did not say; the arrival time (or, on a retry, the stored time) is used.
    pub occurred_at: Option<i64>,
    pub received_at: i64,
}

/// The ledger row a report ended with.
#[derive(Debug, Clone)]
pub struct Handled {
    pub call: CallRow,
    /// Set for a replay of a call that already ended: its stored outcome.
    pub original_outcome: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("call {call_id} is being dispatched right now")]
    CallInProgress { call_id: String },
    #[error("the external_call_id was already used for a different caller number")]
    ExternalCallIdReused,
    #[error("the restaurant no longer exists")]
    RestaurantGone,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for PipelineError {
    fn from(e: rusqlite::Error) -> Self {
        PipelineError::Db(DbError::Sqlite(e))
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
    template: Template,
    vars: Variables,
    account: WhatsAppAccount,
    to: E164,
    /// The ledger row as claimed (DISPATCHING, with what it debited).
    row: CallRow,
}

impl Claim {
    /// The message to send. Built after the claim's commit, off the single writer's thread.
    fn message(&self) -> Outgoing {
        Outgoing {
            payload: build_payload(&self.template, &self.vars, self.to.as_str(), &self.row.id),
            call_id: self.row.id.clone(),
            phone_number_id: self.account.phone_number_id.clone(),
            access_token: self.account.access_token.clone(),
            to: self.to.as_str().to_string(),
        }
    }
}

/// Runs reports through the pipeline; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    writer: Writer,
    transport: Arc<dyn Transport>,
    /// Bounds the blocking threads that wait on WhatsApp (`whatsapp.dispatch_threads`).
    dispatch_slots: Arc<Semaphore>,
    rules: Arc<MissedCallsConfig>,
    /// Reports in flight, which shutdown waits for.
    in_flight: TaskTracker,
}

impl Pipeline {
    pub fn new(
        writer: Writer,
        transport: Arc<dyn Transport>,
        dispatch_threads: usize,
        rules: MissedCallsConfig,
    ) -> Pipeline {
        Pipeline {
            writer,
            transport,
            dispatch_slots: Arc::new(Semaphore::new(dispatch_threads)),
            rules: Arc::new(rules),
            in_flight: TaskTracker::new(),
        }
    }

    pub fn in_flight(&self) -> &TaskTracker {
        &self.in_flight
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
        let rules = Arc::clone(&self.rules);
        let decision = self
            .writer
            .run(move |conn| decide(conn, &restaurant_id, &report, &rules, now_ms()))
            .await?;
        let handled = match decision {
            Decision::Replay(call) => Handled {
                original_outcome: Some(call.outcome.clone()),
                call,
            },
            Decision::Done(call) => Handled {
                call,
                original_outcome: None,
            },
            Decision::Dispatch(claim) => Handled {
                call: self.dispatch(*claim).await?,
                original_outcome: None,
            },
        };
        log_outcome(&handled);
        Ok(handled)
    }

    async fn dispatch(&self, claim: Claim) -> Result<CallRow, PipelineError> {
        let result = if self.transport.blocks() {
            let _slot = self
                .dispatch_slots
                .acquire()
                .await
                .map_err(|e| DbError::Task(e.to_string()))?;
            let transport = Arc::clone(&self.transport);
            let message = claim.message();
            let span = tracing::Span::current();
            tokio::task::spawn_blocking(move || {
                let _entered = span.enter();
                transport.send(&message)
            })
            .await
            .unwrap_or_else(|e| DispatchResult::Failed {
                code: "transport".into(),
                message: format!("the dispatch thread failed: {e}"),
            })
        } else {
            self.transport.send(&claim.message())
        };
        self.writer
            .run(move |conn| record_result(conn, claim, &result, now_ms()))
            .await
    }
}

/// One line per report, for the person reading the log: a failure stands out as a warning.
/// WhatsApp's error text stays in the ledger, not the log: it may quote the recipient.
fn log_outcome(handled: &Handled) {
    let call = &handled.call;
    let outcome = match handled.original_outcome {
        Some(_) => Outcome::SkippedDuplicate.as_str(),
        None => call.outcome.as_str(),
    };
    let caller = mask(call.caller_e164.as_deref().unwrap_or(&call.caller_raw));
    let error = call.error_code.as_deref().unwrap_or("");
    if outcome == Outcome::Failed.as_str() || outcome == Outcome::Undeliverable.as_str() {
        tracing::warn!(
            call.id = %call.id, restaurant.id = %call.restaurant_id, caller = %caller,
            outcome, error.code = error,
            "missed call not delivered"
        );
    } else {
        tracing::info!(
            call.id = %call.id, restaurant.id = %call.restaurant_id, caller = %caller,
            outcome, "missed call handled"
        );
    }
}

/// Steps 3 to 7 and the claim, as one job of the writer.
fn decide(
    conn: &Connection,
    restaurant_id: &str,
    report: &Report,
    rules: &MissedCallsConfig,
    now: i64,
) -> Result<Decision, PipelineError> {
    let restaurant = find_restaurant(conn, restaurant_id)?.ok_or(PipelineError::RestaurantGone)?;
    let mut row = match claim_call_row(conn, &restaurant, report)? {
        Ok(claimed) => claimed,
        Err(replay) => return Ok(Decision::Replay(replay)),
    };
    let (call_id, occurred_at) = (row.id.clone(), row.occurred_at);

    let (customer, reservation, template_type) = match &report.caller {
        Caller::Hidden(_) => (None, None, None),
        Caller::Number(number) => {
            let (customer, _) = match_or_create_customer(
                conn,
                &restaurant.id,
                number.as_str(),
                None,
                "MISSED_CALL",
            )?;
            let not_before = occurred_at - rules.reservation_grace_minutes * 60_000;
            let reservation =
                find_upcoming_reservation(conn, &restaurant.id, &customer.id, not_before)?;
            let template_type = if reservation.is_some() {
                TemplateType::MissedCallWithReservation
            } else {
                TemplateType::MissedCall
            };
            (Some(customer), reservation, Some(template_type))
        }
    };

    let gate = gates::evaluate(
        conn,
        &GateInput {
            restaurant: &restaurant,
            caller: &report.caller,
            customer: customer.as_ref(),
            template_type,
            call_id: &call_id,
            occurred_at,
            now,
            rules,
        },
    )?;
    let (outcome, debited) = match &gate {
        Gate::Skip(outcome) => (*outcome, 0),
        Gate::Open { debited, .. } => (Outcome::Dispatching, *debited),
    };
    calls::record_decision(
        conn,
        &call_id,
        &CallDecision {
            customer_id: customer.as_ref().map(|c| c.id.as_str()),
            reservation_id: reservation.as_ref().map(|r| r.id.as_str()),
            template_type: template_type.map(TemplateType::as_str),
            occurred_at,
            outcome: outcome.as_str(),
            debited_cents: debited,
        },
        now,
    )?;
    // The row as `record_decision` left it: no need to read it back.
    row = CallRow {
        customer_id: customer.as_ref().map(|c| c.id.clone()),
        reservation_id: reservation.as_ref().map(|r| r.id.clone()),
        template_type: template_type.map(|t| t.as_str().to_string()),
        outcome: outcome.as_str().to_string(),
        message_id: None,
        error_code: None,
        error_message: None,
        debited_cents: debited,
        ..row
    };

    let (Gate::Open { template, .. }, Caller::Number(number), Some(account)) =
        (gate, &report.caller, restaurant.whatsapp.as_ref())
    else {
        return Ok(Decision::Done(row));
    };
    let tz = restaurant.time_zone();
    let vars = Variables {
        customer_name: customer.as_ref().and_then(|c| c.name.clone()),
        restaurant_name: restaurant.name.clone(),
        reservation: reservation.as_ref().map(|r| {
            let (date, time) = local_date_and_time(r.start_at, &tz);
            (date, time, r.party_size)
        }),
        booking_link: restaurant.booking_url.clone().unwrap_or_default(),
        booking_token: call_id.clone(),
    };
    Ok(Decision::Dispatch(Box::new(Claim {
        template,
        vars,
        account: account.clone(),
        to: number.clone(),
        row,
    })))
}
