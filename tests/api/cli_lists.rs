//! SPEC §6.2's rules for lists: every list prints a header row, counts agree with their noun, a
//! list cut by `--limit` says on stderr how many more there are and how to see them, and
//! `token list` shows when each token was last used.

use crate::cli_harness::{Cli, restaurant, stderr, stdout};
use crate::helpers::*;

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Inserts `n` ledger rows a minute apart, the newest first in time order of their number.
fn calls(cli: &Cli, rid: &str, n: usize) {
    let conn = cli.db();
    for i in 0..n {
        let at = 1_900_000_000_000_i64 + i as i64 * 60_000;
        conn.execute(
            "INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, template_type,
                                occurred_at, created_at, updated_at, outcome)
             VALUES (?1, ?2, '06 12 34 56 78', '+33612345678', 'MISSED_CALL', ?3, ?3, ?3, 'SENT')",
            rusqlite::params![format!("call_{i:03}"), rid, at],
        )
        .expect("call");
    }
}

#[test]
fn every_list_prints_a_header_row_and_a_count_that_agrees_with_its_noun() {
    // Arrange: one of everything.
    let cli = Cli::new();
    let rid = restaurant(&cli);
    cli.new_id(&["token", "create", "--restaurant", &rid, "--name", "pbx"]);
    cli.new_id(&[
        "customer",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "0612345678",
    ]);
    let start = "2030-07-01T20:00";
    let args = [
        "reservation",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "0612345678",
        "--start",
        start,
        "--party-size",
        "2",
    ];
    cli.new_id(&args);
    cli.ok(&[
        "template",
        "set",
        "--restaurant",
        &rid,
        "--type",
        "MISSED_CALL",
        "--name",
        "mc",
        "--language",
        "fr",
    ]);
    let password = Some("service du soir 2026\n");
    let added = cli.run_with(
        &["user", "add", "--username", "marie", "--all"],
        &[],
        password,
    );
    assert!(added.status.success(), "{}", stderr(&added));
    calls(&cli, &rid, 1);
    let lists: [(&[&str], &str, &str); 7] = [
        (&["restaurant", "list"], "ID", "1 restaurant"),
        (&["token", "list"], "ID", "1 token"),
        (
            &["customer", "list", "--restaurant", &rid],
            "ID",
            "1 customer",
        ),
        (
            &["reservation", "list", "--restaurant", &rid],
            "ID",
            "1 reservation",
        ),
        (
            &["template", "list", "--restaurant", &rid],
            "TYPE",
            "1 template",
        ),
        (&["user", "list"], "ID", "1 user"),
        (&["calls", "list"], "ID", "1 call"),
    ];
    for (args, first_column, count) in lists {
        // Act
        let out = cli.run(args);
        // Assert: a header, one row, and the count on stderr.
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let printed = stdout(&out);
        assert!(
            first_line(&printed).starts_with(first_column),
            "{args:?}: {printed}"
        );
        assert_eq!(printed.lines().count(), 2, "{args:?}: {printed}");
        assert_eq!(stderr(&out).trim(), count, "{args:?}");
    }
    calls(&cli, &rid, 0);
    cli.new_id(&["token", "create", "--restaurant", &rid]);
    assert_eq!(stderr(&cli.run(&["token", "list"])).trim(), "2 tokens");
}

#[test]
fn a_calls_list_cut_by_its_limit_says_how_many_more_there_are_and_how_to_see_them() {
    // Arrange
    let cli = Cli::new();
    let rid = restaurant(&cli);
    calls(&cli, &rid, 60);

    // Act
    let default = cli.run(&["calls", "list"]);
    let cut = cli.run(&["calls", "list", "--restaurant", &rid, "--limit", "7"]);
    let whole = cli.run(&["calls", "list", "--limit", "60"]);
    let json = cli.run(&["calls", "list", "--limit", "7", "--json"]);

    // Assert: 50 by default; what is left said on stderr, stdout untouched.
    assert_eq!(stdout(&default).lines().count(), 1 + 50);
    let said = stderr(&default);
    assert!(
        said.contains("the 50 newest of 60 calls shown; 10 more"),
        "{said}"
    );
    assert!(said.contains("--limit 60"), "{said}");
    assert_eq!(stdout(&cut).lines().count(), 1 + 7);
    assert!(
        stdout(&cut)
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("call_059"))
    );
    assert!(stderr(&cut).contains("53 more"), "{}", stderr(&cut));
    assert_eq!(stderr(&whole).trim(), "60 calls");
    let listed: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(7));
    assert!(stderr(&json).contains("53 more"), "{}", stderr(&json));
}

