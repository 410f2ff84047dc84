//! The `partner_tokens` table: SHA-256 hashes of restaurant-scoped bearer tokens.

use std::collections::HashMap;
use std::sync::Mutex;

use rusqlite::{Connection, Row, params};

use super::optional;
use super::restaurants::{Restaurant, find_restaurant};
use crate::secret::new_id;
use crate::time::now_ms;

#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: String,
    pub restaurant_id: String,
    pub name: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// When it last authenticated a request, to the minute (SPEC §6.2); `None`: never.
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str = "id, restaurant_id, name, created_at, revoked_at, last_used_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<TokenInfo> {
    Ok(TokenInfo {
        id: row.get(0)?,
        restaurant_id: row.get(1)?,
        name: row.get(2)?,
        created_at: row.get(3)?,
        revoked_at: row.get(4)?,
        last_used_at: row.get(5)?,
    })
}

pub fn insert_token(
    conn: &Connection,
    restaurant_id: &str,
    name: Option<&str>,
    token_hash: &str,
) -> rusqlite::Result<String> {
    let id = new_id("tok");
    conn.prepare_cached(
        "INSERT INTO partner_tokens (id, restaurant_id, name, token_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, restaurant_id, name, token_hash, now_ms()])?;
    Ok(id)
}

/// The live token with this hash and its restaurant; revoked tokens are not found.
pub fn find_active_token(
    conn: &Connection,
    token_hash: &str,
) -> rusqlite::Result<Option<(TokenInfo, Restaurant)>> {
    let token = optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM partner_tokens WHERE token_hash = ?1 AND revoked_at IS NULL"
        ))?
        .query_row([token_hash], from_row),
    )?;
    let Some(token) = token else {
        return Ok(None);
    };
    Ok(find_restaurant(conn, &token.restaurant_id)?.map(|r| (token, r)))
}

pub fn list_tokens(
    conn: &Connection,
    restaurant_id: Option<&str>,
) -> rusqlite::Result<Vec<TokenInfo>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM partner_tokens
         WHERE ?1 IS NULL OR restaurant_id = ?1 ORDER BY created_at, id"
    ))?;
    stmt.query_map([restaurant_id], from_row)?.collect()
}

pub fn find_token(conn: &Connection, id: &str) -> rusqlite::Result<Option<TokenInfo>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM partner_tokens WHERE id = ?1"
        ))?
        .query_row([id], from_row),
    )
}

/// The token with this hash, live or revoked.
pub fn find_token_by_hash(
    conn: &Connection,
    token_hash: &str,
) -> rusqlite::Result<Option<TokenInfo>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM partner_tokens WHERE token_hash = ?1"
        ))?
        .query_row([token_hash], from_row),
    )
}

/// Whether the token `id` is live and still belongs to `restaurant_id`: what a claim checks in
/// its own transaction when the request was admitted by a token remembered in `LiveTokens`.
pub fn is_live(conn: &Connection, id: &str, restaurant_id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM partner_tokens
                        WHERE id = ?1 AND restaurant_id = ?2 AND revoked_at IS NULL)",
    )?
    .query_row([id, restaurant_id], |row| row.get(0))
}

/// Tokens (by hash) that were found live, with their restaurant as it read then: a missed-call
/// report admitted by one needs no lookup on the blocking pool before its claim, and its claim
/// checks in its own transaction that the token is still live and the restaurant unchanged. A
/// revoked or changed entry is forgotten when a claim finds it so.
#[derive(Default)]
pub struct LiveTokens(Mutex<HashMap<String, (TokenInfo, Restaurant)>>);

/// Tokens remembered at most; past it the memory starts over (a box serves tens of restaurants).
const LIVE_TOKENS_MAX: usize = 4096;

impl LiveTokens {
    pub fn get(&self, token_hash: &str) -> Option<(TokenInfo, Restaurant)> {
        self.lock().get(token_hash).cloned()
    }

    pub fn remember(&self, token_hash: &str, found: &(TokenInfo, Restaurant)) {
        let mut live = self.lock();
        if live.len() >= LIVE_TOKENS_MAX {
            live.clear();
        }
        live.insert(token_hash.to_string(), found.clone());
    }

    pub fn forget(&self, token_hash: &str) {
        self.lock().remove(token_hash);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (TokenInfo, Restaurant)>> {
        // A panic while holding it leaves a map that is still whole.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Returns false when no such token exists; revoking twice keeps the first time.
pub fn revoke_token(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    let found = conn
        .prepare_cached(
            "UPDATE partner_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        )?
        .execute(params![id, now_ms()])?;
    Ok(found == 1)
}

/// Records that the token authenticated a request at `at`; an earlier time never overwrites a
/// later one.
pub fn record_use(conn: &Connection, id: &str, at: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE partner_tokens SET last_used_at = ?2
         WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
    )?
    .execute(params![id, at])?;
    Ok(())
}
