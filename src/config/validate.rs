//! The checks the types alone do not make; each error names the key, and its line in the file.

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::VerifyingKey;

use super::{Config, ConfigError};

/// The base64 public key of the Telnyx portal; `None` if it is not a 32-byte Ed25519 key.
pub fn parse_telnyx_public_key(base64_key: &str) -> Option<VerifyingKey> {
    let bytes = BASE64.decode(base64_key.trim()).ok()?;
    VerifyingKey::from_bytes(&bytes.try_into().ok()?).ok()
}

impl Config {
    /// Checks every value that the types alone do not; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        // In this order: with several bad values, the first is the one reported.
        self.validate_server_limits()?;
        self.validate_database()?;
        self.validate_whatsapp()?;
        self.validate_telnyx()?;
        self.validate_tls_and_rate_limit()?;
        self.validate_log()?;
        self.validate_retention()?;
        self.validate_public_url()?;
        self.validate_missed_call_durations()
    }

    /// The listen address, the body size, the timeouts and the connection caps.
    fn validate_server_limits(&self) -> Result<(), ConfigError> {
        if self.server.listen.parse::<SocketAddr>().is_err() {
            return Err(self.invalid(
                "server.listen",
                "must be an address and port, like 127.0.0.1:8080",
            ));
        }
        if !(256..=10 * 1024 * 1024).contains(&self.server.max_body_bytes) {
            return Err(self.invalid("server.max_body_bytes", "must be between 256 and 10485760"));
        }
        for (key, value) in [
            ("server.header_timeout_ms", self.server.header_timeout_ms),
            ("server.idle_timeout_ms", self.server.idle_timeout_ms),
        ] {
            if !(100..=3_600_000).contains(&value) {
                return Err(self.invalid(key, "must be between 100 and 3600000"));
            }
        }
        if !(1..=65_536).contains(&self.server.max_connections) {
            return Err(self.invalid("server.max_connections", "must be between 1 and 65536"));
        }
        if self.server.max_connections_per_address > 65_536 {
            return Err(self.invalid(
                "server.max_connections_per_address",
                "must be between 0 (no cap) and 65536",
            ));
        }
        Ok(())
    }

    fn validate_database(&self) -> Result<(), ConfigError> {
        if !(1..=1_000_000).contains(&self.database.max_pending_writes) {
            return Err(self.invalid(
                "database.max_pending_writes",
                "must be between 1 and 1000000",
            ));
        }
        if self.database.path.as_os_str().is_empty() {
            return Err(self.invalid("database.path", "must not be empty"));
        }
        Ok(())
    }

    fn validate_whatsapp(&self) -> Result<(), ConfigError> {
        let wa = &self.whatsapp;
        let base = &wa.api_base;
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() < 10 {
            return Err(self.invalid("whatsapp.api_base", "must be an http:// or https:// URL"));
        }
        if !(1..=600_000).contains(&wa.timeout_ms) {
            return Err(self.invalid("whatsapp.timeout_ms", "must be between 1 and 600000"));
        }
        if !(1..=256).contains(&wa.dispatch_threads) {
            return Err(self.invalid("whatsapp.dispatch_threads", "must be between 1 and 256"));
        }
        if wa.app_secret.is_empty() != wa.verify_token.is_empty() {
            let key = if wa.app_secret.is_empty() {
                "whatsapp.app_secret"
            } else {
                "whatsapp.verify_token"
            };
            return Err(self.invalid(
                key,
                "the WhatsApp webhook needs both app_secret and verify_token, or neither",
            ));
        }
        if !(0..=86_400).contains(&wa.reconcile_seconds) {
            return Err(self.invalid("whatsapp.reconcile_seconds", "must be between 0 and 86400"));
        }
        Ok(())
    }

    fn validate_telnyx(&self) -> Result<(), ConfigError> {
        if !self.telnyx.public_key.is_empty()
            && parse_telnyx_public_key(&self.telnyx.public_key).is_none()
        {
            return Err(self.invalid(
                "telnyx.public_key",
                "must be the base64 Ed25519 public key shown in the Telnyx portal (32 bytes)",
            ));
        }
        if !(0..=3_600).contains(&self.telnyx.settle_seconds) {
            return Err(self.invalid("telnyx.settle_seconds", "must be between 0 and 3600"));
        }
        Ok(())
    }

    fn validate_tls_and_rate_limit(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        if server.tls_cert.as_os_str().is_empty() != server.tls_key.as_os_str().is_empty() {
            let key = if server.tls_cert.as_os_str().is_empty() {
                "server.tls_cert"
            } else {
                "server.tls_key"
            };
            return Err(self.invalid(key, "tls_cert and tls_key are set together, or neither is"));
        }
        if server.rate_limit_per_minute > 1_000_000 {
            return Err(self.invalid(
                "server.rate_limit_per_minute",
                "must be between 0 (off) and 1000000",
            ));
        }
        Ok(())
    }

    fn validate_log(&self) -> Result<(), ConfigError> {
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(self.invalid(
                "log.level",
                "must be a level (error, warn, info, debug, trace) or tracing directives",
            ));
        }
        Ok(())
    }

    /// How long the ledger keeps rows, and how long after a message a booking counts for it.
    fn validate_retention(&self) -> Result<(), ConfigError> {
        if !(0..=36_500).contains(&self.missed_calls.retention_days) {
            return Err(self.invalid(
                "missed_calls.retention_days",
                "must be between 0 (keep forever) and 36500",
            ));
        }
        if !(1..=365).contains(&self.missed_calls.conversion_window_days) {
            return Err(self.invalid(
                "missed_calls.conversion_window_days",
                "must be between 1 and 365",
            ));
        }
        Ok(())
    }

    fn validate_public_url(&self) -> Result<(), ConfigError> {
        let url = self.server.public_url.trim_end_matches('/');
        if !url.is_empty()
            && (!(url.starts_with("https://") || url.starts_with("http://"))
                || url.len() < 10
                || url.contains(['?', '#', ' ']))
        {
            return Err(self.invalid(
                "server.public_url",
                "must be empty or an http:// or https:// URL without a query, like https://ringback.example.com",
            ));
        }
        Ok(())
    }

    fn validate_missed_call_durations(&self) -> Result<(), ConfigError> {
        let mc = &self.missed_calls;
        for (key, value) in [
            ("missed_calls.cooldown_minutes", mc.cooldown_minutes),
            ("missed_calls.stale_after_minutes", mc.stale_after_minutes),
            (
                "missed_calls.reservation_grace_minutes",
                mc.reservation_grace_minutes,
            ),
            (
                "missed_calls.max_future_skew_seconds",
                mc.max_future_skew_seconds,
            ),
        ] {
            if !(0..=10 * 365 * 24 * 60 * 60).contains(&value) {
                return Err(self.invalid(key, "must be zero or a positive number of a sane size"));
            }
        }
        Ok(())
    }

    /// A command-line flag set `key`: a bad value is then the flag's, not the file's or a
    /// variable's.
    pub fn set_by_flag(&mut self, key: &str) {
        self.env_keys.retain(|(k, _)| k != key);
        self.flag_keys.push(key.to_string());
    }

    fn invalid(&self, key: &str, message: &str) -> ConfigError {
        if self.flag_keys.iter().any(|k| k == key) {
            return ConfigError::Invalid {
                key: key.into(),
                message: message.into(),
            };
        }
        if let Some((_, var)) = self.env_keys.iter().find(|(k, _)| k == key) {
            return ConfigError::Env {
                var: var.clone(),
                message: format!("{key}: {message}"),
            };
        }
        let at_line = self
            .source
            .as_ref()
            .and_then(|s| Some((s, s.line_of(key)?)));
        match at_line {
            Some((source, line)) => ConfigError::File {
                path: source.path.clone(),
                line,
                key: key.into(),
                message: message.into(),
            },
            None => ConfigError::Invalid {
                key: key.into(),
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_telnyx_public_key_is_32_bytes_of_base64() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]).verifying_key();
        assert!(parse_telnyx_public_key(&BASE64.encode(key.as_bytes())).is_some());
        assert!(parse_telnyx_public_key("AAAA").is_none());
        assert!(parse_telnyx_public_key("not base64 at all!").is_none());
    }
}
