//! Typed configuration: defaults, then the TOML file, then `RINGBACK_<SECTION>_<KEY>` environment
//! variables, then command-line flags. An unknown key or a bad value stops start-up naming it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub whatsapp: WhatsAppConfig,
    pub missed_calls: MissedCallsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    pub max_body_bytes: usize,
    pub header_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub max_connections: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub path: PathBuf,
    pub max_pending_writes: usize,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    Cloud,
    Sandbox,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsAppConfig {
    pub transport: TransportKind,
    pub api_base: String,
    pub timeout_ms: u64,
    pub dispatch_threads: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MissedCallsConfig {
    pub cooldown_minutes: i64,
    pub stale_after_minutes: i64,
    pub reservation_grace_minutes: i64,
    pub max_future_skew_seconds: i64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 16384,
            header_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max_connections: 512,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            path: PathBuf::from("ringback.db"),
            max_pending_writes: 10_000,
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
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("configuration key {key}: {message}")]
    Invalid { key: String, message: String },
}

const SECTIONS: [&str; 4] = ["server", "database", "whatsapp", "missed_calls"];
const DEFAULT_FILE: &str = "ringback.toml";

impl Config {
    /// Loads the configuration: `file` if given, else `./ringback.toml` if it exists, then the
    /// `RINGBACK_*` variables of `env`. Flags are applied by the caller, then `validate`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let default_file = Path::new(DEFAULT_FILE);
        let path = match file {
            Some(p) => Some(p),
            None if default_file.exists() => Some(default_file),
            None => None,
        };
        let mut table = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                let table: Table = toml::from_str(&text).map_err(|e| ConfigError::File {
                    path: path.to_path_buf(),
                    message: e.message().to_string(),
                })?;
                // Deserialise once on its own so an error names the file, not the environment.
                Config::from_table(table.clone()).map_err(|message| ConfigError::File {
                    path: path.to_path_buf(),
                    message,
                })?;
                table
            }
            None => Table::new(),
        };
        apply_env(&mut table, env)?;
        Config::from_table(table).map_err(|message| ConfigError::Env {
            var: "RINGBACK_*".into(),
            message,
        })
    }

    fn from_table(table: Table) -> Result<Config, String> {
        Config::deserialize(Value::Table(table)).map_err(|e| e.message().to_string())
    }

    /// Checks every value that the types alone do not; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| {
            Err(ConfigError::Invalid {
                key: key.into(),
                message: message.into(),
            })
        };
        if self.server.listen.parse::<SocketAddr>().is_err() {
            return invalid(
                "server.listen",
                "must be an address and port, like 127.0.0.1:8080",
            );
        }
        if !(256..=10 * 1024 * 1024).contains(&self.server.max_body_bytes) {
            return invalid("server.max_body_bytes", "must be between 256 and 10485760");
        }
        for (key, value) in [
            ("server.header_timeout_ms", self.server.header_timeout_ms),
            ("server.idle_timeout_ms", self.server.idle_timeout_ms),
        ] {
            if !(100..=3_600_000).contains(&value) {
                return invalid(key, "must be between 100 and 3600000");
            }
        }
        if !(1..=65_536).contains(&self.server.max_connections) {
            return invalid("server.max_connections", "must be between 1 and 65536");
        }
        if !(1..=1_000_000).contains(&self.database.max_pending_writes) {
            return invalid(
                "database.max_pending_writes",
                "must be between 1 and 1000000",
            );
        }
        if self.database.path.as_os_str().is_empty() {
            return invalid("database.path", "must not be empty");
        }
        let base = &self.whatsapp.api_base;
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() < 10 {
            return invalid("whatsapp.api_base", "must be an http:// or https:// URL");
        }
        if !(1..=600_000).contains(&self.whatsapp.timeout_ms) {
            return invalid("whatsapp.timeout_ms", "must be between 1 and 600000");
        }
        if !(1..=256).contains(&self.whatsapp.dispatch_threads) {
            return invalid("whatsapp.dispatch_threads", "must be between 1 and 256");
        }
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
                return invalid(key, "must be zero or a positive number of a sane size");
            }
        }
        Ok(())
    }
}

