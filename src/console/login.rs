//! Signing in and out of the console (SPEC §9). A wrong username and a wrong password get the
//! same answer in the same time; repeated failures are throttled per username and per address.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

use super::ConsoleApp;
use super::language::Lang;
use super::pages::{escape_html, login_page};
use super::password::verify_password;
use super::session::{LIMITS, clear_cookie, new_session_value, session_cookies, set_cookie};
use crate::auth::hash_token;
use crate::db::users::{User, delete_session, find_login, insert_session};
use crate::db::{self, DbError};
use crate::error::{ApiError, ErrorEnvelope};
use crate::routes::input::read_bytes;
use crate::time::now_ms;

/// A sign-in as posted: a form from the login page, or JSON from a script.
struct Credentials {
    username: String,
    password: String,
    /// Answer with pages and redirects (a browser's form), or with JSON status codes.
    form: bool,
}

/// The browser reached the console over TLS: on our own listener, or through a proxy that says
/// so. Trusting the proxy's word here can only make the cookie stricter.
fn over_tls(state: &ConsoleApp, headers: &HeaderMap) -> bool {
    state.room.secure_cookie
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn credentials(headers: &HeaderMap, body: &[u8]) -> Result<Credentials, ApiError> {
    let (username, password, form) = match content_type(headers).as_str() {
        "application/x-www-form-urlencoded" => {
            let mut username = None;
            let mut password = None;
            for (k, v) in url::form_urlencoded::parse(body) {
                match k.as_ref() {
                    "username" => username = Some(v.into_owned()),
                    "password" => password = Some(v.into_owned()),
                    _ => {}
                }
            }
            (username, password, true)
        }
        "application/json" => {
            let value: Value = serde_json::from_slice(body)
                .map_err(|_| ApiError::malformed(None, "the body is not valid JSON"))?;
            let field = |name: &'static str| match value.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ApiError::malformed(
                    Some(name),
                    format!("{name} must be a string"),
                )),
            };
            if !value.is_object() {
                return Err(ApiError::malformed(None, "the body must be a JSON object"));
            }
            (field("username")?, field("password")?, false)
        }
        _ => return Err(ApiError::UnsupportedMediaType),
    };
    let missing =
        |field: &'static str| ApiError::malformed(Some(field), format!("{field} is required"));
    Ok(Credentials {
        username: username
            .ok_or_else(|| missing("username"))?
            .trim()
            .to_string(),
        password: password.ok_or_else(|| missing("password"))?,
        form,
    })
}

/// `POST /console/login`.
pub async fn login(
    State(state): State<ConsoleApp>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    lang: Lang,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match sign_in(&state, peer, &headers, body).await {
        Ok(response) => response,
        Err((error, true)) => failed_form(error, lang),
        Err((error, false)) => error.into_response(),
    }
}

/// The login page again, saying why in the page's language (the error's own message, as the
/// JSON answer says it); the status and `Retry-After` as for JSON.
fn failed_form(error: ApiError, lang: Lang) -> Response {
    let reference = error.into_response();
    let message = reference
        .extensions()
        .get::<ErrorEnvelope>()
        .map(|envelope| super::negotiate::localised(envelope, lang))
        .unwrap_or_else(|| lang.words().get("error-generic"));
    let paragraph = format!(
        "<p class=\"message error\" role=\"alert\">{}</p>",
        escape_html(&message)
    );
    let mut page = login_page(reference.status(), lang, Some(&paragraph));
    if let Some(retry) = reference.headers().get(header::RETRY_AFTER) {
        page.headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    page
}

/// The sign-in itself; the error carries whether the answer is a page.
async fn sign_in(
    state: &ConsoleApp,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, (ApiError, bool)> {
    let looks_like_form = content_type(headers) == "application/x-www-form-urlencoded";
    let limit = state.config.server.max_body_bytes;
    let bytes = read_bytes(headers, body, limit)
        .await
        .map_err(|e| (e, looks_like_form))?;
    let creds = credentials(headers, &bytes).map_err(|e| (e, looks_like_form))?;
    let form = creds.form;
    let fail = |e: ApiError| (e, form);
    let address = Some(peer.ip());
    let console = &state.room;
    // No username is longer than 64 characters: a longer one is counted under its first 64,
    // so that made-up names cannot grow the throttle's memory.
    let counted_as: String = creds.username.chars().take(64).collect();
    let attempt = console
        .throttle
        .begin(&counted_as, address, Instant::now())
        .map_err(|retry_after_secs| fail(ApiError::LoginThrottled { retry_after_secs }))?;

    let found = check_password(state, creds.username.clone(), creds.password)
        .await
        .map_err(fail)?;
    let Some(user) = found else {
        attempt.failed(Instant::now());
        tracing::info!(client.address = %peer.ip(), "console sign-in failed");
        return Err(fail(ApiError::InvalidCredentials));
    };
    attempt.succeeded();
    start_session(state, headers, &user, form)
        .await
        .map_err(fail)
}

/// The user, if the password is theirs; a wrong username takes as long as a wrong password.
async fn check_password(
    state: &ConsoleApp,
    username: String,
    password: String,
) -> Result<Option<User>, ApiError> {
    let found = db::read(&state.reads, move |conn| {
        find_login(conn, &username).map_err(ApiError::from)
    })
    .await?;
    // Argon2 is memory-hard: a bounded number at once, off the runtime.
    let permit = state
        .room
        .verifications
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let stored = found.as_ref().map(|(_, hash)| hash.clone());
    let ok = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        verify_password(&password, stored.as_deref())
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(match (ok, found) {
        (true, Some((user, _))) => Some(user),
        _ => None,
    })
}

/// Stores a new session for `user` and answers with its cookie.
async fn start_session(
    state: &ConsoleApp,
    headers: &HeaderMap,
    user: &User,
    form: bool,
) -> Result<Response, ApiError> {
    let value = new_session_value();
    let hash = hash_token(&value);
    let user_id = user.id.clone();
    let now = now_ms();
    state
        .writer
        .run(move |conn| insert_session(conn, &hash, &user_id, now, LIMITS).map_err(DbError::from))
        .await
        .map_err(ApiError::from)?;
    tracing::info!(user.id = %user.id, "console sign-in");
    let mut response = if form {
        Redirect::to("/console/").into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&value, over_tls(state, headers)),
    );
    Ok(response)
}

/// `POST /console/logout`: ends the session (if any) here and in the browser. A form goes back
/// to the login page; a script gets `204`.
pub async fn logout(
    State(state): State<ConsoleApp>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Every session the browser sent ends: the one in use may not be the first.
    let hashes: Vec<String> = session_cookies(&headers)
        .into_iter()
        .map(hash_token)
        .collect();
    if !hashes.is_empty() {
        state
            .writer
            .run(move |conn| {
                for hash in &hashes {
                    delete_session(conn, hash)?;
                }
                Ok::<_, DbError>(())
            })
            .await?;
    }
    let wants_json = content_type(&headers) == "application/json"
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"));
    let mut response = if wants_json {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Redirect::to("/console/login").into_response()
    };
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(over_tls(&state, &headers)));
    Ok(response)
}
