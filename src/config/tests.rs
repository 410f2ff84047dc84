//! The configuration's loading, layering and validation, as the tests hold them.

use std::path::Path;

use toml::Table;

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
    let err = Config::load(None, env(&[("RINGBACK_SERVER_PORT", "1")])).expect_err("unknown key");
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
        toml::from_str(include_str!("../../config.example.toml")).expect("example parses");
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

fn load_file(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    std::fs::write(&path, text).expect("write");
    Config::load(Some(Path::new(&path)), env(&[])).and_then(|c| c.validate().map(|()| c))
}

#[test]
fn a_bad_value_in_the_file_names_the_key_and_its_line() {
    let err =
        load_file("[server]\nlisten = \"127.0.0.1:1\"\n\n[whatsapp]\ntimeout_ms = \"fast\"\n")
            .expect_err("bad value");
    let text = err.to_string();
    assert!(text.contains("whatsapp.timeout_ms"), "{text}");
    assert!(text.contains("line 5"), "{text}");
}

#[test]
fn a_value_out_of_range_in_the_file_names_the_key_and_its_line() {
    let err = load_file("# threads\n[whatsapp]\ndispatch_threads = 0\n").expect_err("bad value");
    let text = err.to_string();
    assert!(text.contains("whatsapp.dispatch_threads"), "{text}");
    assert!(text.contains("line 3"), "{text}");
}

#[test]
fn a_toml_syntax_error_names_its_line_and_column() {
    let err = load_file("[server]\nlisten = \"127.0.0.1:1\"\nmax_body_bytes = = 3\n")
        .expect_err("syntax error");
    let text = err.to_string();
    assert!(text.contains("line 3, column 18"), "{text}");
}

#[test]
fn the_access_token_variable_is_not_a_configuration_key() {
    Config::load(None, env(&[(ACCESS_TOKEN_VAR, "EAAGxyz")])).expect("ignored");
}

#[test]
fn a_bad_value_from_the_environment_names_the_variable_and_the_key() {
    let err = Config::load(None, env(&[("RINGBACK_LOG_FORMAT", "xml")])).expect_err("bad");
    let text = err.to_string();
    assert!(text.contains("RINGBACK_LOG_FORMAT"), "{text}");
    assert!(text.contains("log.format"), "{text}");
    let cfg =
        Config::load(None, env(&[("RINGBACK_WHATSAPP_DISPATCH_THREADS", "0")])).expect("a number");
    let text = cfg.validate().expect_err("out of range").to_string();
    assert!(
        text.contains("RINGBACK_WHATSAPP_DISPATCH_THREADS"),
        "{text}"
    );
    assert!(text.contains("whatsapp.dispatch_threads"), "{text}");
}

#[test]
fn a_bad_value_from_a_flag_is_not_blamed_on_the_variable_it_overrode() {
    let mut cfg =
        Config::load(None, env(&[("RINGBACK_SERVER_LISTEN", "127.0.0.1:9")])).expect("valid");
    cfg.server.listen = "nowhere".into();
    cfg.set_by_flag("server.listen");
    let text = cfg.validate().expect_err("bad flag").to_string();
    assert!(!text.contains("RINGBACK_SERVER_LISTEN"), "{text}");
    assert!(text.contains("server.listen"), "{text}");
}

#[test]
fn a_telnyx_public_key_that_is_not_32_bytes_of_base64_is_named() {
    let mut cfg = Config::default();
    cfg.telnyx.public_key = "not a key".into();
    let err = cfg.validate().expect_err("bad key");
    assert!(err.to_string().contains("telnyx.public_key"), "{err}");
    cfg.telnyx.public_key = "AAAA".into();
    assert!(cfg.validate().is_err(), "3 bytes are no Ed25519 key");
}

#[test]
fn the_whatsapp_webhook_needs_both_its_secret_and_its_verify_token() {
    let mut cfg = Config::default();
    cfg.whatsapp.app_secret = "s3cret".into();
    let err = cfg.validate().expect_err("half a webhook");
    assert!(err.to_string().contains("whatsapp.verify_token"), "{err}");
    cfg.whatsapp.verify_token = "token".into();
    cfg.validate().expect("both set");
}

#[test]
fn a_debug_print_of_the_configuration_shows_no_webhook_secret() {
    let mut cfg = Config::default();
    cfg.whatsapp.app_secret = "s3cret-app".into();
    cfg.whatsapp.verify_token = "t0ken-verify".into();
    let printed = format!("{cfg:?}");
    assert!(!printed.contains("s3cret-app") && !printed.contains("t0ken-verify"));
    assert!(printed.contains("app_secret: \"***\""), "{printed}");
}

#[test]
fn tls_needs_both_a_certificate_and_a_key() {
    let mut cfg = Config::default();
    cfg.server.tls_cert = PathBuf::from("/etc/ringback/cert.pem");
    let err = cfg.validate().expect_err("half TLS");
    assert!(err.to_string().contains("server.tls_key"), "{err}");
}