#[test]
fn a_list_of_every_restaurant_s_calls_cut_by_its_limit_says_so_though_no_restaurant_alone_is_cut() {
    // Arrange: two restaurants of 30 calls each.
    let cli = Cli::new();
    let first = restaurant(&cli);
    let second = restaurant(&cli);
    calls(&cli, &first, 30);
    let conn = cli.db();
    for i in 0..30 {
        conn.execute(
            "INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, template_type,
                                occurred_at, created_at, updated_at, outcome)
             VALUES (?1, ?2, '06 12 34 56 78', '+33612345678', 'MISSED_CALL', ?3, ?3, ?3, 'SENT')",
            rusqlite::params![
                format!("call_second_{i:03}"),
                second,
                1_900_000_030_000_i64 + i
            ],
        )
        .expect("call");
    }

    // Act
    let out = cli.run(&["calls", "list"]);

    // Assert
    assert_eq!(stdout(&out).lines().count(), 1 + 50);
    let said = stderr(&out);
    assert!(
        said.contains("the 50 newest of 60 calls shown; 10 more"),
        "{said}"
    );
}

#[test]
fn the_limit_s_default_is_shown_in_help() {
    let cli = Cli::new();
    let help = cli.ok(&["calls", "list", "--help"]);
    assert!(help.contains("[default: 50]"), "{help}");
}

#[tokio::test]
async fn token_list_shows_each_token_s_last_use_written_off_the_request_path_and_kept_at_shutdown()
{
    // Arrange
    let mut app = spawn_app().await;
    let last_used = |app: &TestApp| -> Option<i64> {
        app.db()
            .query_row(
                "SELECT last_used_at FROM partner_tokens WHERE restaurant_id = ?1",
                [&app.restaurant.id],
                |r| r.get(0),
            )
            .expect("token")
    };
    let before = ringback::time::now_ms();

    // Act: the PBX reports calls; the server stops as systemctl stops it.
    for n in 0..3 {
        let caller = format!("+3361234560{n}");
        let (status, _) = app
            .report_json(serde_json::json!({"caller_phone_number": caller}))
            .await;
        assert_eq!(status, 201);
    }
    // Not written by the requests themselves: a minute's uses are one write.
    assert_eq!(last_used(&app), None);
    app.stop().await.expect("a clean stop");
    let dir = app.db_path.parent().expect("dir").to_path_buf();
    let db = app.db_path.to_str().expect("path").to_string();
    let out = crate::cli_harness::ringback_in(&dir, &["--db", &db, "token", "list"], &[], None);
    let json =
        crate::cli_harness::ringback_in(&dir, &["--db", &db, "token", "list", "--json"], &[], None);

    // Assert: the last of the three uses, in the listing and its JSON.
    let used = last_used(&app).expect("written at shutdown");
    assert!(used >= before && used <= ringback::time::now_ms());
    let printed = stdout(&out);
    assert!(first_line(&printed).contains("LAST_USED_AT"), "{printed}");
    let shown = ringback::time::format_utc(used);
    assert!(printed.contains(&shown), "{printed}");
    let listed: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(listed[0]["last_used_at"], shown);
}

#[test]
fn user_update_sets_the_console_language_and_user_list_shows_it() {
    // Arrange
    let cli = Cli::new();
    let password = Some("service du soir 2026\n");
    let args = [
        "user",
        "add",
        "--username",
        "marie",
        "--all",
        "--lang",
        "fr",
    ];
    assert!(cli.run_with(&args, &[], password).status.success());
    let stored = |cli: &Cli| -> Option<String> {
        cli.db()
            .query_row("SELECT lang FROM users WHERE username = 'marie'", [], |r| {
                r.get(0)
            })
            .expect("user")
    };
    assert_eq!(stored(&cli).as_deref(), Some("fr"));

    // Act
    let english = cli.run(&["user", "update", "marie", "--lang", "en"]);
    let listed = cli.ok(&["user", "list"]);
    let auto = cli.run(&["user", "update", "marie", "--lang", "auto"]);
    let unknown = cli.run(&["user", "update", "marie", "--lang", "de"]);
    let nobody = cli.run(&["user", "update", "paul", "--lang", "fr"]);

    // Assert
    assert!(english.status.success(), "{}", stderr(&english));
    assert!(stderr(&english).contains("marie"), "{}", stderr(&english));
    assert!(
        listed
            .lines()
            .nth(1)
            .is_some_and(|l| l.trim_end().ends_with("en")),
        "{listed}"
    );
    assert!(auto.status.success());
    assert_eq!(stored(&cli), None);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(nobody.status.code(), Some(1));
}
