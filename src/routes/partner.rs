//! The partner endpoints (SPEC §2): parse the request, run the pipeline, shape the answer.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use super::bodies::MissedCallRequest;
use super::input::{check_length, parse_object, path_id, read_body, required, string_field};

use crate::auth::{Authenticated, ReportingToken};
use crate::db::restaurants::Restaurant;
use crate::db::{self, calls::find_call};
use crate::domain::{Outcome, Source};
use crate::error::ApiError;
use crate::error::responses;
use crate::missed_call::{Handled, PipelineError, Report};
use crate::phone::{Caller, PhoneError};
use crate::state::AppState;
use crate::time::{now_ms, parse_instant};
use crate::views::{CallView, Data, MeView};

/// Report a missed call
///
/// Runs the pipeline of SPEC §1 and answers its outcome. A `201` is never an error: skips and
/// refusals that a retry cannot fix are outcomes too. A replay of a final outcome answers
/// `SKIPPED_DUPLICATE` with `original_outcome`.
#[utoipa::path(
    post,
    path = "/api/partner/v1/missed-calls",
    tag = "missed calls",
    security(("bearer" = [])),
    request_body = MissedCallRequest,
    responses(
        (status = 201, description = "The call's outcome", body = Data<CallView>),
        responses::Partner,
        responses::JsonBody,
        responses::Dispatch,
    ),
)]
pub async fn report_missed_call(
    State(state): State<AppState>,
    mut token: ReportingToken,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Data<CallView>>), ApiError> {
    let received_at = now_ms();
    let read = match token.limit(&state) {
        Ok(()) => read_body(&headers, body, state.config.server.max_body_bytes).await,
        Err(e) => Err(e),
    };
    let answered = match read {
        // A revoked token hears 401, whatever else its request got wrong.
        Err(e) => Err(token.recheck(&state).await.err().unwrap_or(e)),
        Ok(bytes) => report(&state, &mut token, &bytes, received_at)
            .await
            .and_then(answer),
    };
    // Only a request its token authenticated is its use (SPEC §6.2); `token` notes it when
    // dropped, also when the client hangs up first.
    if matches!(answered, Err(ApiError::Unauthorized)) {
        token.refused();
    }
    answered
}

/// Reads the report with its restaurant and runs it. A token remembered from an earlier request
/// may carry the restaurant as it was: when the claim finds its country or zone changed, or the
/// report is refused before the pipeline, the token is read again and, the restaurant changed,
/// the report with it.
async fn report(
    state: &AppState,
    token: &mut ReportingToken,
    bytes: &[u8],
    received_at: i64,
) -> Result<Handled, ApiError> {
    let skew = state.config.missed_calls.max_future_skew_seconds;
    loop {
        let restaurant = &token.auth.restaurant;
        let ran = match parse_report(bytes, restaurant, skew, received_at) {
            Ok(report) => state
                .pipeline
                .report_as(&restaurant.id, Some(token.reporter()), report)
                .await
                .map_err(Refused::Pipeline),
            Err(e) => Err(Refused::Input(e)),
        };
        match ran {
            Ok(handled) => return Ok(handled),
            Err(Refused::Pipeline(PipelineError::TokenRevoked)) => return Err(token.revoked(state)),
            // The claim refused it before claiming anything: read again with the restaurant as
            // it now is. A token read afresh is never stale twice but by a change racing this
            // very request, which is answered as busy: nothing was recorded.
            Err(Refused::Pipeline(PipelineError::ReporterChanged)) if !token.is_fresh() => {
                token.refresh(state).await?;
            }
            // Refused before the pipeline: the restaurant may have changed since the token was
            // remembered (a national number of its new country), so it is read again.
            Err(Refused::Input(error)) => {
                if !token.recheck(state).await? {
                    return Err(error);
                }
            }
            // The claim job failed or never ran (a full queue, a storage fault), so nothing was
            // recorded and the token was not checked: a revoked one hears 401, as at its arrival.
            // (The pipeline's task dying is the one other way here; a bug, answered 500 or 401.)
            Err(Refused::Pipeline(error @ PipelineError::Db(_))) => {
                let error = ApiError::from(error);
                token.recheck(state).await?;
                return Err(error);
            }
            // Past the claim's check of the token, which may be after a claim and a send: the
            // pipeline's answer as it is, never run again.
            Err(Refused::Pipeline(error)) => return Err(error.into()),
        }
    }
}

/// Why one reading of a report was not stored.
enum Refused {
    Input(ApiError),
    Pipeline(PipelineError),
}

