//! SPEC §6.2: every command end to end, with its output and exit-code rules.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Cli {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Cli {
    fn new() -> Cli {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("cli.db");
        Cli { dir, db }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ringback"))
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .output()
            .expect("run ringback")
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that prints one new id; checks it is the only line.
    fn new_id(&self, args: &[&str]) -> String {
        let stdout = self.ok(args);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?} printed {stdout:?}");
        lines[0].to_string()
    }

    fn json(&self, args: &[&str]) -> Vec<Value> {
        let stdout = self.ok(args);
        serde_json::from_str::<Value>(&stdout)
            .expect("one JSON array")
            .as_array()
            .expect("array")
            .clone()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn restaurant(cli: &Cli) -> String {
    cli.new_id(&[
        "restaurant",
        "add",
        "--name",
        "Chez CLI",
        "--country",
        "fr",
        "--timezone",
        "Europe/Paris",
        "--booking-url",
        "https://book.example.com/cli",
    ])
}

#[test]
fn migrate_creates_the_database_at_the_current_schema() {
    let cli = Cli::new();

    let stdout = cli.ok(&["migrate"]);

    assert!(stdout.contains(&format!(
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
fn customer_commands_add_import_suppress_and_list() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    let id = cli.new_id(&[
        "customer",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "06 12 34 56 78",
    ]);
    let same = cli.new_id(&[
        "customer",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "+33612345678",
        "--name",
        "Camille",
    ]);
    assert_eq!(id, same, "adding an existing number updates it");
    let csv = cli.path("customers.csv");
    std::fs::write(
        &csv,
        "phone,name,notes\n0698765432,Lou,vip\nnot-a-phone,Bad,\n+33612345678,Camille M,\n",
    )
    .expect("csv");

    let out = cli.run(&[
        "customer",
        "import",
        "--restaurant",
        &rid,
        csv.to_str().expect("path"),
    ]);

    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "added 1, updated 1, rejected 1"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"));
    cli.ok(&[
        "customer",
        "suppress",
        "--restaurant",
        &rid,
        "--phone",
        "0698765432",
    ]);
    let list = cli.json(&["customer", "list", "--restaurant", &rid, "--json"]);
    assert_eq!(list.len(), 2);
    let lou = list
        .iter()
        .find(|c| c["phone_number"] == "+33698765432")
        .expect("Lou");
    assert_eq!(lou["name"], "Lou");
    assert_eq!(lou["whatsapp_suppressed"], true);
    let camille = list
        .iter()
        .find(|c| c["id"] == id.as_str())
        .expect("Camille");
    assert_eq!(camille["name"], "Camille M");
    cli.ok(&[
        "customer",
        "unsuppress",
        "--restaurant",
        &rid,
        "--phone",
        "+33698765432",
    ]);
    let list = cli.json(&["customer", "list", "--restaurant", &rid, "--json"]);
    assert!(list.iter().all(|c| c["whatsapp_suppressed"] == false));
}

#[test]
fn reservation_commands_add_update_and_list_in_restaurant_time() {
    let cli = Cli::new();
    let rid = restaurant(&cli);

    let id = cli.new_id(&[
        "reservation",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "0612345678",
        "--start",
        "2099-07-14T20:30",
        "--party-size",
        "4",
        "--name",
        "Camille",
        "--external-id",
        "bk-1",
    ]);
    cli.ok(&["reservation", "update", &id, "--status", "CANCELED"]);
    let list = cli.json(&["reservation", "list", "--restaurant", &rid, "--json"]);

    assert_eq!(list.len(), 1);
    let r = &list[0];
    assert_eq!(r["id"], id.as_str());
    assert_eq!(r["start_at"], "2099-07-14T20:30:00+02:00");
    assert_eq!(r["party_size"], 4);
    assert_eq!(r["status"], "CANCELED");
    assert_eq!(r["external_id"], "bk-1");
    assert_eq!(r["customer"]["phone_number"], "+33612345678");
    assert_eq!(r["customer"]["name"], "Camille");
    let again = cli.run(&[
        "reservation",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "0612345678",
        "--start",
        "2099-07-15T20:30",
        "--party-size",
        "2",
        "--external-id",
        "bk-1",
    ]);
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn calls_list_shows_the_ledger_with_api_field_names() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    let conn = ringback::db::open(&cli.db).expect("db");
    conn.execute(
        "INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, occurred_at, created_at,
                            updated_at, outcome)
         VALUES ('call_1', ?1, '+33612345678', '+33612345678', 0, 0, 0, 'SKIPPED_STALE')",
        [&rid],
    )
    .expect("row");

    let list = cli.json(&[
        "calls",
        "list",
        "--restaurant",
        &rid,
        "--limit",
        "10",
        "--json",
    ]);

    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], "call_1");
    assert_eq!(list[0]["outcome"], "SKIPPED_STALE");
    assert_eq!(list[0]["caller_phone_number"], "+33612345678");
    assert_eq!(list[0]["occurred_at"], "1970-01-01T00:00:00.000Z");
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
fn the_demo_seeds_a_restaurant_and_prints_the_token_and_two_curl_commands() {
    let cli = Cli::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringback"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .current_dir(cli.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut printed = String::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
        printed.push_str(&line);
        printed.push('\n');
        if printed.matches("curl ").count() == 2 && line.contains("-d '") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();

    assert!(cli.path("ringback-demo.db").exists());
    let token_line = printed
        .lines()
        .find(|l| l.starts_with("Partner token: "))
        .expect("token line");
    assert!(token_line["Partner token: ".len()..].starts_with("rbk_"));
    assert_eq!(
        printed.matches("curl -s -X POST http://127.0.0.1:").count(),
        2
    );
}
