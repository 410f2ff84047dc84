//! Where a call came from, and what WhatsApp's statuses said of its message (SPEC §2.4, §10).

/// The door a call came in by: both run the same pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Reported over the partner API.
    Partner,
    /// Detected from Telnyx's call events; ringback retries its failed sends itself.
    Telnyx,
}

impl Source {
    pub const ALL: [Source; 2] = [Source::Partner, Source::Telnyx];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Partner => "PARTNER",
            Source::Telnyx => "TELNYX",
        }
    }
}

/// What WhatsApp's status webhooks said of a sent message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 4] = [
        DeliveryState::Sent,
        DeliveryState::Delivered,
        DeliveryState::Read,
        DeliveryState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Sent => "sent",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Read => "read",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The state after a status `next` arrives at a message in state `current`; `None`: no
    /// change. The state only moves forward (sent < delivered < read, a `read` implying
    /// delivered); `failed` replaces only nothing or `sent`, and a later `delivered` or `read`
    /// replaces `failed` (WhatsApp retried and got through).
    pub fn advance(current: Option<DeliveryState>, next: DeliveryState) -> Option<DeliveryState> {
        use DeliveryState::*;
        let rank = |s: DeliveryState| match s {
            Sent => 1,
            Delivered => 2,
            Read => 3,
            Failed => 0,
        };
        let moves = match (current, next) {
            (None, _) => true,
            (Some(Sent), Failed) => true,
            (Some(_), Failed) => false,
            (Some(Failed), s) => matches!(s, Delivered | Read),
            (Some(c), s) => rank(s) > rank(c),
        };
        moves.then_some(next)
    }
}

super::stored_as_text!(Source);
super::stored_as_text!(DeliveryState);

#[cfg(test)]
mod tests {
    use super::DeliveryState::{self, *};

    fn after(statuses: &[DeliveryState]) -> Option<DeliveryState> {
        statuses
            .iter()
            .fold(None, |state, s| DeliveryState::advance(state, *s).or(state))
    }

    #[test]
    fn the_delivery_state_only_moves_forward_whatever_the_order() {
        assert_eq!(after(&[Sent, Delivered, Read]), Some(Read));
        assert_eq!(after(&[Read, Delivered, Sent]), Some(Read));
        assert_eq!(after(&[Delivered, Sent, Delivered]), Some(Delivered));
        assert_eq!(after(&[Read]), Some(Read));
    }

    #[test]
    fn failed_replaces_only_nothing_or_sent_and_a_later_delivery_replaces_it() {
        assert_eq!(after(&[Sent, Failed]), Some(Failed));
        assert_eq!(after(&[Delivered, Failed]), Some(Delivered));
        assert_eq!(after(&[Failed, Sent]), Some(Failed));
        assert_eq!(after(&[Failed, Delivered]), Some(Delivered));
        assert_eq!(after(&[Failed, Read]), Some(Read));
    }
}
