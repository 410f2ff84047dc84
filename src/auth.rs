//! Partner bearer tokens: generation, SHA-256 hashing, and the extractor that turns a token into
//! its restaurant.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::db::restaurants::Restaurant;
use crate::db::token_use::TokenUse;
use crate::db::tokens::{TokenInfo, find_active_token};
use crate::db::{self};
use crate::error::ApiError;
use crate::missed_call::Reporter;
use crate::secret::random_alphanumeric;
use crate::state::AppState;

const PREFIX: &str = "rbk_";
const RANDOM_LEN: usize = 40;

/// A new token: `rbk_` and 40 random alphanumeric characters (about 238 bits).
pub fn generate_token() -> String {
    format!("{PREFIX}{}", random_alphanumeric(RANDOM_LEN))
}

/// What the database keeps of a token.
pub fn hash_token(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// Whether a string has the shape of a token; anything else is refused without a lookup.
fn has_token_shape(token: &str) -> bool {
    token
        .strip_prefix(PREFIX)
        .is_some_and(|rest| rest.len() >= 32 && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The restaurant (and token) a request is authenticated as.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub token: TokenInfo,
    pub restaurant: Restaurant,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let hash = hash_token(bearer(parts)?);
        let auth = look_up(state, hash).await?.ok_or(ApiError::Unauthorized)?;
        admit(state, &auth.token)?;
        Ok(auth)
    }
}

/// The bearer token of a request; anything without a token's shape is refused at once.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthorized)?;
    let (scheme, token) = header
        .trim()
        .split_once(' ')
        .ok_or(ApiError::Unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || !has_token_shape(token) {
        return Err(ApiError::Unauthorized);
    }
    Ok(token)
}

/// The live token with this hash and its restaurant, read on the blocking pool.
async fn look_up(state: &AppState, hash: String) -> Result<Option<Authenticated>, ApiError> {
    let found = db::read(&state.reads, move |conn| {
        find_active_token(conn, &hash).map_err(ApiError::from)
    })
    .await?;
    Ok(found.map(|(token, restaurant)| Authenticated { token, restaurant }))
}

/// Counts a request against its token: its last use (SPEC §6.2), then the rate limit, which is
/// per token, and which a replay counts like any request.
fn admit(state: &AppState, token: &TokenInfo) -> Result<(), ApiError> {
    state.token_use.record(&token.id);
    limit(state, token)
}

fn limit(state: &AppState, token: &TokenInfo) -> Result<(), ApiError> {
    state
        .rate_limit
        .check(&token.id)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
}

/// A missed-call report's token. One seen live before is taken from `LiveTokens` without a
/// lookup, for the claim checks it in its own transaction (`Reporter`); whatever else the
/// request is answered with, `recheck` first makes sure a revoked token hears `401`.
pub struct ReportingToken {
    pub auth: Authenticated,
    hash: String,
    /// Read from the database during this request, not remembered from an earlier one.
    looked_up: bool,
    /// Notes the token's use when the request ends (SPEC §6.2), unless it was refused as
    /// unauthenticated: a remembered token may turn out revoked only at the claim.
    token_use: Arc<TokenUse>,
    refused: bool,
}

impl Drop for ReportingToken {
    fn drop(&mut self) {
        if !self.refused {
            self.token_use.record(&self.auth.token.id);
        }
    }
}

impl FromRequestParts<AppState> for ReportingToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let hash = hash_token(bearer(parts)?);
        let (auth, looked_up) = match state.live_tokens.get(&hash) {
            Some((token, restaurant)) => (Authenticated { token, restaurant }, false),
            None => (fetch(state, &hash).await?, true),
        };
        Ok(ReportingToken {
            auth,
            hash,
            looked_up,
            token_use: Arc::clone(&state.token_use),
            refused: false,
        })
    }
}

/// Looks the token up and remembers it; `401` when it is not live.
async fn fetch(state: &AppState, hash: &str) -> Result<Authenticated, ApiError> {
    let auth = look_up(state, hash.to_string())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    state
        .live_tokens
        .remember(hash, &(auth.token.clone(), auth.restaurant.clone()));
    Ok(auth)
}

impl ReportingToken {
    /// What the claim checks again in its transaction.
    pub fn reporter(&self) -> Reporter {
        let restaurant = &self.auth.restaurant;
        Reporter {
            token_id: self.auth.token.id.clone(),
            country: restaurant.country.clone(),
            timezone: restaurant.timezone.clone(),
        }
    }

    /// Read from the database during this request.
    pub fn is_fresh(&self) -> bool {
        self.looked_up
    }

    /// Counts the request against its token's rate limit.
    pub fn limit(&self, state: &AppState) -> Result<(), ApiError> {
        limit(state, &self.auth.token)
    }

    /// The request is answered 401: it was no use of the token.
    pub fn refused(&mut self) {
        self.refused = true;
    }

    /// The claim found the token revoked: it is forgotten, and the request refused.
    pub fn revoked(&self, state: &AppState) -> ApiError {
        state.live_tokens.forget(&self.hash);
        ApiError::Unauthorized
    }

    /// The claim found the restaurant changed: the token and its restaurant are read again.
    pub async fn refresh(&mut self, state: &AppState) -> Result<(), ApiError> {
        state.live_tokens.forget(&self.hash);
        self.auth = fetch(state, &self.hash).await?;
        self.looked_up = true;
        Ok(())
    }

    /// Before a request with a remembered token is answered with an error: the token is read
    /// again, as a lookup at the request's arrival would have read it. `Err(401)` if it was
    /// revoked; `Ok(true)` if its restaurant's country or zone changed (the report is to be read
    /// again with them); `Ok(false)` otherwise, and for a token already read in this request.
    pub async fn recheck(&mut self, state: &AppState) -> Result<bool, ApiError> {
        if self.looked_up {
            return Ok(false);
        }
        let before = self.reporter();
        self.refresh(state).await.map_err(|e| match e {
            ApiError::Unauthorized => self.revoked(state),
            e => e,
        })?;
        let now = self.reporter();
        Ok(now.country != before.country || now.timezone != before.timezone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_has_the_documented_shape() {
        let token = generate_token();
        assert!(has_token_shape(&token), "{token}");
        assert_ne!(token, generate_token());
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
