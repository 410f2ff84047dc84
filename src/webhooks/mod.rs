//! The two webhooks of SPEC §10: Telnyx's call events (ringback detects missed calls itself)
//! and WhatsApp's statuses and replies (ringback hears whether a message arrived, and who
//! answered STOP). Both are off (404) until configured. Each verifies its signature over the raw
//! bytes, stores what it heard in one writer job before answering `200` (so an acknowledged
//! event survives a crash; a database that cannot commit answers `503`, and the sender
//! redelivers), and leaves the work it causes — a missed call's message — to `jobs::timers`.

pub mod replies;
pub mod session;
pub mod telnyx;
pub mod whatsapp;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::secret::Secret;

/// What the webhooks' handlers reach: the app's shared handles and the webhooks' own state.
pub type WebhookApp = crate::state::RoomState<Webhooks>;

/// What the webhooks need from the configuration, parsed once at start-up.
pub struct Webhooks {
    /// `[telnyx] public_key`; `None`: `/webhooks/telnyx` is off.
    pub telnyx_key: Option<ed25519_dalek::VerifyingKey>,
    /// `[whatsapp] app_secret` and `verify_token`; `None`: `/webhooks/whatsapp` is off.
    pub whatsapp: Option<WhatsAppSecrets>,
    /// Wakes the timers when a hangup arrived, so a missed call settles on time.
    pub timers: Arc<Notify>,
}

pub struct WhatsAppSecrets {
    pub app_secret: Secret,
    pub verify_token: Secret,
}

impl Webhooks {
    /// From a validated configuration (a bad key has already stopped start-up).
    pub fn new(config: &Config) -> Webhooks {
        let key = &config.telnyx.public_key;
        let wa = &config.whatsapp;
        Webhooks {
            telnyx_key: (!key.is_empty())
                .then(|| crate::config::parse_telnyx_public_key(key))
                .flatten(),
            whatsapp: wa.webhook_on().then(|| WhatsAppSecrets {
                app_secret: Secret::new(wa.app_secret.clone()),
                verify_token: Secret::new(wa.verify_token.clone()),
            }),
            timers: Arc::new(Notify::new()),
        }
    }
}
