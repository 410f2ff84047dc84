//! Instants as stored (milliseconds since the epoch) and as shown (RFC 3339, UTC, milliseconds).

use std::sync::OnceLock;

use jiff::civil::{Date, DateTime};
use jiff::fmt::temporal::Pieces;
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{Timestamp, Zoned};
use regex::Regex;

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

/// The date-times the API reads (SPEC §2.2, §7): ISO 8601 / RFC 3339, with or without an offset
/// (without one, the restaurant's local time). A date in 2000–2099 that exists (29 February only
/// in a leap year), as `2026-05-10` or `20260510` (`+002026…` too); `T`, `t` or a space; hours,
/// then optional minutes and seconds (`60` for a leap second) with up to 9 digits of fraction
/// after `.` or `,`, as `12:23:45` or `122345`; and an optional `Z` or offset within ±23:59, as
/// `+02:00`, `+0200` or `+02` (seconds `:00` allowed). White space around it is ignored. One
/// pattern, which the OpenAPI document states and `parse_instant` enforces, so that a client
/// generated from the document sends nothing the server refuses for its form.
pub fn date_time_pattern() -> &'static str {
    static PATTERN: OnceLock<String> = OnceLock::new();
    PATTERN.get_or_init(|| {
        let day = |sep: &str| {
            format!(
                "(?:20[0-9]{{2}}{sep}(?:(?:0[13578]|1[02]){sep}(?:0[1-9]|[12][0-9]|3[01])\
                 |(?:0[469]|11){sep}(?:0[1-9]|[12][0-9]|30)|02{sep}(?:0[1-9]|1[0-9]|2[0-8]))\
                 |20(?:[02468][048]|[13579][26]){sep}02{sep}29)"
            )
        };
        let seconds = "(?:[0-5][0-9]|60)(?:[.,][0-9]{1,9})?";
        let time =
            format!("(?:[01][0-9]|2[0-3])(?::[0-5][0-9](?::{seconds})?|[0-5][0-9](?:{seconds})?)?");
        let offset = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3])(?::[0-5][0-9](?::00)?|[0-5][0-9](?:00)?)?)?";
        let space = "[ \\t\\n\\f\\r]*";
        format!(
            "^{space}(?:\\+00)?(?:{}|{})[Tt ]{time}{offset}{space}$",
            day("-"),
            day("")
        )
    })
}

fn date_time_form() -> &'static Regex {
    static FORM: OnceLock<Regex> = OnceLock::new();
    FORM.get_or_init(|| {
        Regex::new(date_time_pattern()).expect("the date-time pattern is a valid regex")
    })
}

/// Parses a date-time of `date_time_pattern`. With `Z` or an offset it is that instant; without
/// one it is wall-clock time in `tz` (the restaurant's zone). Anything else is refused (`None`): a
/// date without a time, an offset beyond ±23:59, a bracketed time-zone annotation, a year outside
/// 2000–2099 — none of which a PBX means, and each of which would shift the call's time.
pub fn parse_instant(text: &str, tz: &TimeZone) -> Option<i64> {
    if !date_time_form().is_match(text) {
        return None;
    }
    let pieces = Pieces::parse(text.trim_matches(|c: char| c.is_ascii_whitespace())).ok()?;
    let time = pieces.time()?;
    let civil = DateTime::from_parts(pieces.date(), time);
    let zoned: Zoned = match pieces.to_numeric_offset() {
        Some(offset) => civil.to_zoned(TimeZone::fixed(offset)).ok()?,
        None => civil.to_zoned(tz.clone()).ok()?,
    };
    Some(zoned.timestamp().as_millisecond())
}

/// A time bound given on the command line (`calls list --since/--until`): an RFC 3339 instant,
/// a wall-clock time without an offset, or a whole day, the last two in a restaurant's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Instant(i64),
    Local(DateTime),
    Day(Date),
}

impl When {
    /// `2026-05-10T12:23:00Z`, `2026-05-10T14:23:00+02:00`, `2026-05-10T14:23` or `2026-05-10`.
    pub fn parse(text: &str) -> Option<When> {
        let pieces = Pieces::parse(text.trim()).ok()?;
        if pieces.time_zone_annotation().is_some() {
            return None;
        }
        let Some(time) = pieces.time() else {
            return pieces
                .to_numeric_offset()
                .is_none()
                .then(|| When::Day(pieces.date()));
        };
        let civil = DateTime::from_parts(pieces.date(), time);
        match pieces.to_numeric_offset() {
            Some(offset) => {
                let seconds = offset.seconds();
                if seconds.abs() > MAX_OFFSET_SECONDS || seconds % 60 != 0 {
                    return None;
                }
                let at = civil.to_zoned(TimeZone::fixed(offset)).ok()?;
                Some(When::Instant(at.timestamp().as_millisecond()))
            }
            None => Some(When::Local(civil)),
        }
    }

    /// Its first millisecond, in `tz`.
    pub fn first_ms(self, tz: &TimeZone) -> Option<i64> {
        match self {
            When::Instant(ms) => Some(ms),
            When::Local(civil) => Some(
                civil
                    .to_zoned(tz.clone())
                    .ok()?
                    .timestamp()
                    .as_millisecond(),
            ),
            When::Day(day) => start_of_day_ms(day, tz),
        }
    }

    /// Its last millisecond, in `tz`: a day ends just before the next one starts.
    pub fn last_ms(self, tz: &TimeZone) -> Option<i64> {
        match self {
            When::Day(day) => Some(start_of_day_ms(day.tomorrow().ok()?, tz)? - 1),
            other => other.first_ms(tz),
        }
    }
}

