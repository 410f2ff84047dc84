//! SPEC §6.2, "Rules every command keeps": only `migrate`, `serve` and `demo` create a
//! database; a read never migrates nor waits for the write lock.

use crate::cli_harness::{Cli, restaurant, ringback_in, stderr, stdout};

fn missing_message(path: &str) -> String {
    format!(
        "ringback: no ringback database at {path} (run \"ringback migrate\" to create one, or pass --db / --config)"
    )
}

#[test]
fn a_read_command_on_a_missing_database_exits_1_and_creates_nothing() {
    let cli = Cli::empty();
    let db = cli.db.to_str().expect("path");

    let in_the_wrong_directory = ringback_in(cli.dir.path(), &["calls", "list"], &[], None);
    let restaurants = cli.run(&["restaurant", "list"]);
    let a_write = cli.run(&[
        "restaurant",
        "add",
        "--name",
        "x",
        "--country",
        "FR",
        "--timezone",
        "Europe/Paris",
    ]);

    assert_eq!(in_the_wrong_directory.status.code(), Some(1));
    assert_eq!(
        stderr(&in_the_wrong_directory).trim(),
        missing_message("ringback.db")
    );
    assert!(in_the_wrong_directory.stdout.is_empty());
    for out in [&restaurants, &a_write] {
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stderr(out).trim(), missing_message(db));
    }
    let left: Vec<_> = std::fs::read_dir(cli.dir.path()).expect("dir").collect();
    assert!(left.is_empty(), "nothing was created: {left:?}");
}

#[test]
fn a_database_in_a_missing_directory_is_named_as_such() {
    let cli = Cli::empty();
    let db = cli.path("no/such/dir/ringback.db");

    let out = ringback_in(
        cli.dir.path(),
        &["--db", db.to_str().expect("path"), "token", "list"],
        &[],
        None,
    );

    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        format!(
            "ringback: directory {} does not exist (database path {})",
            cli.path("no/such/dir").display(),
            db.display()
        )
    );
    assert!(!cli.path("no").exists());
}

#[test]
fn an_empty_file_or_one_that_is_not_sqlite_is_refused_and_left_as_it_was() {
    let cli = Cli::empty();
    std::fs::write(&cli.db, "").expect("empty file");
    let junk = cli.path("notes.db");
    std::fs::write(&junk, "not a database\n").expect("junk file");

    let empty_read = cli.run(&["restaurant", "list"]);
    let empty_write = cli.run(&[
        "restaurant",
        "add",
        "--name",
        "x",
        "--country",
        "FR",
        "--timezone",
        "Europe/Paris",
    ]);
    let junk_read = ringback_in(
        cli.dir.path(),
        &["--db", "notes.db", "calls", "list"],
        &[],
        None,
    );

    for out in [&empty_read, &empty_write] {
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            stderr(out).trim(),
            missing_message(cli.db.to_str().expect("path"))
        );
    }
    assert_eq!(std::fs::metadata(&cli.db).expect("still there").len(), 0);
    assert_eq!(junk_read.status.code(), Some(1));
    assert_eq!(
        stderr(&junk_read).trim(),
        "ringback: notes.db is not a ringback database: it is not an SQLite database"
    );
    assert_eq!(
        std::fs::read_to_string(&junk).expect("junk"),
        "not a database\n"
    );
}

/// A database made by the migrations before the last one, as an older ringback left it.
fn database_one_version_behind(cli: &Cli) -> i64 {
    let known = ringback::db::latest_schema_version();
    let conn = cli.db();
    // Every migration but the latest, as the binary before this one left the database.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("sql dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files.pop();
    for file in files {
        let sql = std::fs::read_to_string(&file).expect("migration");
        conn.execute_batch(&sql).expect("old migration");
    }
    conn.pragma_update(None, "user_version", known - 1)
        .expect("version");
    known - 1
}

#[test]
fn a_read_command_on_an_older_schema_asks_for_migrate_and_changes_nothing() {
    let cli = Cli::empty();
    let old = database_one_version_behind(&cli);
    let version = || -> i64 {
        cli.db()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version")
    };

    let read = cli.run(&["calls", "list"]);
    let version_after_read = version();
    let write = cli.run(&[
        "restaurant",
        "add",
        "--name",
        "x",
        "--country",
        "FR",
        "--timezone",
        "Europe/Paris",
    ]);

    assert_eq!(read.status.code(), Some(1));
    assert!(
        stderr(&read).contains("run \"ringback migrate\""),
        "{}",
        stderr(&read)
    );
    assert_eq!(version_after_read, old, "a read never migrates");
    assert!(write.status.success(), "{}", stderr(&write));
    assert_eq!(
        version(),
        old + 1,
        "a write migrates first, as the server does"
    );
}

#[test]
fn a_read_command_answers_while_another_process_holds_the_write_lock() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    let mut holder = cli.db();
    let tx = holder
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("write lock");
    tx.execute("UPDATE restaurants SET name = 'held' WHERE id = ?1", [&rid])
        .expect("write");

    let list = cli.run(&["restaurant", "list"]);
    let remove_dry_run = cli.run(&["restaurant", "remove", &rid]);

    assert!(list.status.success(), "{}", stderr(&list));
    assert!(stdout(&list).contains("Chez CLI"), "reads the last commit");
    // A command that waited for the lock would fail once the busy timeout (5 s) ran out.
    assert!(stderr(&remove_dry_run).contains("--yes"));
    drop(tx);
}
