//! SPEC §6.2: the command line end to end: setup commands, output and exit-code rules.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

pub use crate::cli_harness::{Cli, restaurant};

#[test]
fn migrate_creates_the_database_at_the_current_schema() {
    let cli = Cli::empty();

    let out = cli.run(&["migrate"]);

    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "a change prints no id");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!(
        "version {}",
        ringback::db::latest_schema_version()
    )));
    assert!(Path::new(&cli.db).exists());
}

#[test]
fn restaurant_commands_add_update_connect_and_list() {
    let cli = Cli::new();
    let id = restaurant(&cli);
    assert!(id.starts_with("rst_"), "{id}");

    cli.ok(&[
        "restaurant",
        "update",
        &id,
        "--name",
        "Chez CLI 2",
        "--missed-calls",
        "on",
        "--balance",
        "500",
        "--message-cost",
        "5",
    ]);
    cli.ok(&[
        "restaurant",
        "whatsapp",
        &id,
        "--phone-number-id",
        "123",
        "--access-token",
        "EAAsecret",
    ]);
    let list = cli.json(&["restaurant", "list", "--json"]);

    assert_eq!(list.len(), 1);
    let r = &list[0];
    assert_eq!(r["id"], id.as_str());
    assert_eq!(r["name"], "Chez CLI 2");
    assert_eq!(r["country"], "FR");
    assert_eq!(r["timezone"], "Europe/Paris");
    assert_eq!(r["features"]["missed_calls"], true);
    assert_eq!(r["features"]["whatsapp"], true);
    assert_eq!(r["balance_cents"], 500);
    assert_eq!(r["message_cost_cents"], 5);
    assert!(
        !cli.ok(&["restaurant", "list", "--json"])
            .contains("EAAsecret")
    );

    cli.ok(&["restaurant", "whatsapp", &id, "--disable"]);
    cli.ok(&["restaurant", "update", &id, "--balance", "unlimited"]);
    let r = &cli.json(&["restaurant", "list", "--json"])[0];
    assert_eq!(r["features"]["whatsapp"], false);
    assert_eq!(r["balance_cents"], Value::Null);
}

#[test]
fn token_create_prints_only_the_token_and_list_never_shows_a_secret() {
    let cli = Cli::new();
    let rid = restaurant(&cli);

    let token = cli.new_id(&["token", "create", "--restaurant", &rid, "--name", "pbx"]);

    assert!(token.starts_with("rbk_") && token.len() >= 36, "{token}");
    let list = cli.json(&["token", "list", "--restaurant", &rid, "--json"]);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "pbx");
    assert!(!list[0].to_string().contains(&token[4..]));
    let id = list[0]["id"].as_str().expect("id").to_string();
    cli.ok(&["token", "revoke", &id]);
    let list = cli.json(&["token", "list", "--json"]);
    assert!(list[0]["revoked_at"].is_string());
}

#[test]
fn template_set_creates_or_replaces_and_list_shows_it() {
    let cli = Cli::new();
    let rid = restaurant(&cli);

    cli.ok(&[
        "template",
        "set",
        "--restaurant",
        &rid,
        "--type",
        "MISSED_CALL",
        "--name",
        "mc_v1",
        "--language",
        "fr",
        "--body-params",
        "customer_name,restaurant_name",
        "--button-param",
        "booking_token",
    ]);
    cli.ok(&[
        "template",
        "set",
        "--restaurant",
        &rid,
        "--type",
        "MISSED_CALL",
        "--name",
        "mc_v2",
        "--language",
        "en_US",
        "--status",
        "PENDING",
        "--active",
        "false",
        "--name-fallback",
        "friend",
    ]);
    let list = cli.json(&["template", "list", "--restaurant", &rid, "--json"]);

    assert_eq!(list.len(), 1);
    let t = &list[0];
    assert_eq!(t["type"], "MISSED_CALL");
    assert_eq!(t["name"], "mc_v2");
    assert_eq!(t["language"], "en_US");
    assert_eq!(t["status"], "PENDING");
    assert_eq!(t["active"], false);
    assert_eq!(t["name_fallback"], "friend");
}

#[test]
fn a_template_with_an_unknown_variable_is_a_usage_error() {
    let cli = Cli::new();
    let rid = restaurant(&cli);

    let out = cli.run(&[
        "template",
        "set",
        "--restaurant",
        &rid,
        "--type",
        "MISSED_CALL",
        "--name",
        "x",
        "--language",
        "fr",
        "--body-params",
        "party_size",
    ]);

    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("party_size"));
}

#[test]
fn usage_errors_exit_2_and_failures_exit_1_with_the_reason_on_stderr() {
    let cli = Cli::new();

    let unknown_flag = cli.run(&["restaurant", "add", "--nme", "x"]);
    let bad_country = cli.run(&[
        "restaurant",
        "add",
        "--name",
        "x",
        "--country",
        "XX",
        "--timezone",
        "Europe/Paris",
    ]);
    let bad_zone = cli.run(&[
        "restaurant",
        "add",
        "--name",
        "x",
        "--country",
        "FR",
        "--timezone",
        "Mars/Olympus",
    ]);
    let missing = cli.run(&["token", "create", "--restaurant", "rst_nope"]);

    assert_eq!(unknown_flag.status.code(), Some(2));
    assert_eq!(bad_country.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_country.stderr).contains("XX"));
    assert_eq!(bad_zone.status.code(), Some(2));
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("rst_nope"));
    assert!(missing.stdout.is_empty());
}

#[test]
fn an_unknown_configuration_key_stops_start_up_naming_it() {
    let cli = Cli::new();
    let config = cli.path("ringback.toml");
    std::fs::write(&config, "[whatsapp]\ntimeout = 5\n").expect("config");

    let out = cli.run(&["migrate"]);

    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timeout"));
}

#[test]
fn a_flag_wins_over_the_environment_which_wins_over_the_file() {
    let cli = Cli::new();
    std::fs::write(
        cli.path("ringback.toml"),
        "[database]\npath = \"from-file.db\"\n",
    )
    .expect("toml");

    let out = Command::new(env!("CARGO_BIN_EXE_ringback"))
        .arg("migrate")
        .current_dir(cli.dir.path())
        .env("RINGBACK_DATABASE_PATH", "from-env.db")
        .output()
        .expect("run");
    let flagged = Command::new(env!("CARGO_BIN_EXE_ringback"))
        .args(["--db", "from-flag.db", "migrate"])
        .current_dir(cli.dir.path())
        .env("RINGBACK_DATABASE_PATH", "from-env.db")
        .output()
        .expect("run");

    assert!(out.status.success() && flagged.status.success());
    assert!(cli.path("from-env.db").exists());
    assert!(cli.path("from-flag.db").exists());
    assert!(!cli.path("from-file.db").exists());
}
