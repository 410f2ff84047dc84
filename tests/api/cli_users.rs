//! `ringback user …` (SPEC §9): console users, their passwords read from stdin and stored as
//! Argon2id hashes, and their sessions ended by a new password or a removal.

use crate::cli_harness::{Cli, restaurant, stderr, stdout};

const PASSWORD: &str = "service du soir 2026\n";

fn add(cli: &Cli, args: &[&str]) -> std::process::Output {
    let mut all = vec!["user", "add"];
    all.extend_from_slice(args);
    cli.run_with(&all, &[], Some(PASSWORD))
}

fn sessions(cli: &Cli) -> i64 {
    cli.db()
        .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
        .expect("count")
}

fn open_session(cli: &Cli, username: &str) {
    cli.db()
        .execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at)
             SELECT 'hash-' || id, id, 0, 0 FROM users WHERE username = ?1",
            [username],
        )
        .expect("session");
}

#[test]
fn user_add_reads_the_password_from_stdin_stores_an_argon2id_hash_and_prints_only_the_id() {
    let cli = Cli::new();
    let rid = restaurant(&cli);

    let out = add(&cli, &["--username", "marie", "--restaurant", &rid]);

    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out);
    assert_eq!(id.lines().count(), 1);
    assert!(id.starts_with("usr_"), "{id}");
    assert!(
        stderr(&out).contains("user marie added"),
        "{}",
        stderr(&out)
    );
    let (hash, scope): (String, Option<String>) = cli
        .db()
        .query_row("SELECT password_hash, restaurant_id FROM users", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("user");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains("service du soir"));
    assert_eq!(scope, Some(rid));
    assert!(ringback::console::password::verify_password(
        PASSWORD.trim_end(),
        Some(&hash)
    ));
}

#[test]
fn user_add_refuses_a_short_password_a_taken_name_an_unknown_restaurant_and_no_scope() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    assert!(
        add(&cli, &["--username", "marie", "--all"])
            .status
            .success()
    );

    let short = cli.run_with(
        &["user", "add", "--username", "paul", "--all"],
        &[],
        Some("short\n"),
    );
    let taken = add(&cli, &["--username", "MARIE", "--restaurant", &rid]);
    let unknown = add(&cli, &["--username", "lou", "--restaurant", "rst_nope"]);
    let no_scope = add(&cli, &["--username", "lou"]);

    assert_eq!(short.status.code(), Some(2), "{}", stderr(&short));
    assert!(stderr(&short).contains("at least 10 characters"));
    assert_eq!(taken.status.code(), Some(1));
    assert!(stderr(&taken).contains("already exists"));
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(no_scope.status.code(), Some(2));
    let users: i64 = cli
        .db()
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .expect("count");
    assert_eq!(users, 1);
}

#[test]
fn user_list_shows_who_sees_what_and_never_a_password() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    add(&cli, &["--username", "marie", "--restaurant", &rid]);
    add(&cli, &["--username", "owner", "--all"]);

    let listed = cli.json(&["user", "list", "--json"]);
    let table = cli.ok(&["user", "list"]);

    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["username"], "marie");
    assert_eq!(listed[0]["restaurant_id"], serde_json::json!(rid));
    assert_eq!(listed[1]["all_restaurants"], true);
    let text = format!("{listed:?}{table}");
    assert!(!text.contains("argon2") && !text.contains("service du soir"));
    assert!(table.starts_with("ID\tUSERNAME\tRESTAURANT"));
}

#[test]
fn a_new_password_or_a_removal_ends_the_users_open_sessions() {
    let cli = Cli::new();
    add(&cli, &["--username", "marie", "--all"]);
    add(&cli, &["--username", "paul", "--all"]);
    open_session(&cli, "marie");
    open_session(&cli, "paul");

    let passwd = cli.run_with(
        &["user", "passwd", "marie"],
        &[],
        Some("another long password\n"),
    );

    assert!(passwd.status.success(), "{}", stderr(&passwd));
    assert_eq!(sessions(&cli), 1, "paul's session is left alone");
    let removed = cli.run(&["user", "remove", "paul"]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(sessions(&cli), 0);
    let again = cli.run(&["user", "remove", "paul"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("no user named paul"));
}

#[test]
fn removing_a_restaurant_removes_its_console_users_and_their_sessions() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    add(&cli, &["--username", "marie", "--restaurant", &rid]);
    add(&cli, &["--username", "owner", "--all"]);
    open_session(&cli, "marie");

    let out = cli.run(&["restaurant", "remove", &rid, "--yes"]);

    assert!(out.status.success(), "{}", stderr(&out));
    let left: Vec<String> = cli
        .json(&["user", "list", "--json"])
        .iter()
        .map(|u| u["username"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(left, ["owner"]);
    assert_eq!(sessions(&cli), 0);
}
