//! `restaurant list`: every restaurant, as a table or as JSON.

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::cli::error::AdminError;
use crate::db::restaurants::{self as table, Restaurant};
use crate::time::format_utc;

pub fn list_restaurants(conn: &Connection) -> Result<Vec<Restaurant>, AdminError> {
    Ok(table::list_restaurants(conn)?)
}

/// A restaurant as `--json` shows it; never the access token. `whatsapp`: its account is
/// connected and its token opens with the key file.
pub fn restaurant_json(r: &Restaurant, whatsapp: bool) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "country": r.country,
        "timezone": r.timezone,
        "booking_url": r.booking_url,
        "features": {"missed_calls": r.missed_calls_enabled, "whatsapp": whatsapp},
        "whatsapp_phone_number_id": r.whatsapp.as_ref().map(|w| &w.phone_number_id),
        "telnyx_number": r.telnyx_number,
        "balance_cents": r.balance_cents,
        "message_cost_cents": r.message_cost_cents,
        "created_at": format_utc(r.created_at),
    })
}
