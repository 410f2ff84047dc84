//! Reading the configuration: the TOML file, then `RINGBACK_<SECTION>_<KEY>` variables. Every
//! error names the key, and for the file its line (and column, for a syntax error).

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::{ACCESS_TOKEN_VAR, Config};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}, line {line}, column {column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("configuration file {path}, line {line}: {key}: {message}")]
    File {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("configuration key {key}: {message}")]
    Invalid { key: String, message: String },
}

/// The configuration file's path and text, kept so that `validate` can name a bad value's line.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSource {
    pub path: PathBuf,
    text: String,
}

impl FileSource {
    /// The 1-based line where `section.key` is set in the file, if it is.
    pub fn line_of(&self, dotted_key: &str) -> Option<usize> {
        let (section, key) = dotted_key.split_once('.')?;
        let root = toml::de::DeTable::parse(&self.text).ok()?;
        let table = root
            .get_ref()
            .iter()
            .find(|(k, _)| k.get_ref() == section)?
            .1
            .get_ref()
            .as_table()?;
        let (k, _) = table.iter().find(|(k, _)| k.get_ref() == key)?;
        Some(line_column(&self.text, k.span().start).0)
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

const SECTIONS: [&str; 6] = [
    "server",
    "database",
    "whatsapp",
    "missed_calls",
    "telnyx",
    "log",
];
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
        let (mut table, source) = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                let source = FileSource {
                    path: path.to_path_buf(),
                    text,
                };
                (read_file(&source)?, Some(source))
            }
            None => (Table::new(), None),
        };
        let env_keys = apply_env(&mut table, env)?;
        let mut config = serde_path_to_error::deserialize::<_, Config>(Value::Table(table))
            .map_err(|e| {
                let key = e.path().to_string();
                let message = e.into_inner().message().trim().to_string();
                // The file alone deserialised: what fails now came from the environment.
                let var = env_keys
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map_or_else(|| "RINGBACK_*".to_string(), |(_, v)| v.clone());
                ConfigError::Env {
                    var,
                    message: format!("{key}: {message}"),
                }
            })?;
        config.source = source;
        config.env_keys = env_keys;
        Ok(config)
    }
}

/// Parses the file and deserialises it on its own, so that an error names the file's key and
/// line rather than the environment.
fn read_file(source: &FileSource) -> Result<Table, ConfigError> {
    let text = &source.text;
    let syntax = |e: toml::de::Error| {
        let (line, column) = line_column(text, e.span().map_or(0, |s| s.start));
        ConfigError::Syntax {
            path: source.path.clone(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    };
    let table: Table = toml::from_str(text).map_err(syntax)?;
    let deserializer = toml::Deserializer::parse(text).map_err(syntax)?;
    if let Err(e) = serde_path_to_error::deserialize::<_, Config>(deserializer) {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let (line, _) = line_column(text, inner.span().map_or(0, |s| s.start));
        return Err(ConfigError::File {
            path: source.path.clone(),
            line,
            key,
            message: inner.message().trim().to_string(),
        });
    }
    Ok(table)
}

/// Writes `RINGBACK_<SECTION>_<KEY>=value` into the table. A value is read as the type the key
/// has by default (so `RINGBACK_DATABASE_PATH=123` stays a path). Returns which keys were set,
/// and by which variable.
fn apply_env(
    table: &mut Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut set = Vec::new();
    let defaults = Table::try_from(Config::default()).map_err(|e| ConfigError::Env {
        var: "RINGBACK_*".into(),
        message: e.to_string(),
    })?;
    for (var, raw) in env {
        if var == ACCESS_TOKEN_VAR {
            continue;
        }
        let Some(rest) = var.strip_prefix("RINGBACK_") else {
            continue;
        };
        let (section, key, value) = env_setting(&var, rest, &raw, &defaults)?;
        let entry = table
            .entry(section)
            .or_insert_with(|| Value::Table(Table::new()));
        match entry {
            Value::Table(t) => {
                set.push((format!("{section}.{key}"), var.clone()));
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
    Ok(set)
}

/// What `RINGBACK_<rest>` sets: its section, key, and value read as the key's default's type.
fn env_setting(
    var: &str,
    rest: &str,
    raw: &str,
    defaults: &Table,
) -> Result<(&'static str, String, Value), ConfigError> {
    let rest = rest.to_ascii_lowercase();
    let unknown = || ConfigError::Env {
        var: var.to_string(),
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
        Value::String(_) => Value::String(raw.to_string()),
        _ => toml::from_str::<Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .ok_or_else(|| ConfigError::Env {
                var: var.to_string(),
                message: format!("{raw:?} is not a valid value"),
            })?,
    };
    Ok((section, key, value))
}
