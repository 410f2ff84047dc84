//! Booking conversions (SPEC §9): which call, if any, a new reservation won back, and the click
//! on a message's booking link that lets a reservation count without a `ref`.

use rusqlite::{Connection, OptionalExtension, params};

/// A new reservation, as the conversion rule looks at it.
pub struct Attribution<'a> {
    pub restaurant_id: &'a str,
    pub reservation_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub ref_token: Option<&'a str>,
    pub created_at: i64,
    /// `missed_calls.conversion_window_days`, in milliseconds.
    pub window_ms: i64,
}

/// Counts the reservation as the conversion of the latest qualifying call: its message was
/// `SENT` at most the window before the reservation, the call is not yet converted, and the
/// reservation carries the call's token as `ref`, or is for the call's customer after a recorded
/// click on its link. Returns the call converted, if any.
pub fn attribute_reservation(
    conn: &Connection,
    a: &Attribution<'_>,
) -> rusqlite::Result<Option<String>> {
    let earliest = a.created_at - a.window_ms;
    // Two indexed lookups rather than one OR, which SQLite could not seek on.
    let by_ref: Option<(String, i64)> = match a.ref_token {
        Some(token) => conn
            .prepare_cached(
                "SELECT id, sent_at FROM calls
                 WHERE link_token = ?1 AND restaurant_id = ?2 AND outcome = 'SENT'
                   AND converted_reservation_id IS NULL AND sent_at BETWEEN ?3 AND ?4",
            )?
            .query_row(
                params![token, a.restaurant_id, earliest, a.created_at],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?,
        None => None,
    };
    let by_click: Option<(String, i64)> = match a.customer_id {
        Some(customer_id) => conn
            .prepare_cached(
                "SELECT id, sent_at FROM calls
                 WHERE restaurant_id = ?1 AND customer_id = ?2 AND first_clicked_at IS NOT NULL
                   AND sent_at BETWEEN ?3 AND ?4 AND first_clicked_at <= ?4
                   AND outcome = 'SENT' AND converted_reservation_id IS NULL
                 ORDER BY sent_at DESC LIMIT 1",
            )?
            .query_row(
                params![a.restaurant_id, customer_id, earliest, a.created_at],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?,
        None => None,
    };
    let Some((call_id, _)) = [by_ref, by_click]
        .into_iter()
        .flatten()
        .max_by_key(|(_, sent_at)| *sent_at)
    else {
        return Ok(None);
    };
    conn.prepare_cached("UPDATE calls SET converted_reservation_id = ?2 WHERE id = ?1")?
        .execute(params![call_id, a.reservation_id])?;
    Ok(Some(call_id))
}

/// The call a link token belongs to, and its restaurant's booking page, for `/r/{token}`.
pub fn find_link(
    conn: &Connection,
    token: &str,
) -> rusqlite::Result<Option<(String, Option<String>)>> {
    conn.prepare_cached(
        "SELECT c.id, r.booking_url FROM calls c JOIN restaurants r ON r.id = c.restaurant_id
         WHERE c.link_token = ?1",
    )?
    .query_row([token], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// Records a click on a call's link: the first click's time is kept, and every click counted.
pub fn record_click(conn: &Connection, call_id: &str, at: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE calls SET clicks = clicks + 1, first_clicked_at = COALESCE(first_clicked_at, ?2)
         WHERE id = ?1",
    )?
    .execute(params![call_id, at])?;
    Ok(())
}
