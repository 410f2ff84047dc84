//! SPEC §8 backup and restore: a consistent copy while reports are being written, and a checked
//! swap that refuses while a server holds the database.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, OpenFlags};
use serde_json::json;

use crate::helpers::*;
use crate::process::Server;

fn ringback(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ringback"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run ringback")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn read_only(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open")
}

fn call_ids(path: &Path) -> Vec<String> {
    let conn = read_only(path);
    let mut stmt = conn.prepare("SELECT id FROM calls").expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_reports_are_written_opens_passes_integrity_check_and_holds_every_acknowledged_call()
 {
    let app = spawn_app().await;
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (address, token) = (app.address.clone(), app.restaurant.token.clone());
        let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let body = json!({"caller_phone_number": format!("+336{:08}", 10_000_000 + n)});
                let (status, answer) = post_json(&address, &token, &body).await;
                if status == 201 {
                    let id = answer["data"]["id"].as_str().expect("id").to_string();
                    acknowledged.lock().expect("lock").push(id);
                }
            }
        })
    };
    eventually("some reports are acknowledged", || {
        acknowledged.lock().expect("lock").len() >= 20
    })
    .await;
    let before: Vec<String> = acknowledged.lock().expect("lock").clone();
    let copy = app.db_path.with_file_name("nightly.db");

    let db_path = app.db_path.clone();
    let copy_path = copy.clone();
    let out = tokio::task::spawn_blocking(move || {
        ringback(&db_path, &["backup", copy_path.to_str().expect("utf-8")])
    })
    .await
    .expect("join");
    stop.store(true, Ordering::SeqCst);
    load.await.expect("load");

    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stdout stays for ids");
    assert!(
        stderr(&out).contains("integrity check ok"),
        "{}",
        stderr(&out)
    );
    assert!(
        !copy.with_file_name("nightly.db-wal").exists(),
        "the copy stands alone"
    );
    let integrity: String = read_only(&copy)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(integrity, "ok");
    let in_copy = call_ids(&copy);
    for id in &before {
        assert!(
            in_copy.contains(id),
            "{id}, acknowledged before the backup, is missing"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the copy holds access tokens");
    }
}

#[tokio::test]
async fn a_backup_of_a_missing_database_exits_1_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("missing.db");

    let out = ringback(
        &db,
        &[
            "backup",
            dir.path().join("copy.db").to_str().expect("utf-8"),
        ],
    );

    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no ringback database at"),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists());
    assert!(!dir.path().join("copy.db").exists());
}

#[tokio::test]
async fn a_backup_into_a_missing_directory_exits_1_naming_the_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    ringback::db::open(&db).expect("db");
    let nowhere = dir.path().join("no-such-dir").join("copy.db");

    let out = ringback(&db, &["backup", nowhere.to_str().expect("utf-8")]);

    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        format!(
            "ringback: directory {} does not exist (backup file {})",
            dir.path().join("no-such-dir").display(),
            nowhere.display()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_while_a_server_runs_then_swaps_the_backup_in_and_keeps_the_old_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    let restaurant = {
        let conn = ringback::db::open(&db).expect("db");
        seed_restaurant(&conn, "Chez Restore", "FR", "Europe/Paris")
    };
    let whatsapp = FakeWhatsApp::start().await;
    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;
    let (status, first) = post_json(
        &server.address,
        &restaurant.token,
        &json!({"caller_phone_number": "+33612345678"}),
    )
    .await;
    assert_eq!(status, 201);
    let backup = dir.path().join("backup.db");
    let out = ringback(&db, &["backup", backup.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (status, _) = post_json(
        &server.address,
        &restaurant.token,
        &json!({"caller_phone_number": "+33698765432"}),
    )
    .await;
    assert_eq!(status, 201, "a call after the backup");

    let refused = ringback(&db, &["restore", backup.to_str().expect("utf-8")]);

    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("a ringback server is running"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(call_ids(&db).len(), 2, "nothing was replaced");
    assert_eq!(server.terminate().await, Some(0));

    let restored = ringback(&db, &["restore", backup.to_str().expect("utf-8")]);

    assert!(restored.status.success(), "{}", stderr(&restored));
    assert_eq!(
        call_ids(&db),
        vec![first["data"]["id"].as_str().expect("id").to_string()]
    );
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ringback.db.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(call_ids(&dir.path().join(&kept[0])).len(), 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let inode = |p: &Path| std::fs::metadata(p).expect("meta").ino();
        assert_ne!(
            inode(&dir.path().join(&kept[0])),
            inode(&db),
            "the kept database is a file of its own, sharing nothing with the restored one"
        );
    }
    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;
    let (status, _) = post_json(
        &server.address,
        &restaurant.token,
        &json!({"caller_phone_number": "+33698765432", "external_call_id": "after-restore"}),
    )
    .await;
    assert_eq!(status, 201, "the restored database serves");
    server.terminate().await;
}

#[tokio::test]
async fn restore_refuses_a_file_that_is_not_a_sound_ringback_database_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    {
        let conn = ringback::db::open(&db).expect("db");
        seed_restaurant(&conn, "Chez Sound", "FR", "Europe/Paris");
    }
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42u8; 64 * 1024]).expect("write");
    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign)
        .and_then(|c| c.execute_batch("CREATE TABLE t (x INTEGER);"))
        .expect("foreign");

    for file in [&garbage, &foreign] {
        let out = ringback(&db, &["restore", file.to_str().expect("utf-8")]);

        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("not a ringback database"),
            "{}",
            stderr(&out)
        );
    }
    let restaurants: i64 = read_only(&db)
        .query_row("SELECT count(*) FROM restaurants", [], |r| r.get(0))
        .expect("count");
    assert_eq!(restaurants, 1, "the database is untouched");
}

