//! The reservation endpoints (SPEC §7): parse, run the booking change as one writer job, answer
//! with the reservation object.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::tz::TimeZone;
use rusqlite::Connection;

use super::bodies::{
    CancelReservationRequest, NewReservationRequest, ReservationListQuery, ReservationPatchRequest,
};
use super::input::{check_length, path_id, query_pairs, read_bytes, read_object, string_field};
use super::reservation_input::{encode_cursor, parse_filter, parse_new, parse_patch};
use crate::auth::Authenticated;
use crate::bookings::{self, Booked, BookingError};
use crate::db::reservations::list_reservations_page;
use crate::error::ApiError;
use crate::error::responses;
use crate::state::AppState;
use crate::views::{Data, Page, ReservationView};

fn view(booked: &Booked, tz: &TimeZone) -> ReservationView {
    ReservationView::new(&booked.0, booked.1.as_ref(), tz)
}

async fn write(
    state: &AppState,
    auth: &Authenticated,
    change: impl FnOnce(&Connection, &str) -> Result<Booked, BookingError> + Send + 'static,
) -> Result<Data<ReservationView>, ApiError> {
    let rid = auth.restaurant.id.clone();
    let booked = state.writer.run(move |conn| change(conn, &rid)).await?;
    Ok(Data {
        data: view(&booked, &auth.restaurant.time_zone()),
    })
}

/// Create a reservation
///
/// Its customer is matched or created by normalised number; the reservation's time is read in
/// the restaurant's zone when it has no offset.
#[utoipa::path(
    post,
    path = "/api/partner/v1/reservations",
    tag = "reservations",
    security(("bearer" = [])),
    request_body = NewReservationRequest,
    responses(
        (status = 201, description = "The reservation", body = Data<ReservationView>),
        responses::Partner,
        responses::JsonBody,
        responses::ExternalIdTaken,
    ),
)]
pub async fn create_reservation(
    State(state): State<AppState>,
    auth: Authenticated,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Data<ReservationView>>), ApiError> {
    let body = read_object(&headers, body, state.config.server.max_body_bytes).await?;
    let new = parse_new(&body, &auth.restaurant)?;
    let rid = auth.restaurant.id.clone();
    let window = state.config.missed_calls.conversion_window_days;
    let booked = state
        .writer
        .run(move |conn| bookings::create_reservation(conn, &rid, &new, window))
        .await?;
    let tz = auth.restaurant.time_zone();
    Ok((
        StatusCode::CREATED,
        Json(Data {
            data: view(&booked, &tz),
        }),
    ))
}

/// Read a reservation
#[utoipa::path(
    get,
    path = "/api/partner/v1/reservations/{id}",
    tag = "reservations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The reservation's id, `res_…`")),
    responses(
        (status = 200, description = "The reservation", body = Data<ReservationView>),
        responses::Partner,
        responses::PathId,
    ),
)]
pub async fn get_reservation(
    State(state): State<AppState>,
    auth: Authenticated,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Data<ReservationView>>, ApiError> {
    let id = path_id(id, "reservation")?;
    let rid = auth.restaurant.id.clone();
    let booked = crate::db::read(&state.reads, move |conn| {
        bookings::get_reservation(conn, &rid, &id).map_err(ApiError::from)
    })
    .await?;
    let tz = auth.restaurant.time_zone();
    Ok(Json(Data {
        data: view(&booked, &tz),
    }))
}

/// Change a reservation
///
/// Only the fields given change.
#[utoipa::path(
    patch,
    path = "/api/partner/v1/reservations/{id}",
    tag = "reservations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The reservation's id, `res_…`")),
    request_body = ReservationPatchRequest,
    responses(
        (status = 200, description = "The reservation as changed", body = Data<ReservationView>),
        responses::Partner,
        responses::JsonBody,
        responses::PathId,
    ),
)]
pub async fn update_reservation(
    State(state): State<AppState>,
    auth: Authenticated,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Data<ReservationView>>, ApiError> {
    let id = path_id(id, "reservation")?;
    let body = read_object(&headers, body, state.config.server.max_body_bytes).await?;
    let patch = parse_patch(&body, &auth.restaurant)?;
    let answer = write(&state, &auth, move |conn, rid| {
        bookings::patch_reservation(conn, rid, &id, &patch)
    })
    .await?;
    Ok(Json(answer))
}

/// Cancel a reservation
///
/// Its status becomes `CANCELED`; repeating it is safe and answers the same reservation. The
/// body is optional: an empty one needs no `Content-Type`.
#[utoipa::path(
    post,
    path = "/api/partner/v1/reservations/{id}/cancel",
    tag = "reservations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The reservation's id, `res_…`")),
    request_body(content = Option<CancelReservationRequest>, description = "Optional"),
    responses(
        (status = 200, description = "The canceled reservation", body = Data<ReservationView>),
        responses::Partner,
        responses::JsonBody,
        responses::PathId,
    ),
)]
pub async fn cancel_reservation(
    State(state): State<AppState>,
    auth: Authenticated,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Data<ReservationView>>, ApiError> {
    let id = path_id(id, "reservation")?;
    // The body is optional: an empty one needs no content type. Read like any other body, so
    // that one that stops arriving is a 408, not a 413.
    let limit = state.config.server.max_body_bytes;
    let bytes = read_bytes(&headers, body, limit).await?;
    let reason = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let body = read_object(&headers, Body::from(bytes), limit).await?;
        let reason = string_field(&body, "reason")?.map(str::to_string);
        if let Some(r) = &reason {
            check_length(r, "reason", 1..=500)?;
        }
        reason
    };
    let answer = write(&state, &auth, move |conn, rid| {
        bookings::cancel_reservation(conn, rid, &id, reason.as_deref())
    })
    .await?;
    Ok(Json(answer))
}

/// List reservations
///
/// Ordered by `start_at`, a page at a time; the cursor is opaque and stable under inserts.
#[utoipa::path(
    get,
    path = "/api/partner/v1/reservations",
    tag = "reservations",
    security(("bearer" = [])),
    params(ReservationListQuery),
    responses(
        (status = 200, description = "One page of reservations", body = Page<ReservationView>),
        responses::Partner,
        responses::QueryString,
    ),
)]
pub async fn list_reservations(
    State(state): State<AppState>,
    auth: Authenticated,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Page<ReservationView>>, ApiError> {
    let (filter, limit) = parse_filter(&query_pairs(query)?, &auth.restaurant)?;
    let rid = auth.restaurant.id.clone();
    let (page, more) = crate::db::read(&state.reads, move |conn| {
        // One row past the page tells whether there is a next one.
        let mut rows = list_reservations_page(conn, &rid, &filter, limit + 1)?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let page = rows
            .into_iter()
            .map(|r| bookings::with_customer(conn, r))
            .collect::<Result<Vec<_>, BookingError>>()?;
        Ok::<_, ApiError>((page, more))
    })
    .await?;
    let tz = auth.restaurant.time_zone();
    let next_cursor = page
        .last()
        .filter(|_| more)
        .map(|(r, _)| encode_cursor(r.start_at, &r.id));
    let data = page.iter().map(|b| view(b, &tz)).collect();
    Ok(Json(Page { data, next_cursor }))
}
