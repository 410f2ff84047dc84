//! The outcome of a report (SPEC §1, "Outcomes").

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
