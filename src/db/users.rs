//! The `users` and `sessions` tables: who may open the console, and the sessions they hold.
//! Passwords are Argon2id hashes and session values SHA-256 hashes; neither is stored plain.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::secret::new_id;

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    /// `None`: every restaurant (`--all`).
    pub restaurant_id: Option<String>,
    pub created_at: i64,
    /// The console's language, `fr` or `en`; `None`: the browser's decides.
    pub lang: Option<String>,
}

const COLUMNS: &str = "id, username, restaurant_id, created_at, lang";

fn from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        restaurant_id: row.get(2)?,
        created_at: row.get(3)?,
        lang: row.get(4)?,
    })
}

/// Adds a user; `None` when the username is taken (compared without case).
pub fn insert_user(
    conn: &Connection,
    username: &str,
    password_hash: &str,
    restaurant_id: Option<&str>,
    lang: Option<&str>,
    now: i64,
) -> rusqlite::Result<Option<String>> {
    let id = new_id("usr");
    let inserted = conn
        .prepare_cached(
            "INSERT INTO users (id, username, password_hash, restaurant_id, lang, created_at,
                                updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (username) DO NOTHING",
        )?
        .execute(params![
            id,
            username,
            password_hash,
            restaurant_id,
            lang,
            now
        ])?;
    Ok((inserted == 1).then_some(id))
}

/// The user and its password hash, by username (without case).
pub fn find_login(conn: &Connection, username: &str) -> rusqlite::Result<Option<(User, String)>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, password_hash FROM users WHERE username = ?1"
    ))?
    .query_row([username], |r| Ok((from_row(r)?, r.get(5)?)))
    .optional()
}

pub fn list_users(conn: &Connection) -> rusqlite::Result<Vec<User>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM users ORDER BY username COLLATE NOCASE"
    ))?;
    stmt.query_map([], from_row)?.collect()
}

/// Sets a new password and ends every session of the user: whoever knew the old one is out.
/// Returns whether the user exists.
pub fn set_password(
    conn: &Connection,
    username: &str,
    password_hash: &str,
    now: i64,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE username = ?1")?
        .execute(params![username, password_hash, now])?;
    if changed == 1 {
        end_sessions_of(conn, username)?;
    }
    Ok(changed == 1)
}

/// Sets the user's console language (`None`: follow the browser); returns whether the user
/// exists.
pub fn set_lang(
    conn: &Connection,
    username: &str,
    lang: Option<&str>,
    now: i64,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE users SET lang = ?2, updated_at = ?3 WHERE username = ?1")?
        .execute(params![username, lang, now])?;
    Ok(changed == 1)
}

/// Removes the user and its sessions; returns whether there was one.
pub fn delete_user(conn: &Connection, username: &str) -> rusqlite::Result<bool> {
    end_sessions_of(conn, username)?;
    let deleted = conn
        .prepare_cached("DELETE FROM users WHERE username = ?1")?
        .execute([username])?;
    Ok(deleted == 1)
}

fn end_sessions_of(conn: &Connection, username: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = ?1)",
    )?
    .execute([username])
}

/// Starts a session for the user; expired sessions of anyone are cleared on the way.
pub fn insert_session(
    conn: &Connection,
    token_hash: &str,
    user_id: &str,
    now: i64,
    expired_before: SessionLimits,
) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2")?
        .execute(params![
            now - expired_before.idle_ms,
            now - expired_before.absolute_ms
        ])?;
    conn.prepare_cached(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?3)",
    )?
    .execute(params![token_hash, user_id, now])?;
    Ok(())
}

/// How long a session lives: since its last request, and since it began.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub idle_ms: i64,
    pub absolute_ms: i64,
}

/// A live session: its user, and when it was last seen.
pub fn find_session(
    conn: &Connection,
    token_hash: &str,
    now: i64,
    limits: SessionLimits,
) -> rusqlite::Result<Option<(User, i64)>> {
    conn.prepare_cached(
        "SELECT u.id, u.username, u.restaurant_id, u.created_at, u.lang, s.last_seen_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ?1 AND s.last_seen_at >= ?2 AND s.created_at >= ?3",
    )?
    .query_row(
        params![token_hash, now - limits.idle_ms, now - limits.absolute_ms],
        |r| Ok((from_row(r)?, r.get(5)?)),
    )
    .optional()
}

pub fn touch_session(conn: &Connection, token_hash: &str, now: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1")?
        .execute(params![token_hash, now])?;
    Ok(())
}

pub fn delete_session(conn: &Connection, token_hash: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
        .execute([token_hash])?;
    Ok(())
}
