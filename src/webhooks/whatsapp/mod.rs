//! `GET` and `POST /webhooks/whatsapp` (SPEC §10): Meta's handshake; then statuses, which move a
//! call's delivery state forward (and end the hold of a send a crash interrupted), and STOP or
//! START replies, which suppress a customer or lift their own suppression. Verified by
//! `X-Hub-Signature-256` over the raw bytes, applied in one writer job before the `200`.

mod apply;
mod payload;

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use apply::apply;
pub use payload::{Item, parse_payload};

use crate::db::DbError;
use crate::error::ApiError;
use crate::routes::input::read_bytes;
use crate::time::now_ms;
use crate::webhooks::WebhookApp;

/// Meta batches statuses into one payload: more room than a partner report needs.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Meta's webhook handshake
pub async fn handshake(
    State(state): State<WebhookApp>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let Some(secrets) = &state.room.whatsapp else {
        return Err(ApiError::NotFound("no such route".into()));
    };
    let given = query.get("hub.verify_token").map_or("", String::as_str);
    let expected = secrets.verify_token.expose();
    let token_matches = !given.is_empty()
        && !expected.is_empty()
        && bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    match (
        query.get("hub.mode").map(String::as_str),
        query.get("hub.challenge"),
    ) {
        (Some("subscribe"), Some(challenge)) if token_matches => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge.clone(),
        )
            .into_response()),
        _ => Err(ApiError::WrongVerifyToken),
    }
}

/// Checks `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the body's raw bytes with
/// the app secret, compared in constant time.
pub fn verify(app_secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("sha256="))
        .and_then(|hex_digest| hex::decode(hex_digest).ok())
        .ok_or(ApiError::BadSignature(
            "X-Hub-Signature-256 must be sha256= and a hex HMAC-SHA256",
        ))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    mac.update(body);
    mac.verify_slice(&signature)
        .map_err(|_| ApiError::BadSignature("the X-Hub-Signature-256 does not match"))
}

/// Receive WhatsApp statuses and replies
pub async fn receive(
    State(state): State<WebhookApp>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<StatusCode, ApiError> {
    let Some(secrets) = &state.room.whatsapp else {
        return Err(ApiError::NotFound("no such route".into()));
    };
    let bytes = read_bytes(&headers, body, MAX_BODY_BYTES).await?;
    verify(secrets.app_secret.expose(), &headers, &bytes)?;
    let Some(items) = parse_payload(&bytes) else {
        // Meta would redeliver for days an answer other than 200.
        tracing::warn!("a signed WhatsApp webhook is not a payload this box reads; ignored");
        return Ok(StatusCode::OK);
    };
    if items.is_empty() {
        return Ok(StatusCode::OK);
    }
    let now = now_ms();
    let effects = state
        .writer
        .run(move |conn| {
            items
                .iter()
                .map(|item| apply(conn, item, now))
                .collect::<Result<Vec<_>, DbError>>()
        })
        .await?;
    for effect in effects.into_iter().flatten() {
        effect.log();
    }
    Ok(StatusCode::OK)
}
