//! Typed configuration: defaults, then the TOML file, then `RINGBACK_<SECTION>_<KEY>` environment
//! variables, then command-line flags. An unknown key or a bad value stops start-up naming it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub whatsapp: WhatsAppConfig,
    pub missed_calls: MissedCallsConfig,
    pub telnyx: TelnyxConfig,
    pub log: LogConfig,
    /// The file the configuration was read from, so that a bad value can name its line.
    #[serde(skip)]
    pub source: Option<load::FileSource>,
    /// `(section.key, RINGBACK_… variable)` for every key an environment variable set, so that a
    /// bad value is blamed on the variable, not on the file.
    #[serde(skip)]
    pub env_keys: Vec<(String, String)>,
    /// Keys a command-line flag set last.
    #[serde(skip)]
    pub flag_keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    pub max_body_bytes: usize,
    pub header_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub max_connections: usize,
    /// Connections one client address may hold; `0` turns the cap off (behind a reverse proxy,
    /// every client has the proxy's address).
    pub max_connections_per_address: usize,
    /// PEM certificate chain and private key; both set → HTTPS on `listen`, both empty → HTTP.
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// Serve `GET /metrics`.
    pub metrics: bool,
    /// Requests per minute per partner token; `0` turns the limit off.
    pub rate_limit_per_minute: u32,
    /// The box's address as guests' phones reach it (`https://book.example.com`); set, a
    /// message's booking link goes through `/r/{token}` here, so its clicks are counted.
    pub public_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub path: PathBuf,
    pub max_pending_writes: usize,
    /// Who may restart or truncate the WAL (SPEC §8.1).
    pub replication: Replication,
    /// The key that seals third-party secrets in the database (SPEC §8.2); empty: `ringback.key`
    /// beside the database, or systemd's credential of that name when one is loaded.
    pub key_file: PathBuf,
}

/// What else reads the WAL. Litestream ships each frame to its replica before it lets a
/// checkpoint restart the log; with it, ringback's own checkpoints stay passive.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Replication {
    #[default]
    None,
    Litestream,
}

impl Replication {
    pub fn as_str(self) -> &'static str {
        match self {
            Replication::None => "none",
            Replication::Litestream => "litestream",
        }
    }

    /// ringback may restart or truncate the WAL itself.
    pub fn owns_wal(self) -> bool {
        self == Replication::None
    }
}

impl DatabaseConfig {
    /// The key file in use: `key_file` when set; else the credential systemd loaded under the
    /// name `ringback.key` (`LoadCredential=ringback.key:…`); else `ringback.key` beside the
    /// database.
    pub fn key_path(&self) -> PathBuf {
        if !self.key_file.as_os_str().is_empty() {
            return self.key_file.clone();
        }
        if let Some(dir) = credentials_directory() {
            return dir.join(KEY_FILE_NAME);
        }
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(KEY_FILE_NAME),
            _ => PathBuf::from(KEY_FILE_NAME),
        }
    }
}

impl DatabaseConfig {
    /// The key file is the credential systemd loaded: ringback never creates it (the
    /// credentials directory is systemd's, read-only), and a missing one is a missing key, said
    /// as such, not replaced by a new key beside the database that the unit does not load.
    pub fn key_is_credential(&self) -> bool {
        self.key_file.as_os_str().is_empty() && credentials_directory().is_some()
    }
}

/// `$CREDENTIALS_DIRECTORY`: set by systemd for a service that loads credentials.
fn credentials_directory() -> Option<PathBuf> {
    std::env::var_os("CREDENTIALS_DIRECTORY")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// The key file's name beside the database, and its credential's name under systemd.
pub const KEY_FILE_NAME: &str = "ringback.key";

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    Cloud,
    Sandbox,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Cloud => "cloud",
            TransportKind::Sandbox => "sandbox",
        }
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsAppConfig {
    pub transport: TransportKind,
    pub api_base: String,
    pub timeout_ms: u64,
    pub dispatch_threads: usize,
    /// Meta's webhook handshake token; set together with `app_secret`, it turns on
    /// `/webhooks/whatsapp` (SPEC §10).
    pub verify_token: String,
    /// The Meta app's secret, which signs every webhook (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// With the webhook on, how long a send a restart interrupted waits for WhatsApp's status
    /// before it counts as FAILED.
    pub reconcile_seconds: i64,
}

/// The app secret and the verify token never show in a debug print.
impl std::fmt::Debug for WhatsAppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &str| if s.is_empty() { "" } else { "***" };
        f.debug_struct("WhatsAppConfig")
            .field("transport", &self.transport)
            .field("api_base", &self.api_base)
            .field("timeout_ms", &self.timeout_ms)
            .field("dispatch_threads", &self.dispatch_threads)
            .field("verify_token", &hidden(&self.verify_token))
            .field("app_secret", &hidden(&self.app_secret))
            .field("reconcile_seconds", &self.reconcile_seconds)
            .finish()
    }
}

impl WhatsAppConfig {
    /// The status webhook is on: start-up holds interrupted sends for their status.
    pub fn webhook_on(&self) -> bool {
        !self.app_secret.is_empty()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TelnyxConfig {
    /// The Telnyx account's public key (base64), which verifies every webhook; set, it turns
    /// on `/webhooks/telnyx` (SPEC §10).
    pub public_key: String,
    /// A closed call counts as missed once this long has passed after its hangup with no
    /// answer heard.
    pub settle_seconds: i64,
}

impl Default for TelnyxConfig {
    fn default() -> Self {
        TelnyxConfig {
            public_key: String::new(),
            settle_seconds: 5,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MissedCallsConfig {
    pub cooldown_minutes: i64,
    pub stale_after_minutes: i64,
    pub reservation_grace_minutes: i64,
    pub max_future_skew_seconds: i64,
    /// Ledger rows older than this many days are deleted; `0` keeps them forever.
    pub retention_days: i64,
    /// A reservation made within this many days after a call's message was sent may count as
    /// the booking that message won back.
    pub conversion_window_days: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter: a level (`info`) or directives (`info,ringback=debug`).
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 16384,
            header_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max_connections: 512,
            max_connections_per_address: 64,
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
            metrics: true,
            rate_limit_per_minute: 600,
            public_url: String::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            path: PathBuf::from("ringback.db"),
            max_pending_writes: 10_000,
            replication: Replication::None,
            key_file: PathBuf::new(),
        }
    }
}

impl Default for WhatsAppConfig {
    fn default() -> Self {
        WhatsAppConfig {
            transport: TransportKind::Cloud,
            api_base: "https://graph.facebook.com/v21.0".into(),
            timeout_ms: 10_000,
            dispatch_threads: 16,
            verify_token: String::new(),
            app_secret: String::new(),
            reconcile_seconds: 120,
        }
    }
}

impl Default for MissedCallsConfig {
    fn default() -> Self {
        MissedCallsConfig {
            cooldown_minutes: 360,
            stale_after_minutes: 1440,
            reservation_grace_minutes: 120,
            max_future_skew_seconds: 300,
            retention_days: 400,
            conversion_window_days: 7,
        }
    }
}

/// Read by `restaurant whatsapp` so that the secret need not be typed on the command line; it is
/// not a configuration key.
pub const ACCESS_TOKEN_VAR: &str = "RINGBACK_ACCESS_TOKEN";

mod load;
mod validate;

pub use load::{ConfigError, FileSource};
pub use validate::parse_telnyx_public_key;

#[cfg(test)]
mod tests;
