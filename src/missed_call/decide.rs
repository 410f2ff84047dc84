//! Steps 3 to 7 of SPEC §1 and the claim, as one job of the writer: the ledger row, the caller,
//! the customer, the upcoming reservation, the template type and the gates; then what was
//! decided, written over the claimed row.

use std::sync::Arc;

use rusqlite::Connection;

use super::gates::{self, Gate, GateInput, Guest};
use super::ledger::{Claimed, claim_call_row};
use super::{Claim, Decision, PipelineError, Report, Reporter};
use crate::config::MissedCallsConfig;
use crate::db::calls::{self, CallDecision, CallRow};
use crate::db::customers::match_or_create_customer;
use crate::db::reservations::find_upcoming_reservation;
use crate::db::restaurants::{Restaurant, find_restaurant};
use crate::db::tokens;
use crate::domain::{Outcome, TemplateType};
use crate::links::{booking_link, new_link_token};
use crate::phone::{Caller, E164};
use crate::time::local_date_and_time;
use crate::vault::{KeyProblem, Vault};
use crate::whatsapp::template::{Variables, sent_with};

/// What a decision reads besides the database.
pub(super) struct Context {
    pub(super) rules: Arc<MissedCallsConfig>,
    pub(super) public_url: Arc<str>,
    pub(super) vault: Arc<Vault>,
    pub(super) reporter: Option<Reporter>,
}

/// Steps 3 to 7 and the claim, as one job of the writer.
pub(super) fn decide(
    conn: &Connection,
    restaurant_id: &str,
    report: &Report,
    context: &Context,
    now: i64,
) -> Result<Decision, PipelineError> {
    let rules = &*context.rules;
    let restaurant = find_restaurant(conn, restaurant_id)?.ok_or(PipelineError::RestaurantGone)?;
    if let Some(reporter) = &context.reporter {
        check_reporter(conn, &restaurant, reporter)?;
    }
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

/// The partner's token is live, and the report was read with the restaurant as it is: checked in
/// the claim's transaction, the token's revocation takes effect as surely as a lookup would.
fn check_reporter(
    conn: &Connection,
    restaurant: &Restaurant,
    reporter: &Reporter,
) -> Result<(), PipelineError> {
    if !tokens::is_live(conn, &reporter.token_id, &restaurant.id)? {
        return Err(PipelineError::TokenRevoked);
    }
    if restaurant.country != reporter.country || restaurant.timezone != reporter.timezone {
        return Err(PipelineError::ReporterChanged);
    }
    Ok(())
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
