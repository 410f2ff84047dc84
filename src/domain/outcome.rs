//! The outcome of a report (SPEC §1, "Outcomes"): a closed set, stored and shown by its code.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Sent,
    SkippedFeatureDisabled,
    SkippedNoWhatsapp,
    SkippedHiddenNumber,
    SkippedSuppressed,
    SkippedNoTemplate,
    SkippedStale,
    SkippedCooldown,
    SkippedLowBalance,
    SkippedDuplicate,
    Undeliverable,
    Failed,
    Dispatching,
}

impl Outcome {
    pub const ALL: [Outcome; 13] = [
        Outcome::Sent,
        Outcome::SkippedFeatureDisabled,
        Outcome::SkippedNoWhatsapp,
        Outcome::SkippedHiddenNumber,
        Outcome::SkippedSuppressed,
        Outcome::SkippedNoTemplate,
        Outcome::SkippedStale,
        Outcome::SkippedCooldown,
        Outcome::SkippedLowBalance,
        Outcome::SkippedDuplicate,
        Outcome::Undeliverable,
        Outcome::Failed,
        Outcome::Dispatching,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "SENT",
            Outcome::SkippedFeatureDisabled => "SKIPPED_FEATURE_DISABLED",
            Outcome::SkippedNoWhatsapp => "SKIPPED_NO_WHATSAPP",
            Outcome::SkippedHiddenNumber => "SKIPPED_HIDDEN_NUMBER",
            Outcome::SkippedSuppressed => "SKIPPED_SUPPRESSED",
            Outcome::SkippedNoTemplate => "SKIPPED_NO_TEMPLATE",
            Outcome::SkippedStale => "SKIPPED_STALE",
            Outcome::SkippedCooldown => "SKIPPED_COOLDOWN",
            Outcome::SkippedLowBalance => "SKIPPED_LOW_BALANCE",
            Outcome::SkippedDuplicate => "SKIPPED_DUPLICATE",
            Outcome::Undeliverable => "UNDELIVERABLE",
            Outcome::Failed => "FAILED",
            Outcome::Dispatching => "DISPATCHING",
        }
    }

    /// What the outcome means, for a person reading the ledger: for a skip, the gate that held
    /// the message back (SPEC §1).
    pub fn meaning(self) -> &'static str {
        match self {
            Outcome::Sent => "WhatsApp accepted the message",
            Outcome::SkippedFeatureDisabled => "missed-call messages are off for the restaurant",
            Outcome::SkippedNoWhatsapp => "the restaurant has no WhatsApp number connected",
            Outcome::SkippedHiddenNumber => "the caller's number was hidden",
            Outcome::SkippedSuppressed => "the customer asked for no WhatsApp messages",
            Outcome::SkippedNoTemplate => "no approved, active template of the type needed",
            Outcome::SkippedStale => "the call was too old to answer when it was reported",
            Outcome::SkippedCooldown => "a message went to this number shortly before or after",
            Outcome::SkippedLowBalance => "the WhatsApp balance was below the cost of a message",
            Outcome::SkippedDuplicate => "a replay of a call already handled",
            Outcome::Undeliverable => "WhatsApp refused the message",
            Outcome::Failed => "the send failed; the same report may be retried",
            Outcome::Dispatching => "the message is being sent",
        }
    }

    /// A final outcome is never dispatched again: a replay of it is `SKIPPED_DUPLICATE`.
    pub fn is_final(self) -> bool {
        !matches!(self, Outcome::Failed | Outcome::Dispatching)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown outcome {s:?}"))
    }
}

super::stored_as_text!(Outcome);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_from_its_code() {
        for outcome in Outcome::ALL {
            assert_eq!(outcome.as_str().parse::<Outcome>(), Ok(outcome));
        }
    }
}
