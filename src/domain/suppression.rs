//! Who or what stopped WhatsApp messages to a customer (SPEC §4.4), as stored and shown.

/// Who or what suppressed a customer (SPEC §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    /// The operator, from the CLI, the partner API or the console.
    Operator,
    /// WhatsApp refused a message with 131050: the user stopped marketing messages.
    StoppedMarketing,
    /// The customer answered STOP (or the like).
    Reply,
}

impl Suppression {
    pub const ALL: [Suppression; 3] = [
        Suppression::Operator,
        Suppression::StoppedMarketing,
        Suppression::Reply,
    ];

    /// As stored and shown: `operator`, `131050` or `reply`.
    pub fn as_str(self) -> &'static str {
        match self {
            Suppression::Operator => "operator",
            Suppression::StoppedMarketing => "131050",
            Suppression::Reply => "reply",
        }
    }
}

super::stored_as_text!(Suppression);
