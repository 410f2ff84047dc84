//! What the console says of a call in words: its status label (SPEC §9), the reason a message
//! was or was not sent, the template, the caller as the restaurant writes numbers.

use jiff::tz::TimeZone;
use rusqlite::Connection;

use super::queries::{LogRow, cooldown_cause};
use crate::db::templates::TemplateType;
use crate::missed_call::delivery::Source;
use crate::missed_call::outcome::Outcome;
use crate::time::{local_date_and_time, now_ms};
use crate::vault::KeyProblem;

/// The label of SPEC §9's log for a stored outcome.
pub fn status_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Sent => "Sent",
        Outcome::SkippedCooldown => "Cooldown",
        Outcome::SkippedSuppressed => "Suppressed",
        Outcome::SkippedNoWhatsapp => "No WhatsApp",
        Outcome::SkippedNoTemplate => "No template",
        Outcome::SkippedHiddenNumber => "Hidden number",
        Outcome::SkippedLowBalance => "Low balance",
        Outcome::SkippedFeatureDisabled => "Feature disabled",
        Outcome::SkippedStale => "Stale",
        Outcome::Undeliverable => "Undeliverable",
        Outcome::Failed => "Failed",
        Outcome::Dispatching => "In progress",
        // Never stored: a replay answers with it but adds no row.
        Outcome::SkippedDuplicate => "Duplicate",
    }
}

pub fn template_label(t: Option<TemplateType>) -> &'static str {
    match t {
        Some(TemplateType::MissedCall) => "Missed call",
        Some(TemplateType::MissedCallWithReservation) => "With reservation",
        None => "",
    }
}

/// The rules a reason quotes.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub cooldown_ms: i64,
    pub stale_after_ms: i64,
}

/// Why the call ended as it did, in words for the manager; `None` for a message sent.
pub fn reason(
    conn: &Connection,
    row: &LogRow,
    tz: &TimeZone,
    limits: Limits,
) -> rusqlite::Result<Option<String>> {
    let call = &row.call;
    Ok(Some(match call.outcome {
        Outcome::Sent => return Ok(None),
        Outcome::SkippedCooldown => match cooldown_cause(conn, call, limits.cooldown_ms)? {
            Some((other_at, sent_at)) => {
                let (day, time) = local_date_and_time(sent_at, tz);
                let (this_day, _) = local_date_and_time(call.occurred_at, tz);
                let when = if day == this_day {
                    format!("at {time}")
                } else {
                    format!("on {day} at {time}")
                };
                let which = if other_at <= call.occurred_at {
                    "an earlier"
                } else {
                    "a later"
                };
                format!("message sent {when} for {which} call")
            }
            None => format!(
                "a message went to this number less than {} before or after",
                hours(limits.cooldown_ms)
            ),
        },
        Outcome::SkippedStale => format!(
            "reported {} after the call; calls older than {} are not answered",
            hours(call.created_at - call.occurred_at),
            hours(limits.stale_after_ms)
        ),
        Outcome::SkippedNoTemplate => format!(
            "no approved, active \u{201c}{}\u{201d} template",
            template_label(call.template_type)
        ),
        Outcome::Undeliverable => {
            failure(call.error_code.as_deref(), call.error_message.as_deref())
        }
        Outcome::Failed => {
            let why = failure(call.error_code.as_deref(), call.error_message.as_deref());
            // What happens next depends on who retries: the PBX its reports, ringback the
            // calls it detected itself.
            let next = match (call.source, call.next_attempt_at) {
                (Source::Partner, _) => "the PBX's retry sends it again".to_string(),
                (Source::Telnyx, Some(at)) => {
                    let (day, time) = local_date_and_time(at, tz);
                    let (today, _) = local_date_and_time(now_ms(), tz);
                    if day == today {
                        format!("ringback sends it again at {time}")
                    } else {
                        format!("ringback sends it again on {day} at {time}")
                    }
                }
                (Source::Telnyx, None) => "too old to send again".to_string(),
            };
            format!("{why}; {next}")
        }
        Outcome::SkippedNoWhatsapp => match (call.error_code.as_deref(), &call.error_message) {
            (Some(KeyProblem::CODE), Some(problem)) => crate::views::sealed_token_reason(problem),
            _ => Outcome::SkippedNoWhatsapp.meaning().to_string(),
        },
        other => other.meaning().to_string(),
    }))
}

/// A refusal or failure in words: the codes a manager meets most, then WhatsApp's own text.
fn failure(code: Option<&str>, message: Option<&str>) -> String {
    let said = match code {
        Some("131050") => "the customer has stopped marketing messages from the restaurant",
        Some("131049") => {
            "WhatsApp held the message back: this customer got many marketing messages lately"
        }
        Some("131026") => "the number cannot receive this WhatsApp message",
        Some("132001") => "the template does not exist at Meta in this language",
        Some("132000") => "the template at Meta has a different number of parameters",
        Some("timeout") => "WhatsApp did not answer in time",
        Some("transport") => "WhatsApp could not be reached",
        Some("interrupted") => "the send was interrupted by a restart",
        Some("busy") => "too many messages were waiting for WhatsApp",
        _ => "",
    };
    if !said.is_empty() {
        return said.to_string();
    }
    match (code, message) {
        (Some(code), Some(message)) => format!("WhatsApp said: {message} (code {code})"),
        (Some(code), None) => format!("WhatsApp error {code}"),
        _ => "the send failed".into(),
    }
}

/// `6 h`, `90 min`, `26 h 5 min`.
fn hours(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(hours(6 * 3_600_000), "6 h");
        assert_eq!(hours(90 * 60_000), "1 h 30 min");
        assert_eq!(hours(45 * 60_000), "45 min");
    }

    #[test]
    fn a_known_whatsapp_code_is_said_in_words_and_others_quote_whatsapp() {
        assert!(failure(Some("131050"), Some("x")).starts_with("the customer has stopped"));
        assert_eq!(
            failure(Some("131999"), Some("Something odd")),
            "WhatsApp said: Something odd (code 131999)"
        );
    }
}