/// Writes `RINGBACK_<SECTION>_<KEY>=value` into the table. A value is read as the type the key
/// has by default (so `RINGBACK_DATABASE_PATH=123` stays a path).
fn apply_env(
    table: &mut Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let defaults = Table::try_from(Config::default()).map_err(|e| ConfigError::Env {
        var: "RINGBACK_*".into(),
        message: e.to_string(),
    })?;
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix("RINGBACK_") else {
            continue;
        };
        // Not a configuration key: `restaurant whatsapp` reads a restaurant's access token from
        // it, so that the secret never needs the command line (SPEC §6.2).
        if var == "RINGBACK_ACCESS_TOKEN" {
            continue;
        }
        let rest = rest.to_ascii_lowercase();
        let unknown = || ConfigError::Env {
            var: var.clone(),
            message: "no such configuration key".into(),
        };
        let (section, key) = SECTIONS
            .iter()
            .find_map(|s| {
                rest.strip_prefix(s)
                    .and_then(|k| k.strip_prefix('_'))
                    .map(|k| (*s, k.to_string()))
            })
            .ok_or_else(unknown)?;
        let default = defaults
            .get(section)
            .and_then(|s| s.get(&key))
            .ok_or_else(unknown)?;
        let value = match default {
            Value::String(_) => Value::String(raw.clone()),
            _ => toml::from_str::<Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .ok_or_else(|| ConfigError::Env {
                    var: var.clone(),
                    message: format!("{raw:?} is not a valid value"),
                })?,
        };
        let entry = table
            .entry(section)
            .or_insert_with(|| Value::Table(Table::new()));
        match entry {
            Value::Table(t) => {
                t.insert(key, value);
            }
            _ => {
                return Err(ConfigError::Env {
                    var,
                    message: format!("[{section}] in the file is not a table"),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_overrides_defaults_with_typed_values() {
        let cfg = Config::load(
            None,
            env(&[
                ("RINGBACK_DATABASE_PATH", "123"),
                ("RINGBACK_WHATSAPP_TIMEOUT_MS", "2500"),
                ("RINGBACK_MISSED_CALLS_COOLDOWN_MINUTES", "60"),
                ("HOME", "/root"),
            ]),
        )
        .expect("valid");
        assert_eq!(cfg.database.path, PathBuf::from("123"));
        assert_eq!(cfg.whatsapp.timeout_ms, 2500);
        assert_eq!(cfg.missed_calls.cooldown_minutes, 60);
    }

    #[test]
    fn an_unknown_environment_key_is_named() {
        let err =
            Config::load(None, env(&[("RINGBACK_SERVER_PORT", "1")])).expect_err("unknown key");
        assert!(err.to_string().contains("RINGBACK_SERVER_PORT"), "{err}");
    }

    #[test]
    fn an_unknown_file_key_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:1\"\nport = 3\n").expect("write");
        let err = Config::load(Some(&path), env(&[])).expect_err("unknown key");
        assert!(err.to_string().contains("port"), "{err}");
    }

    #[test]
    fn the_example_file_lists_every_key_with_its_default() {
        let example: Table =
            toml::from_str(include_str!("../config.example.toml")).expect("example parses");
        let defaults = Table::try_from(Config::default()).expect("defaults");
        assert_eq!(example, defaults);
    }

    #[test]
    fn a_bad_value_is_named() {
        let mut cfg = Config::default();
        cfg.whatsapp.dispatch_threads = 0;
        let err = cfg.validate().expect_err("bad value");
        assert!(
            err.to_string().contains("whatsapp.dispatch_threads"),
            "{err}"
        );
    }
}