fn start_of_day_ms(day: Date, tz: &TimeZone) -> Option<i64> {
    let start = day.to_zoned(tz.clone()).ok()?.start_of_day().ok()?;
    Some(start.timestamp().as_millisecond())
}

/// ±23:59, the widest offset RFC 3339 allows.
const MAX_OFFSET_SECONDS: i32 = 23 * 3600 + 59 * 60;

/// The IANA time-zone database compiled into the binary. The system's copy is never consulted:
/// a box without tzdata, or with an older one, answers exactly like any other.
fn zones() -> &'static TimeZoneDatabase {
    static ZONES: OnceLock<TimeZoneDatabase> = OnceLock::new();
    ZONES.get_or_init(TimeZoneDatabase::bundled)
}

/// The restaurant's zone by IANA name.
pub fn zone(name: &str) -> Option<TimeZone> {
    zones().get(name).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn paris() -> TimeZone {
        zone("Europe/Paris").expect("Europe/Paris")
    }

    #[test]
    fn a_date_time_with_an_offset_or_without_one_is_an_instant() {
        let utc = parse_instant("2030-01-01T12:00:00Z", &paris()).expect("Z");
        let offset = parse_instant("2030-01-01T13:00:00+01:00", &paris()).expect("offset");
        let local = parse_instant("2030-01-01T13:00:00", &paris()).expect("local");
        let fraction = parse_instant("2030-01-01T12:00:00.250Z", &paris()).expect("fraction");

        assert_eq!(utc, offset);
        assert_eq!(utc, local);
        assert_eq!(fraction, utc + 250);
    }

    #[test]
    fn a_day_bound_covers_the_whole_local_day_and_an_instant_only_itself() {
        let day = When::parse("2030-07-01").expect("day");
        let instant = When::parse("2030-07-01T12:00:00Z").expect("instant");
        let local = When::parse("2030-07-01T14:00").expect("local");

        assert_eq!(
            day.first_ms(&paris()),
            parse_instant("2030-06-30T22:00:00Z", &paris())
        );
        assert_eq!(
            day.last_ms(&paris()),
            parse_instant("2030-07-01T21:59:59.999Z", &paris())
        );
        assert_eq!(instant.first_ms(&paris()), instant.last_ms(&paris()));
        assert_eq!(local.first_ms(&paris()), instant.first_ms(&paris()));
        assert_eq!(When::parse("yesterday"), None);
        assert_eq!(When::parse("2030-07-01T12:00:00+01:00[Europe/Paris]"), None);
    }

    /// What `parse_instant` read before its form was a pattern: whatever jiff's ISO 8601 parser
    /// takes, with a time, a year of 2000–2099, an offset of whole minutes within ±23:59 and no
    /// annotation.
    fn read_by_jiff(text: &str) -> bool {
        let Ok(pieces) = Pieces::parse(text.trim()) else {
            return false;
        };
        let offset_ok = pieces
            .to_numeric_offset()
            .is_none_or(|o| o.seconds().abs() <= MAX_OFFSET_SECONDS && o.seconds() % 60 == 0);
        pieces.time().is_some()
            && pieces.time_zone_annotation().is_none()
            && (2000..=2099).contains(&pieces.date().year())
            && offset_ok
    }

    #[test]
    fn every_iso_8601_form_read_before_the_pattern_is_read_and_no_other() {
        let dates = [
            "2026-05-10",
            "20260510",
            "+002026-05-10",
            "+0020260510",
            "2028-02-29",
            "2026-02-29",
            "20260431",
            "1999-12-31",
            "2100-01-01",
            "2026-5-10",
        ];
        let separators = ["T", "t", " "];
        let times = [
            "12",
            "12:23",
            "12:23:45",
            "12:23:45.5",
            "12:23:45,123456789",
            "1223",
            "122345",
            "122345.5",
            "12:2345",
            "1223:45",
            "12:23:60",
            "24:00",
            "12:23:45.1234567891",
        ];
        let offsets = [
            "",
            "Z",
            "z",
            "+02",
            "-0230",
            "+02:30",
            "+02:30:00",
            "+023000",
            "+02:30:15",
            "-23:59",
            "+24:00",
            "+2:00",
            "[Europe/Paris]",
        ];
        let mut read = 0;
        for date in dates {
            for separator in separators {
                for time in times {
                    for offset in offsets {
                        let text = format!("{date}{separator}{time}{offset}");
                        let before = read_by_jiff(&text);
                        assert_eq!(parse_instant(&text, &paris()).is_some(), before, "{text}");
                        read += usize::from(before);
                    }
                }
            }
        }
        assert!(read > 1000, "{read} forms read");
    }

    #[test]
    fn a_date_alone_an_offset_past_23_59_or_a_year_outside_2000_to_2099_is_refused() {
        for text in [
            "2030-01-01",
            "2030-01-01T12:00:00+24:00",
            "2030-01-01T12:00:00+25:00",
            "2030-01-01T12:00:00-24:00",
            "2030-01-01T12:00:00+01:00:30",
            "0001-01-01T00:00:00",
            "1999-12-31T23:59:59Z",
            "2100-01-01T00:00:00Z",
            "2030-01-01T12:00:00+01:00[Europe/Paris]",
            "tomorrow",
            "2030-02-29T12:00",
            "2030-04-31T12:00",
            " 2030-01-01T12:00\u{85}",
        ] {
            assert_eq!(parse_instant(text, &paris()), None, "{text}");
        }
        assert!(parse_instant("2030-01-01T12:00:00+23:59", &paris()).is_some());
        assert!(parse_instant("2028-02-29t12:00:60,123456789z", &paris()).is_some());
        assert!(parse_instant(" 2030-01-01 12:00+0100\n", &paris()).is_some());
        assert!(parse_instant("2000-01-01T00:00:00-23:59", &paris()).is_some());
    }
}
