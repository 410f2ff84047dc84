//! `POST /webhooks/telnyx` (SPEC §10): Call Control / Voice API v2 events, verified with the
//! account's Ed25519 public key over `"{telnyx-timestamp}|{raw body}"`, stored by their id and
//! folded into their call session before the `200`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

use crate::db::DbError;
use crate::db::telnyx::{
    ANSWERED, HANGUP, INITIATED, TelnyxEvent, restaurant_by_number, store_event,
};
use crate::error::ApiError;
use crate::phone::mask;
use crate::routes::input::read_bytes;
use crate::time::now_ms;
use crate::webhooks::WebhookApp;
use crate::webhooks::session::fold_session;

/// A call event is a few kilobytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// How far `telnyx-timestamp` may be from now, either way: an older event is a replay.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 300;

/// Checks the signature and the timestamp; `now_secs` is the arrival time.
pub fn verify(
    key: &VerifyingKey,
    headers: &HeaderMap,
    body: &[u8],
    now_secs: i64,
) -> Result<(), ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (
        header("telnyx-signature-ed25519"),
        header("telnyx-timestamp"),
    ) else {
        return Err(ApiError::BadSignature(
            "telnyx-signature-ed25519 and telnyx-timestamp are required",
        ));
    };
    let sent_at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| ApiError::BadSignature("telnyx-timestamp is not a Unix time"))?;
    if now_secs.abs_diff(sent_at) > TIMESTAMP_TOLERANCE_SECS.unsigned_abs() {
        return Err(ApiError::BadSignature(
            "telnyx-timestamp is more than 300 seconds from now",
        ));
    }
    let signature = BASE64
        .decode(signature.trim())
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or(ApiError::BadSignature(
            "telnyx-signature-ed25519 is not a base64 Ed25519 signature",
        ))?;
    // Signed as sent: the header's own text, a bar, then the body's bytes untouched.
    let mut signed = Vec::with_capacity(timestamp.len() + 1 + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'|');
    signed.extend_from_slice(body);
    key.verify_strict(&signed, &signature)
        .map_err(|_| ApiError::BadSignature("the Telnyx signature does not match"))
}

/// The fields of a v2 event the state machine reads; `None` if the body is not such an event.
pub fn parse_event(body: &[u8], received_at: i64) -> Option<TelnyxEvent> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let data = json.get("data")?;
    let payload = data.get("payload")?;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let bounded = |s: String| (!s.is_empty() && s.len() <= 256).then_some(s);
    Some(TelnyxEvent {
        id: text(data, "id").and_then(bounded)?,
        event_type: text(data, "event_type").and_then(bounded)?,
        session_id: text(payload, "call_session_id").and_then(bounded)?,
        leg_id: text(payload, "call_leg_id").and_then(bounded),
        direction: text(payload, "direction").and_then(bounded),
        from: text(payload, "from").and_then(bounded),
        to: text(payload, "to").and_then(bounded),
        started_at: text(payload, "start_time")
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_millisecond()),
        received_at,
    })
}

/// Receive a Telnyx call event
pub async fn receive(
    State(state): State<WebhookApp>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<StatusCode, ApiError> {
    let Some(key) = state.room.telnyx_key else {
        return Err(ApiError::NotFound("no such route".into()));
    };
    let received_at = now_ms();
    let bytes = read_bytes(&headers, body, MAX_BODY_BYTES).await?;
    verify(&key, &headers, &bytes, received_at.div_euclid(1000))?;
    let Some(event) = parse_event(&bytes, received_at) else {
        tracing::warn!("a signed Telnyx webhook is not a call event this box reads; ignored");
        return Ok(StatusCode::OK);
    };
    if ![INITIATED, ANSWERED, HANGUP].contains(&event.event_type.as_str()) {
        tracing::debug!(event.kind = %event.event_type, "Telnyx event not needed; ignored");
        return Ok(StatusCode::OK);
    }
    let recorded = state.writer.run(move |conn| record(conn, &event)).await?;
    match recorded {
        Recorded::Duplicate => tracing::debug!("a Telnyx event arrived again; ignored"),
        Recorded::UnknownNumber(number) => tracing::info!(
            telnyx.number = %mask(&number),
            "a call to a Telnyx number no restaurant has; ignored (ringback restaurant update ID --telnyx-number)"
        ),
        Recorded::Folded { closed } => {
            if closed {
                state.room.timers.notify_one();
            }
        }
    }
    Ok(StatusCode::OK)
}

enum Recorded {
    Duplicate,
    UnknownNumber(String),
    Folded { closed: bool },
}

/// One writer job: the event, and its session folded again.
fn record(conn: &rusqlite::Connection, event: &TelnyxEvent) -> Result<Recorded, DbError> {
    if !store_event(conn, event)? {
        return Ok(Recorded::Duplicate);
    }
    let session = fold_session(conn, &event.session_id, event.received_at)?;
    if event.event_type == INITIATED
        && event.direction.as_deref() == Some("incoming")
        && let Some(to) = &event.to
        && restaurant_by_number(conn, to)?.is_none()
    {
        return Ok(Recorded::UnknownNumber(to.clone()));
    }
    Ok(Recorded::Folded {
        closed: session.hangup_at.is_some() && !session.settled,
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    fn signed(key: &SigningKey, timestamp: &str, body: &[u8]) -> HeaderMap {
        let mut message = format!("{timestamp}|").into_bytes();
        message.extend_from_slice(body);
        let mut headers = HeaderMap::new();
        headers.insert(
            "telnyx-timestamp",
            HeaderValue::from_str(timestamp).expect("ascii"),
        );
        let signature = BASE64.encode(key.sign(&message).to_bytes());
        headers.insert(
            "telnyx-signature-ed25519",
            HeaderValue::from_str(&signature).expect("ascii"),
        );
        headers
    }

    #[test]
    fn a_hostile_timestamp_is_refused_without_overflowing() {
        let key = SigningKey::from_bytes(&[7; 32]);
        for timestamp in [i64::MIN.to_string(), i64::MAX.to_string(), "-1".into()] {
            let headers = signed(&key, &timestamp, b"{}");
            let refused = verify(&key.verifying_key(), &headers, b"{}", 1_790_000_000);
            assert!(
                matches!(refused, Err(ApiError::BadSignature(_))),
                "{timestamp}"
            );
        }
    }

    #[test]
    fn the_signature_covers_the_timestamp_as_sent_and_the_body_byte_for_byte() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let now = 1_790_000_000;
        let headers = signed(&key, &now.to_string(), "{\"é\": 1}".as_bytes());

        assert!(verify(&key.verifying_key(), &headers, "{\"é\": 1}".as_bytes(), now).is_ok());
        assert!(verify(&key.verifying_key(), &headers, b"{\"\\u00e9\": 1}", now).is_err());
        assert!(
            verify(
                &key.verifying_key(),
                &headers,
                "{\"é\": 1}".as_bytes(),
                now + 301
            )
            .is_err()
        );
    }
}
