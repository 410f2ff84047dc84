//! Console sessions (SPEC §9): the `rb_session` cookie, a random 256-bit value stored only as its
//! SHA-256 hash, ending 12 hours after its last request or 7 days after it began; and the
//! extractor that turns the cookie into the signed-in user.

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};

use super::ConsoleApp;
use crate::auth::hash_token;
use crate::db::users::{SessionLimits, User, find_session, touch_session};
use crate::db::{self, DbError};
use crate::error::ApiError;
use crate::time::now_ms;

pub const COOKIE_NAME: &str = "rb_session";

pub const LIMITS: SessionLimits = SessionLimits {
    idle_ms: 12 * 60 * 60 * 1000,
    absolute_ms: 7 * 24 * 60 * 60 * 1000,
};

/// `last_seen_at` is written at most this often: a page that polls must not cost a write each
/// time, and a minute is nothing against a 12-hour idle limit.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// A new session value: 32 random bytes, hex.
pub fn new_session_value() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// At most this many `rb_session` cookies of a request are tried.
const MOST_COOKIES_TRIED: usize = 8;

/// The values of the request's `rb_session` cookies that have the right shape, in the order
/// sent. A browser sends every cookie whose path and domain match, so a stale one set for
/// another path or a parent domain may come before the live one: each is tried.
pub fn session_cookies(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .take(MOST_COOKIES_TRIED)
        .collect()
}

/// The `Set-Cookie` value that starts a session. `Max-Age` is the absolute limit, so that a
/// phone keeps the session across browser restarts but never past 7 days.
pub fn set_cookie(value: &str, secure: bool) -> HeaderValue {
    let max_age = LIMITS.absolute_ms / 1000;
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("rb_session=; Path=/; Max-Age=0"))
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    HeaderValue::from_static(if secure {
        "rb_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure"
    } else {
        "rb_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    })
}

/// The signed-in user of a console request; `401 UNAUTHORIZED` without a live session.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub user: User,
}

/// The signed-in user of a request (or none), looked up once by the console's language layer
/// and kept in the request's extensions for the handler.
#[derive(Debug, Clone)]
pub struct Resolved(pub Option<ConsoleUser>);

/// The live session among the request's cookies, and its user; `None` without one.
pub async fn resolve(
    headers: &HeaderMap,
    state: &ConsoleApp,
) -> Result<Option<ConsoleUser>, ApiError> {
    let hashes: Vec<String> = session_cookies(headers)
        .into_iter()
        .map(hash_token)
        .collect();
    if hashes.is_empty() {
        return Ok(None);
    }
    let now = now_ms();
    let found = db::read(&state.reads, move |conn| {
        for hash in hashes {
            if let Some((user, last_seen)) =
                find_session(conn, &hash, now, LIMITS).map_err(ApiError::from)?
            {
                return Ok(Some((user, last_seen, hash)));
            }
        }
        Ok::<_, ApiError>(None)
    })
    .await?;
    let Some((user, last_seen, hash)) = found else {
        return Ok(None);
    };
    if now - last_seen >= TOUCH_EVERY_MS {
        // Off the request's path: a session that cannot be touched now is touched next time.
        let writer = state.writer.clone();
        tokio::spawn(async move {
            let touched = writer
                .run(move |conn| touch_session(conn, &hash, now).map_err(DbError::from))
                .await;
            if let Err(e) = touched {
                tracing::debug!(error = %e, "session not touched");
            }
        });
    }
    Ok(Some(ConsoleUser { user }))
}

impl FromRequestParts<ConsoleApp> for ConsoleUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ConsoleApp) -> Result<Self, ApiError> {
        let user = match parts.extensions.get::<Resolved>() {
            Some(Resolved(user)) => user.clone(),
            None => resolve(&parts.headers, state).await?,
        };
        user.ok_or(ApiError::NoSession)
    }
}

impl axum::extract::OptionalFromRequestParts<ConsoleApp> for ConsoleUser {
    type Rejection = ApiError;

    /// `None` without a live session; a database that cannot be read is still an error.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleApp,
    ) -> Result<Option<Self>, ApiError> {
        match <ConsoleUser as FromRequestParts<ConsoleApp>>::from_request_parts(parts, state).await
        {
            Ok(user) => Ok(Some(user)),
            Err(ApiError::NoSession) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_only_with_its_shape() {
        let value = new_session_value();
        let mut headers = HeaderMap::new();
        let cookie = format!("theme=dark; {COOKIE_NAME}={value}; other=1");
        headers.insert(COOKIE, HeaderValue::from_str(&cookie).expect("header"));
        assert_eq!(session_cookies(&headers), [value.as_str()]);

        headers.insert(COOKIE, HeaderValue::from_static("rb_session=short"));
        assert!(session_cookies(&headers).is_empty());
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_tls() {
        let plain = set_cookie("v", false);
        let plain = plain.to_str().expect("ascii");
        assert!(plain.contains("HttpOnly; SameSite=Strict; Path=/") && !plain.contains("Secure"));
        assert!(
            set_cookie("v", true)
                .to_str()
                .expect("ascii")
                .ends_with("; Secure")
        );
    }
}
