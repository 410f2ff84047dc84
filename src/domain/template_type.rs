//! The two kinds of message a missed call can send (SPEC §1 step 6), as stored and shown.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateType {
    MissedCall,
    MissedCallWithReservation,
}

impl TemplateType {
    pub const ALL: [TemplateType; 2] = [
        TemplateType::MissedCall,
        TemplateType::MissedCallWithReservation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateType::MissedCall => "MISSED_CALL",
            TemplateType::MissedCallWithReservation => "MISSED_CALL_WITH_RESERVATION",
        }
    }
}

impl fmt::Display for TemplateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TemplateType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "MISSED_CALL" => Ok(TemplateType::MissedCall),
            "MISSED_CALL_WITH_RESERVATION" => Ok(TemplateType::MissedCallWithReservation),
            other => Err(format!(
                "unknown template type {other:?} (MISSED_CALL or MISSED_CALL_WITH_RESERVATION)"
            )),
        }
    }
}

super::stored_as_text!(TemplateType);
