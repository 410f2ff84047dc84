//! What the console says of a call in words, in the user's language (SPEC §9): its status label,
//! the reason a message was or was not sent, the template. The words themselves are in the
//! message files (`messages/*.ftl`); this module picks the message and its arguments.

use jiff::tz::TimeZone;
use rusqlite::Connection;

use super::language::Words;
use super::queries::{LogRow, cooldown_cause};
use crate::db::calls::CallRow;
use crate::domain::{Outcome, Source, TemplateType};
use crate::time::now_ms;
use crate::vault::KeyProblem;

/// The label of SPEC §9's log for a stored outcome.
pub fn status_label(words: &Words, outcome: Outcome) -> String {
    words.get(&format!("status-{}", outcome.as_str()))
}

pub fn template_label(words: &Words, t: Option<TemplateType>) -> String {
    t.map(|t| words.get(&format!("template-{}", t.as_str())))
        .unwrap_or_default()
}

/// The rules a reason quotes.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub cooldown_ms: i64,
    pub stale_after_ms: i64,
}

/// A day and time of an instant in the restaurant's zone, as the language writes the day
/// (`Mon 7 Dec`, `lun. 7 déc.`), and `HH:MM`.
fn day_and_time(words: &Words, ms: i64, tz: &TimeZone) -> (String, String) {
    let Ok(at) = jiff::Timestamp::from_millisecond(ms) else {
        return (String::new(), String::new());
    };
    let z = at.to_zoned(tz.clone());
    let day = words.format(
        "day-short",
        &[
            (
                "weekday",
                i64::from(z.weekday().to_monday_one_offset()).into(),
            ),
            ("day", i64::from(z.day()).into()),
            ("month", i64::from(z.month()).into()),
        ],
    );
    (day, z.strftime("%H:%M").to_string())
}

/// Why the call ended as it did, in words for the manager; `None` for a message sent.
pub fn reason(
    conn: &Connection,
    words: &Words,
    row: &LogRow,
    tz: &TimeZone,
    limits: Limits,
) -> rusqlite::Result<Option<String>> {
    let call = &row.call;
    let duration = |ms: i64| hours(words, ms);
    Ok(Some(match call.outcome {
        Outcome::Sent => return Ok(None),
        Outcome::SkippedCooldown => cooldown_reason(conn, words, call, tz, limits)?,
        Outcome::SkippedStale => words.format(
            "reason-stale",
            &[
                ("late", duration(call.created_at - call.occurred_at).into()),
                ("limit", duration(limits.stale_after_ms).into()),
            ],
        ),
        Outcome::SkippedNoTemplate => words.format(
            "reason-no-template",
            &[("template", template_label(words, call.template_type).into())],
        ),
        Outcome::Undeliverable => failure(
            words,
            call.error_code.as_deref(),
            call.error_message.as_deref(),
        ),
        Outcome::Failed => failed_reason(words, call, tz),
        Outcome::SkippedNoWhatsapp => no_whatsapp_reason(words, call),
        Outcome::SkippedFeatureDisabled => words.get("reason-SKIPPED_FEATURE_DISABLED"),
        Outcome::SkippedHiddenNumber => words.get("reason-SKIPPED_HIDDEN_NUMBER"),
        Outcome::SkippedSuppressed => words.get("reason-SKIPPED_SUPPRESSED"),
        Outcome::SkippedLowBalance => words.get("reason-SKIPPED_LOW_BALANCE"),
        Outcome::Dispatching => words.get("reason-DISPATCHING"),
        // Never stored: a replay adds no row.
        Outcome::SkippedDuplicate => return Ok(None),
    }))
}

/// Why a cooldown held a message back: the message that caused it, when it is still known.
fn cooldown_reason(
    conn: &Connection,
    words: &Words,
    call: &CallRow,
    tz: &TimeZone,
    limits: Limits,
) -> rusqlite::Result<String> {
    let duration = |ms: i64| hours(words, ms);
    Ok(match cooldown_cause(conn, call, limits.cooldown_ms)? {
        Some((other_at, sent_at)) => {
            let (day, time) = day_and_time(words, sent_at, tz);
            let (this_day, _) = day_and_time(words, call.occurred_at, tz);
            let which = if other_at <= call.occurred_at {
                "earlier"
            } else {
                "later"
            };
            if day == this_day {
                words.format(
                    "reason-cooldown-today",
                    &[("time", time.into()), ("which", which.into())],
                )
            } else {
                words.format(
                    "reason-cooldown-day",
                    &[
                        ("day", day.into()),
                        ("time", time.into()),
                        ("which", which.into()),
                    ],
                )
            }
        }
        None => words.format(
            "reason-cooldown",
            &[("duration", duration(limits.cooldown_ms).into())],
        ),
    })
}