#[tokio::test]
async fn a_backup_written_over_the_database_or_its_companions_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    {
        let conn = ringback::db::open(&db).expect("db");
        seed_restaurant(&conn, "Chez Self", "FR", "Europe/Paris");
    }
    let same_file_other_spelling = dir.path().join(".").join("ringback.db");

    for target in [
        db.clone(),
        same_file_other_spelling,
        dir.path().join("ringback.db-wal"),
        dir.path().join("ringback.db.lock"),
    ] {
        let out = ringback(&db, &["backup", target.to_str().expect("utf-8")]);

        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("the database's own file"),
            "{}",
            stderr(&out)
        );
    }
    let restaurants: i64 = read_only(&db)
        .query_row("SELECT count(*) FROM restaurants", [], |r| r.get(0))
        .expect("count");
    assert_eq!(restaurants, 1);
}

/// A backup of a fresh database with one restaurant, and the restaurant's id.
fn backup_with_one_restaurant(dir: &Path) -> (std::path::PathBuf, String) {
    let source = dir.join("source.db");
    let id = {
        let conn = ringback::db::open(&source).expect("db");
        seed_restaurant(&conn, "From Backup", "FR", "Europe/Paris").id
    };
    let backup = dir.join("backup.db");
    let out = ringback(&source, &["backup", backup.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    (backup, id)
}

fn restaurant_ids(db: &Path) -> Vec<String> {
    let conn = read_only(db);
    let mut stmt = conn.prepare("SELECT id FROM restaurants").expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[tokio::test]
async fn restore_replaces_a_database_too_damaged_to_open_and_keeps_the_damaged_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (backup, id) = backup_with_one_restaurant(dir.path());
    let db = dir.path().join("ringback.db");
    std::fs::write(&db, vec![0x17u8; 32 * 1024]).expect("damage");

    let out = ringback(&db, &["restore", backup.to_str().expect("utf-8")]);
    let again = ringback(&db, &["restore", backup.to_str().expect("utf-8")]);

    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(restaurant_ids(&db), vec![id]);
    assert!(stderr(&out).contains("before-restore-"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "one line says what it did");
    assert!(
        again.status.success(),
        "a second restore at once keeps its own copy: {}",
        stderr(&again)
    );
}

#[tokio::test]
async fn a_stale_wal_beside_the_database_is_never_replayed_onto_the_restored_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (backup, id) = backup_with_one_restaurant(dir.path());
    // Another database's WAL, left where the restored file will land.
    let other = dir.path().join("other.db");
    let wal = {
        let conn = ringback::db::open(&other).expect("db");
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .expect("pragma");
        seed_restaurant(&conn, "Stale", "FR", "Europe/Paris");
        let wal = std::fs::read(dir.path().join("other.db-wal")).expect("wal");
        assert!(!wal.is_empty(), "the test needs a WAL with frames");
        wal
    };
    let db = dir.path().join("ringback.db");
    std::fs::write(dir.path().join("ringback.db-wal"), wal).expect("plant the WAL");

    let out = ringback(&db, &["restore", backup.to_str().expect("utf-8")]);

    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(restaurant_ids(&db), vec![id], "only the backup's data");
    let integrity: String = read_only(&db)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(integrity, "ok");
}

/// A database as a release before 1 KiB pages made it: 4 KiB pages, WAL, then the schema.
fn database_with_4_kib_pages(path: &Path) -> String {
    {
        let conn = Connection::open(path).expect("create");
        conn.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;")
            .expect("pages");
    }
    let conn = ringback::db::open(path).expect("migrate");
    seed_restaurant(&conn, "Older", "FR", "Europe/Paris").id
}

fn page_size(path: &Path) -> i64 {
    read_only(path)
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .expect("page size")
}

#[tokio::test]
async fn a_database_with_the_4_kib_pages_of_an_earlier_release_is_backed_up_and_restored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    let id = database_with_4_kib_pages(&db);
    assert_eq!(page_size(&db), 4096);
    let backup = dir.path().join("backup.db");

    let backed_up = ringback(&db, &["backup", backup.to_str().expect("utf-8")]);
    let restored = ringback(&db, &["restore", backup.to_str().expect("utf-8")]);

    assert!(backed_up.status.success(), "{}", stderr(&backed_up));
    // Checked before anything opens the copy: one private file, not in WAL mode (header bytes
    // 18 and 19 are 1 for a rollback journal, 2 for WAL), nothing beside it.
    let header = std::fs::read(&backup).expect("read the copy");
    assert_eq!(
        (header[18], header[19]),
        (1, 1),
        "the copy is no WAL database"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&backup)
        .expect("mode")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    for suffix in ["-wal", "-shm", "-journal"] {
        assert!(
            !dir.path().join(format!("backup.db{suffix}")).exists(),
            "{suffix}"
        );
    }
    assert_eq!(
        page_size(&backup),
        4096,
        "the copy keeps the pages it copied"
    );
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert_eq!(restaurant_ids(&db), vec![id]);
    let server = ringback::db::open(&db).expect("the server opens the restored database");
    let mode: String = server
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal");
}
