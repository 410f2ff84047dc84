//! A Telnyx call session (SPEC §10): how it folds from its events, whatever their order, and
//! how a closed one settles — answered, set aside, or a missed call run through the pipeline.
//! The webhook folds a session as each event arrives; `jobs::timers` settles it once it is due.

use rusqlite::Connection;

use crate::db::DbError;
use crate::db::calls;
use crate::db::restaurants::find_restaurant;
use crate::db::telnyx::{self, ANSWERED, HANGUP, INITIATED, SessionEvent, restaurant_by_number};
use crate::domain::{Settlement, Source};
use crate::missed_call::{Handled, PipelineError, Report};
use crate::phone::{Caller, mask};

/// A session as its events say it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// The caller, the number called (the restaurant's Telnyx number) and when the call began:
    /// from the incoming leg's events.
    pub from: Option<String>,
    pub to: Option<String>,
    pub started_at: Option<i64>,
    /// When the incoming leg's hangup arrived; `None` while the call is open.
    pub hangup_at: Option<i64>,
    /// Some leg of the session was answered.
    pub answered: bool,
    /// Already run through the pipeline, or set aside.
    pub settled: bool,
}

/// Folds every stored event of the session into its row, and returns it. The incoming leg is
/// the one `call.initiated` says is `incoming`; before that event arrives, a leg called on one
/// of the restaurants' Telnyx numbers (Telnyx's hangup does not say its direction) — unless an
/// event of that leg says it is `outgoing`. An outgoing leg (a transfer to the restaurant's
/// landline, a call the restaurant makes) counts for its answer only.
pub fn fold_session(conn: &Connection, session_id: &str, now: i64) -> rusqlite::Result<Session> {
    let events = telnyx::session_events(conn, session_id)?;
    let legs_initiated = |direction: &str| -> Vec<&str> {
        events
            .iter()
            .filter(|e| {
                e.event.event_type == INITIATED && e.event.direction.as_deref() == Some(direction)
            })
            .filter_map(|e| e.event.leg_id.as_deref())
            .collect()
    };
    let (incoming_legs, outgoing_legs) = (legs_initiated("incoming"), legs_initiated("outgoing"));
    let of_legs = |e: &SessionEvent, legs: &[&str]| {
        e.event.leg_id.as_deref().is_some_and(|l| legs.contains(&l))
    };
    // A leg that says, or whose `call.initiated` said, it is outgoing is never the incoming
    // one, whatever number it rang.
    let is_incoming = |e: &SessionEvent| {
        let outgoing =
            e.event.direction.as_deref() == Some("outgoing") || of_legs(e, &outgoing_legs);
        !outgoing
            && (e.event.direction.as_deref() == Some("incoming")
                || of_legs(e, &incoming_legs)
                || (incoming_legs.is_empty() && e.to_known_number))
    };
    let mut session = Session::default();
    for e in events.iter().filter(|e| is_incoming(e)) {
        session.from = session.from.take().or_else(|| e.event.from.clone());
        session.to = session.to.take().or_else(|| e.event.to.clone());
        session.started_at = session.started_at.or(e.event.started_at);
        if e.event.event_type == HANGUP {
            session.hangup_at = Some(
                session
                    .hangup_at
                    .map_or(e.event.received_at, |h| h.min(e.event.received_at)),
            );
        }
    }
    session.answered = events.iter().any(|e| e.event.event_type == ANSWERED);
    session.settled =
        telnyx::save_session(conn, session_id, session.hangup_at, session.answered, now)?;
    Ok(session)
}

/// What settling a session does: done here (answered, or set aside), or a report to run.
pub enum Plan {
    Settled,
    Run {
        restaurant_id: String,
        report: Box<Report>,
    },
}

pub fn plan_settlement(conn: &Connection, session_id: &str, now: i64) -> Result<Plan, DbError> {
    let session = fold_session(conn, session_id, now)?;
    let set_aside = |why: Settlement| -> Result<Plan, DbError> {
        telnyx::settle(conn, session_id, why, None, now)?;
        Ok(Plan::Settled)
    };
    if session.settled {
        return Ok(Plan::Settled);
    }
    if session.answered {
        return set_aside(Settlement::Answered);
    }
    let restaurant = match &session.to {
        Some(to) => match restaurant_by_number(conn, to)? {
            Some(id) => find_restaurant(conn, &id)?,
            None => None,
        },
        None => None,
    };
    let Some(restaurant) = restaurant else {
        tracing::info!(
            telnyx.session = %session_id, telnyx.number = %mask(session.to.as_deref().unwrap_or("unknown")),
            "a missed call to a Telnyx number no restaurant has; ignored"
        );
        return set_aside(Settlement::UnknownNumber);
    };
    // Already run through the pipeline, and a crash came before the session was marked: the
    // call's own row (and, if it failed, its planned retry) carries on from there.
    if let Some(call) = calls::find_call_by_external_id(conn, &restaurant.id, session_id)? {
        telnyx::settle(conn, session_id, Settlement::Missed, Some(&call.id), now)?;
        return Ok(Plan::Settled);
    }
    let from = session.from.clone().unwrap_or_default();
    let caller = match Caller::parse(&from, &restaurant.country) {
        Ok(caller) => caller,
        Err(_) => {
            tracing::warn!(
                telnyx.session = %session_id, caller = %mask(&from),
                "a missed call from a number that is not valid; ignored"
            );
            return set_aside(Settlement::InvalidCaller);
        }
    };
    let hangup_at = session.hangup_at.unwrap_or(now);
    Ok(Plan::Run {
        restaurant_id: restaurant.id,
        report: Box::new(Report {
            caller,
            external_call_id: Some(session_id.to_string()),
            // The call began before it was hung up; a clock that says otherwise is not trusted.
            occurred_at: Some(session.started_at.unwrap_or(hangup_at).min(now)),
            received_at: now,
            source: Source::Telnyx,
            retry_of: None,
        }),
    })
}

/// How a settled session's run through the pipeline ends it: `None` leaves it due, to be tried
/// again (the ledger could not store the call yet).
pub fn settlement_of(
    session_id: &str,
    ran: Result<Handled, PipelineError>,
) -> Option<(Settlement, Option<String>)> {
    match ran {
        Ok(handled) => Some((Settlement::Missed, Some(handled.call.id))),
        Err(
            PipelineError::CallInProgress { call_id, .. }
            | PipelineError::ResultNotRecorded { call_id, .. }
            | PipelineError::CallGone { call_id },
        ) => Some((Settlement::Missed, Some(call_id))),
        Err(PipelineError::RestaurantGone) => Some((Settlement::RestaurantRemoved, None)),
        Err(PipelineError::ExternalCallIdReused) => Some((Settlement::SessionReused, None)),
        // A settle is no retry and no partner's report; should it ever meet these, the session
        // is looked at again.
        Err(
            PipelineError::RetryNotDue { .. }
            | PipelineError::TokenRevoked
            | PipelineError::ReporterChanged,
        ) => None,
        // Not stored: the session stays due, and is tried again.
        Err(PipelineError::Db(e)) => {
            tracing::warn!(telnyx.session = %session_id, db.error = %e, "a missed call could not be stored yet; trying again");
            None
        }
    }
}
