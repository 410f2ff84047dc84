//! Instants as stored (milliseconds since the epoch) and as shown (RFC 3339, UTC, milliseconds).

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

pub fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// `2026-05-10T12:23:00.000Z`: the one timestamp format of the API.
pub fn format_utc(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Err(_) => ms.to_string(),
    }
}

/// The instant in the restaurant's zone, with its offset: how the booking side sees a time.
pub fn format_local(ms: i64, tz: &TimeZone) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        Err(_) => ms.to_string(),
    }
}

/// Parses an RFC 3339 date-time. With `Z` or an offset it is that instant; without one it is
/// wall-clock time in `tz` (the restaurant's zone).
pub fn parse_instant(text: &str, tz: &TimeZone) -> Option<i64> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let local: DateTime = text.parse().ok()?;
    let zoned: Zoned = local.to_zoned(tz.clone()).ok()?;
    Some(zoned.timestamp().as_millisecond())
}

/// The restaurant's zone by IANA name.
pub fn zone(name: &str) -> Option<TimeZone> {
    TimeZone::get(name).ok()
}

/// Date and wall-clock time of an instant in `tz`: `("2026-05-10", "20:30")`.
pub fn local_date_and_time(ms: i64, tz: &TimeZone) -> (String, String) {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => {
            let z = ts.to_zoned(tz.clone());
            (
                z.strftime("%Y-%m-%d").to_string(),
                z.strftime("%H:%M").to_string(),
            )
        }
        Err(_) => (String::new(), String::new()),
    }
}
