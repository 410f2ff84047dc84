//! How a Telnyx call session ended once settled (SPEC §10), as stored.

/// What settling a session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// A missed call: the pipeline ran (the ledger row says how it ended).
    Missed,
    /// A leg of it was answered.
    Answered,
    /// Set aside: no restaurant holds the number it rang.
    UnknownNumber,
    /// Set aside: the caller id is neither a valid number nor a withheld one.
    InvalidCaller,
    /// Set aside: the restaurant was removed before its call was handled.
    RestaurantRemoved,
    /// Set aside: the session id was already a call of another number.
    SessionReused,
}

impl Settlement {
    pub const ALL: [Settlement; 6] = [
        Settlement::Missed,
        Settlement::Answered,
        Settlement::UnknownNumber,
        Settlement::InvalidCaller,
        Settlement::RestaurantRemoved,
        Settlement::SessionReused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Settlement::Missed => "missed",
            Settlement::Answered => "answered",
            Settlement::UnknownNumber => "unknown_number",
            Settlement::InvalidCaller => "invalid_caller",
            Settlement::RestaurantRemoved => "restaurant_removed",
            Settlement::SessionReused => "session_reused",
        }
    }
}

super::stored_as_text!(Settlement);