fn answer(handled: Handled) -> Result<(StatusCode, Json<Data<CallView>>), ApiError> {
    let call = handled.call;
    if handled.original_outcome.is_none() && call.outcome == Outcome::Failed {
        return Err(ApiError::DispatchFailed {
            call_id: call.id,
            code: call.error_code,
            message: call.error_message,
        });
    }
    let mut view = CallView::from_row(&call);
    if let Some(original) = handled.original_outcome {
        view.outcome = Outcome::SkippedDuplicate;
        view.original_outcome = Some(original);
    }
    Ok((StatusCode::CREATED, Json(Data { data: view })))
}

/// Turns a request body into a `Report` the pipeline can trust (SPEC §2.2, §4.1, §4.2), for the
/// restaurant the token belongs to. Pure: no I/O, so it can be fuzzed on its own.
pub fn parse_report(
    bytes: &[u8],
    restaurant: &Restaurant,
    max_future_skew_seconds: i64,
    received_at: i64,
) -> Result<Report, ApiError> {
    let body = parse_object(bytes)?;
    let caller = required(
        string_field(&body, "caller_phone_number")?,
        "caller_phone_number",
    )?;
    let external_call_id = string_field(&body, "external_call_id")?;
    let occurred_at = string_field(&body, "occurred_at")?;

    check_length(caller.trim(), "caller_phone_number", 3..=40)?;
    if let Some(id) = external_call_id {
        check_length(id, "external_call_id", 1..=128)?;
    }
    let occurred_at = match occurred_at {
        None => None,
        Some(text) => {
            let tz = restaurant.time_zone();
            let at = parse_instant(text, &tz).ok_or_else(|| {
                ApiError::validation(
                    "occurred_at",
                    "occurred_at must be a date and time in 2000–2099, like 2026-05-10T12:23:00Z (an offset within ±23:59, or none for the restaurant's local time)",
                )
            })?;
            let skew = max_future_skew_seconds;
            if at > received_at + skew * 1000 {
                return Err(ApiError::validation(
                    "occurred_at",
                    format!("occurred_at is more than {skew} seconds in the future"),
                ));
            }
            Some(at)
        }
    };
    let caller = Caller::parse(caller, &restaurant.country).map_err(|e| {
        let message = match e {
            PhoneError::Invalid(..) | PhoneError::Unparseable(_) => format!(
                "caller_phone_number is not a valid phone number for {}",
                restaurant.country
            ),
            PhoneError::UnknownCountry(c) => format!("the restaurant's country {c} is unknown"),
        };
        ApiError::validation("caller_phone_number", message)
    })?;
    Ok(Report {
        caller,
        external_call_id: external_call_id.map(str::to_string),
        occurred_at,
        received_at,
        source: Source::Partner,
        retry_of: None,
    })
}

/// Read a missed call
///
/// The ledger row with its stored outcome (never `SKIPPED_DUPLICATE`): lets an integrator that
/// got a `409` or lost a response learn the final outcome.
#[utoipa::path(
    get,
    path = "/api/partner/v1/missed-calls/{id}",
    tag = "missed calls",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The call's id, `call_…`")),
    responses(
        (status = 200, description = "The call", body = Data<CallView>),
        responses::Partner,
        responses::PathId,
    ),
)]
pub async fn get_missed_call(
    State(state): State<AppState>,
    auth: Authenticated,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Data<CallView>>, ApiError> {
    let id = path_id(id, "call")?;
    let restaurant_id = auth.restaurant.id.clone();
    let row = db::read(&state.reads, move |conn| {
        find_call(conn, &restaurant_id, &id).map_err(ApiError::from)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound("no such call".into()))?;
    Ok(Json(Data {
        data: CallView::from_row(&row),
    }))
}

/// Check a token
///
/// The restaurant the token belongs to, the token, and whether the restaurant can send.
#[utoipa::path(
    get,
    path = "/api/partner/v1/me",
    tag = "missed calls",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's restaurant", body = Data<MeView>),
        responses::Partner,
    ),
)]
pub async fn get_me(State(state): State<AppState>, auth: Authenticated) -> Json<Data<MeView>> {
    let r = &auth.restaurant;
    // A token the key file cannot open is no WhatsApp integration (SPEC §8.2).
    let whatsapp = r
        .whatsapp
        .as_ref()
        .is_some_and(|w| state.vault.open(&r.id, &w.access_token).is_ok());
    Json(Data {
        data: MeView::new(r, &auth.token, whatsapp),
    })
}