/// Why a send failed, and what happens next: that depends on who retries — the PBX its
/// reports, ringback the calls it detected itself.
fn failed_reason(words: &Words, call: &CallRow, tz: &TimeZone) -> String {
    let why = failure(
        words,
        call.error_code.as_deref(),
        call.error_message.as_deref(),
    );
    // What happens next depends on who retries: the PBX its reports, ringback the
    // calls it detected itself.
    let next = match (call.source, call.next_attempt_at) {
        (Source::Partner, _) => words.get("retry-partner"),
        (Source::Telnyx, Some(at)) => {
            let (day, time) = day_and_time(words, at, tz);
            let (today, _) = day_and_time(words, now_ms(), tz);
            if day == today {
                words.format("retry-today", &[("time", time.into())])
            } else {
                words.format("retry-day", &[("day", day.into()), ("time", time.into())])
            }
        }
        (Source::Telnyx, None) => words.get("retry-too-old"),
    };
    words.format(
        "reason-failed",
        &[("why", why.into()), ("next", next.into())],
    )
}

/// No usable WhatsApp: the key file's problem when the skip recorded one.
fn no_whatsapp_reason(words: &Words, call: &CallRow) -> String {
    match (call.error_code.as_deref(), &call.error_message) {
        (Some(KeyProblem::CODE), Some(message)) => match KeyProblem::from_message(message) {
            Some(problem) => words.format(
                &format!("reason-key-file-{}", problem.kind()),
                &[("file", problem.path().display().to_string().into())],
            ),
            None => words.get("reason-SKIPPED_NO_WHATSAPP"),
        },
        _ => words.get("reason-SKIPPED_NO_WHATSAPP"),
    }
}

/// WhatsApp error codes a manager meets most, said in words; others quote WhatsApp.
pub const KNOWN_FAILURES: [&str; 9] = [
    "131050",
    "131049",
    "131026",
    "132001",
    "132000",
    "timeout",
    "transport",
    "interrupted",
    "busy",
];

/// A refusal or failure in words: the codes a manager meets most, then WhatsApp's own text.
fn failure(words: &Words, code: Option<&str>, message: Option<&str>) -> String {
    match (code, message) {
        (Some(code), _) if KNOWN_FAILURES.contains(&code) => words.get(&format!("failure-{code}")),
        (Some(code), Some(message)) => words.format(
            "failure-said",
            &[("message", message.into()), ("code", code.into())],
        ),
        (Some(code), None) => words.format("failure-code", &[("code", code.into())]),
        _ => words.get("failure-other"),
    }
}

/// `6 h`, `90 min`, `26 h 5 min`.
fn hours(words: &Words, ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match (minutes / 60, minutes % 60) {
        (0, m) => words.format("duration-minutes", &[("m", m.into())]),
        (h, 0) => words.format("duration-hours", &[("h", h.into())]),
        (h, m) => words.format(
            "duration-hours-minutes",
            &[("h", h.into()), ("m", m.into())],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::language::Lang;

    #[test]
    fn durations_read_as_people_say_them() {
        let words = Lang::En.words();
        assert_eq!(hours(words, 6 * 3_600_000), "6 h");
        assert_eq!(hours(words, 90 * 60_000), "1 h 30 min");
        assert_eq!(hours(words, 45 * 60_000), "45 min");
    }

    #[test]
    fn a_known_whatsapp_code_is_said_in_words_and_others_quote_whatsapp() {
        let en = Lang::En.words();
        assert!(failure(en, Some("131050"), Some("x")).starts_with("the customer has stopped"));
        assert_eq!(
            failure(en, Some("131999"), Some("Something odd")),
            "WhatsApp said: Something odd (code 131999)"
        );
        let fr = Lang::Fr.words();
        assert_eq!(
            failure(fr, Some("131999"), Some("Something odd")),
            "WhatsApp a répondu : Something odd (code 131999)"
        );
    }

    #[test]
    fn a_day_is_written_as_each_language_writes_it() {
        let paris = crate::time::zone("Europe/Paris").expect("zone");
        // 2026-12-07 19:42 in Paris, a Monday.
        let at = 1_796_668_920_000;
        assert_eq!(
            day_and_time(Lang::En.words(), at, &paris),
            ("Mon 7 Dec".to_string(), "19:42".to_string())
        );
        assert_eq!(day_and_time(Lang::Fr.words(), at, &paris).0, "lun. 7 déc.");
    }
}
