//! The missed-call pipeline (SPEC §1): idempotency, caller, customer, reservation, gates, then
//! the dispatch outside any transaction and a second short job that records its result.

pub mod gates;
pub mod outcome;

use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::config::MissedCallsConfig;
use crate::db::calls::{self, CallDecision, CallRow, NewCall};
use crate::db::customers::{match_or_create_customer, set_suppressed};
use crate::db::reservations::find_upcoming_reservation;
use crate::db::restaurants::{Restaurant, credit_balance, find_restaurant};
use crate::db::templates::TemplateType;
use crate::db::{DbError, Writer};
use crate::phone::{Caller, mask};
use crate::secret::new_id;
use crate::time::{local_date_and_time, now_ms, zone};
use crate::whatsapp::template::{Variables, build_payload};
use crate::whatsapp::{DispatchResult, Outgoing, STOPPED_MARKETING_CODE, Transport};
use gates::{Gate, GateInput};
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
    Dispatch(Claim),
}

struct Claim {
    message: Outgoing,
    restaurant_id: String,
    customer_id: Option<String>,
    debited: i64,
}

/// Runs reports through the pipeline; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    writer: Writer,
    transport: Arc<dyn Transport>,
    /// Bounds the blocking threads that wait on WhatsApp (`whatsapp.dispatch_threads`).
    dispatch_slots: Arc<Semaphore>,
    rules: Arc<MissedCallsConfig>,
    /// Dispatches in flight, which shutdown waits for.
    dispatches: TaskTracker,
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
            dispatches: TaskTracker::new(),
        }
    }

    pub fn dispatches(&self) -> &TaskTracker {
        &self.dispatches
    }

    /// Runs one report for `restaurant_id` to its outcome.
    pub async fn report(
        &self,
        restaurant_id: &str,
        report: Report,
    ) -> Result<Handled, PipelineError> {
        let rules = Arc::clone(&self.rules);
        let rid = restaurant_id.to_string();
        let decision = self
            .writer
            .run(move |conn| decide(conn, &rid, &report, &rules, now_ms()))
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
            Decision::Dispatch(claim) => {
                // The send and its record run as their own task: a client that hangs up must not
                // leave the row in DISPATCHING, and shutdown waits for the task.
                let this = self.clone();
                let task = self
                    .dispatches
                    .spawn(async move { this.dispatch(claim).await });
                let call = task.await.map_err(|e| DbError::Task(e.to_string()))??;
                Handled {
                    call,
                    original_outcome: None,
                }
            }
        };
        let call = &handled.call;
        tracing::info!(
            call.id = %call.id,
            restaurant.id = %call.restaurant_id,
            caller = %mask(call.caller_e164.as_deref().unwrap_or(&call.caller_raw)),
            outcome = %handled.original_outcome.as_ref().map_or(call.outcome.as_str(), |_| "SKIPPED_DUPLICATE"),
            error.code = call.error_code.as_deref().unwrap_or(""),
            "missed call handled"
        );
        Ok(handled)
    }

    async fn dispatch(&self, claim: Claim) -> Result<CallRow, PipelineError> {
        let result = {
            let _slot = self
                .dispatch_slots
                .acquire()
                .await
                .map_err(|e| DbError::Task(e.to_string()))?;
            let transport = Arc::clone(&self.transport);
            let message = claim.message.clone();
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
        };
        self.writer
            .run(move |conn| {
                record_result(conn, &claim, &result, now_ms())?;
                calls::find_call_by_id(conn, &claim.message.call_id)?
                    .ok_or(PipelineError::RestaurantGone)
            })
            .await
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
    let (call_id, occurred_at) = match claim_call_row(conn, &restaurant, report)? {
        Ok(claimed) => claimed,
        Err(replay) => return Ok(Decision::Replay(replay)),
    };

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

    let (Gate::Open { template, debited }, Caller::Number(number), Some(account)) =
        (gate, &report.caller, restaurant.whatsapp.as_ref())
    else {
        let row = calls::find_call_by_id(conn, &call_id)?.ok_or(PipelineError::RestaurantGone)?;
        return Ok(Decision::Done(row));
    };
    let tz = zone(&restaurant.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
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
    Ok(Decision::Dispatch(Claim {
        message: Outgoing {
            payload: build_payload(&template, &vars, number.as_str(), &call_id),
            call_id,
            phone_number_id: account.phone_number_id.clone(),
            access_token: account.access_token.clone(),
            to: number.as_str().to_string(),
        },
        restaurant_id: restaurant.id.clone(),
        customer_id: customer.map(|c| c.id),
        debited,
    }))
}

/// Step 3: claims the ledger row by inserting it. `Ok(Ok((id, occurred_at)))` is the row to run
/// the pipeline on (new, or a FAILED one run again); `Ok(Err(row))` is a replay of a final call.
fn claim_call_row(
    conn: &Connection,
    restaurant: &Restaurant,
    report: &Report,
) -> Result<Result<(String, i64), CallRow>, PipelineError> {
    let id = new_id("call");
    let occurred_at = report.occurred_at.unwrap_or(report.received_at);
    let (caller_raw, caller_e164) = match &report.caller {
        Caller::Hidden(raw) => (raw.as_str(), None),
        Caller::Number(n) => (n.as_str(), Some(n.as_str())),
    };
    let inserted = calls::insert_call(
        conn,
        &NewCall {
            id: &id,
            restaurant_id: &restaurant.id,
            external_call_id: report.external_call_id.as_deref(),
            caller_raw,
            caller_e164,
            occurred_at,
            created_at: report.received_at,
        },
    )?;
    if inserted.is_some() {
        return Ok(Ok((id, occurred_at)));
    }
    let Some(key) = report.external_call_id.as_deref() else {
        return Err(PipelineError::Db(DbError::Task(
            "a call without external_call_id was not inserted".into(),
        )));
    };
    let existing = calls::find_call_by_external_id(conn, &restaurant.id, key)?
        .ok_or(PipelineError::RestaurantGone)?;
    let existing_caller = existing
        .caller_e164
        .as_deref()
        .unwrap_or(&existing.caller_raw);
    if existing_caller != report.caller.key() {
        return Err(PipelineError::ExternalCallIdReused);
    }
    match existing.outcome.as_str() {
        "DISPATCHING" => Err(PipelineError::CallInProgress {
            call_id: existing.id,
        }),
        // A retry keeps the stored time unless it states one: the call happened when it did.
        "FAILED" => Ok(Ok((
            existing.id.clone(),
            report.occurred_at.unwrap_or(existing.occurred_at),
        ))),
        _ => Ok(Err(existing)),
    }
}

/// The second, short job: how the dispatch ended, the refund, and 131050's suppression.
fn record_result(
    conn: &Connection,
    claim: &Claim,
    result: &DispatchResult,
    now: i64,
) -> Result<(), PipelineError> {
    let id = &claim.message.call_id;
    let (outcome, message_id, error) = match result {
        DispatchResult::Sent { message_id } => (Outcome::Sent, Some(message_id.as_str()), None),
        DispatchResult::Undeliverable { code, message } => (
            Outcome::Undeliverable,
            None,
            Some((code.as_str(), message.as_str())),
        ),
        DispatchResult::Failed { code, message } => (
            Outcome::Failed,
            None,
            Some((code.as_str(), message.as_str())),
        ),
    };
    let recorded =
        calls::record_dispatch_result(conn, id, outcome.as_str(), message_id, error, now)?;
    if !recorded {
        // A restart already turned the row FAILED and refunded it; nothing more to do.
        return Ok(());
    }
    if outcome != Outcome::Sent {
        credit_balance(conn, &claim.restaurant_id, claim.debited)?;
    }
    if let (DispatchResult::Undeliverable { code, .. }, Some(customer_id)) =
        (result, &claim.customer_id)
        && code == STOPPED_MARKETING_CODE
    {
        set_suppressed(conn, customer_id, true)?;
    }
    Ok(())
}

/// At start-up: rows a crash left in DISPATCHING become FAILED (`interrupted`) and are refunded,
/// so that a retry dispatches them. Returns how many.
pub fn recover_interrupted(conn: &Connection) -> Result<usize, DbError> {
    let now = now_ms();
    let rows = calls::find_in_flight(conn)?;
    for (id, restaurant_id, debited) in &rows {
        calls::record_dispatch_result(
            conn,
            id,
            Outcome::Failed.as_str(),
            None,
            Some(("interrupted", "the dispatch was interrupted by a restart")),
            now,
        )?;
        credit_balance(conn, restaurant_id, *debited)?;
    }
    Ok(rows.len())
}
