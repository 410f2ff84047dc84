//! Partner bearer tokens: generation, SHA-256 hashing, and the extractor that turns a token into
//! its restaurant.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::db::restaurants::Restaurant;
use crate::db::tokens::{TokenInfo, find_active_token};
use crate::db::{self};
use crate::error::ApiError;
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
        let hash = hash_token(token);
        let found = db::read(&state.reads, move |conn| {
            find_active_token(conn, &hash).map_err(ApiError::from)
        })
        .await?;
        let (token, restaurant) = found.ok_or(ApiError::Unauthorized)?;
        state.token_use.record(&token.id);
        // After the lookup: the limit is per token, and a replay counts like any request.
        state
            .rate_limit
            .check(&token.id)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        Ok(Authenticated { token, restaurant })
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
