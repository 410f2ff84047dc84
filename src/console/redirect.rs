//! `GET /r/{token}` (SPEC §9): a guest's tap on the booking link. The click is recorded and the
//! guest sent on to the restaurant's booking page, with the tracking query that names the token.
//! An unknown token gets a plain page that says nothing about any call.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ConsoleApp;
use crate::db::conversions::{find_link, record_click};
use crate::db::{self, DbError};
use crate::error::ApiError;
use crate::links::{is_link_token, tracked_booking_url};
use crate::time::now_ms;

fn not_found_page() -> Response {
    let mut response = (
        StatusCode::NOT_FOUND,
        "This link is not known here. Please contact the restaurant directly.\n",
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Link previews fetch a link without anyone tapping it; they are sent on but not counted.
fn is_preview_fetch(method: &Method, headers: &HeaderMap) -> bool {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    method == Method::HEAD
        || [
            "facebookexternalhit",
            "whatsapp/",
            "facebot",
            "telegrambot",
            "slackbot",
        ]
        .iter()
        .any(|bot| agent.contains(bot))
}

pub async fn follow_link(
    State(state): State<ConsoleApp>,
    token: Result<Path<String>, PathRejection>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // A path that is not even UTF-8 is as unknown as any other token.
    let token = token.map(|Path(t)| t).unwrap_or_default();
    if !is_link_token(&token) {
        return Ok(not_found_page());
    }
    let lookup = token.clone();
    let found = db::read(&state.reads, move |conn| {
        find_link(conn, &lookup).map_err(ApiError::from)
    })
    .await?;
    let Some((call_id, Some(booking_url))) = found else {
        return Ok(not_found_page());
    };
    if !is_preview_fetch(&method, &headers) {
        let now = now_ms();
        let recorded = state
            .writer
            .run(move |conn| record_click(conn, &call_id, now).map_err(DbError::from))
            .await;
        // The guest comes first: a click that cannot be stored still reaches the booking page.
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "a booking-link click could not be recorded");
        }
    }
    let target = tracked_booking_url(&booking_url, &token);
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    match HeaderValue::from_str(&target) {
        Ok(location) => headers.insert(header::LOCATION, location),
        Err(_) => return Ok(not_found_page()),
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
