//! SPEC §8.2: access tokens sealed under a key file. No copy of the database holds a token in
//! plaintext; the key file is created private, may come from systemd, can be missing or wrong
//! without stopping the box, and can be rotated while the server runs.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::cli_harness::{ringback_in, stderr, stdout};
use crate::helpers::*;
use crate::process::Server;

/// Every file's raw bytes, to look for a secret in.
fn raw(paths: &[PathBuf]) -> Vec<u8> {
    paths
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .flatten()
        .collect()
}

fn holds(bytes: &[u8], secret: &str) -> bool {
    bytes.windows(secret.len()).any(|w| w == secret.as_bytes())
}

/// The database and its `-wal`.
fn database_files(db: &Path) -> Vec<PathBuf> {
    vec![db.to_path_buf(), ringback::db::companion(db, "-wal")]
}

fn key_beside(db: &Path) -> PathBuf {
    db.with_file_name("ringback.key")
}

async fn report(server: &Server, token: &str, number: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/partner/v1/missed-calls", server.address))
        .bearer_auth(token)
        .json(&json!({"caller_phone_number": number}))
        .send()
        .await
        .expect("report");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn neither_the_database_its_wal_nor_a_backup_copy_holds_the_access_token_in_plaintext() {
    let app = spawn_app().await;
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SENT"))
    );
    // The send itself carried the token: it was opened for it.
    let sent = app.whatsapp.requests();
    assert_eq!(
        sent[0].authorization.as_deref(),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    let copy = app.db_path.with_file_name("copy.db");
    let out = ringback_in(
        app.db_path.parent().expect("dir"),
        &[
            "--db",
            app.db_path.to_str().expect("utf-8"),
            "backup",
            copy.to_str().expect("utf-8"),
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let mut files = database_files(&app.db_path);
    files.push(copy.clone());
    let bytes = raw(&files);

    assert!(bytes.len() > 100_000, "the files were read");
    assert!(!holds(&bytes, ACCESS_TOKEN));
    // Not even a recognisable part of it.
    assert!(!holds(&bytes, &ACCESS_TOKEN[..12]));
}

#[tokio::test]
async fn an_access_token_set_again_leaves_no_trace_of_the_old_one() {
    let app = spawn_app().await;
    let old = "EAAGoldtokenthatleaves0123456789";
    let db = app.db();
    let vault = vault_of(&db);
    ringback::cli::restaurants::set_whatsapp(
        &db,
        &app.restaurant.id,
        Some((PHONE_NUMBER_ID, old)),
        &vault,
    )
    .expect("set");
    ringback::cli::restaurants::set_whatsapp(
        &db,
        &app.restaurant.id,
        Some((PHONE_NUMBER_ID, ACCESS_TOKEN)),
        &vault,
    )
    .expect("set again");
    drop(db);

    let bytes = raw(&database_files(&app.db_path));

    assert!(!holds(&bytes, old));
    assert!(!holds(&bytes, ACCESS_TOKEN));
}

#[test]
fn migrate_creates_a_missing_key_file_of_32_random_bytes_readable_by_its_owner_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("ringback.db");

    let out = ringback_in(
        dir.path(),
        &["--db", db.to_str().expect("utf-8"), "migrate"],
        &[],
        None,
    );

    assert!(out.status.success(), "{}", stderr(&out));
    let key = key_beside(&db);
    let meta = std::fs::metadata(&key).expect("the key file was created");
    assert_eq!(meta.len(), 32);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(
        stderr(&out).contains(&format!("key file {} created", key.display())),
        "{}",
        stderr(&out)
    );
    let first = std::fs::read(&key).expect("key");
    // Run again, it keeps the key it has.
    let out = ringback_in(
        dir.path(),
        &["--db", db.to_str().expect("utf-8"), "migrate"],
        &[],
        None,
    );
    assert!(out.status.success());
    assert_eq!(std::fs::read(&key).expect("key"), first);
    // Another box's key is another key.
    let other = tempfile::tempdir().expect("dir");
    let other_db = other.path().join("ringback.db");
    ringback_in(
        other.path(),
        &["--db", other_db.to_str().expect("utf-8"), "migrate"],
        &[],
        None,
    );
    assert_ne!(std::fs::read(key_beside(&other_db)).expect("key"), first);
}

#[tokio::test]
async fn serve_creates_a_missing_key_file_and_says_so_in_its_log() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("ringback.db");
    let whatsapp = FakeWhatsApp::start().await;

    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;

    let key = key_beside(&db);
    let meta = std::fs::metadata(&key).expect("the key file was created");
    assert_eq!(meta.len(), 32);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let log = server.log();
    assert!(log.contains("created the key file"), "{log}");
    assert!(
        log.contains(&format!("key_file={}", key.display())),
        "{log}"
    );
}

#[tokio::test]
async fn plaintext_tokens_of_the_previous_release_are_sealed_at_the_first_start_and_still_send() {
    // tests/fixtures/previous-release.db was written by the release before tokens were sealed
    // (schema 8): `migrate`, `restaurant add`, `restaurant update --missed-calls on`,
    // `restaurant whatsapp` with the token below, `template set`, `token create`.
    const TOKEN: &str = "EAAG-previous-release-access-token-7Qx2";
    const PARTNER_TOKEN: &str = "rbk_MzYsvkvivrERoLySEIf8CHlUONdxNJXMQoUQFRGM";
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("ringback.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/previous-release.db"),
        &db,
    )
    .expect("copy the fixture");
    assert!(
        holds(&raw(std::slice::from_ref(&db)), TOKEN),
        "the fixture holds it"
    );
    let whatsapp = FakeWhatsApp::start().await;

    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;

    let log = server.log();
    assert!(
        log.contains("access tokens stored in plaintext by an earlier release are now sealed"),
        "{log}"
    );
    assert!(!holds(&raw(&database_files(&db)), TOKEN));
    let (status, body) = report(&server, PARTNER_TOKEN, "+33612345678").await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SENT")),
        "{body}"
    );
    assert_eq!(
        whatsapp.requests()[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    // A second start finds nothing left to seal.
    drop(server);
    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;
    assert!(!server.log().contains("now sealed"), "{}", server.log());
    assert!(!holds(&raw(&database_files(&db)), TOKEN));
}

/// `ringback serve` on `db` with one more variable of its environment.
async fn serve_with(
    dir: &Path,
    db: &Path,
    whatsapp: &FakeWhatsApp,
    var: &str,
    value: &str,
) -> Server {
    Server::start_with(dir, db, &whatsapp.base_url, &[(var, value)], None).await
}

/// A seeded database for a server process, with the key `seed_restaurant` made beside it.
fn seeded(dir: &Path) -> (PathBuf, Seeded) {
    let db = dir.join("ringback.db");
    let conn = ringback::db::open(&db).expect("db");
    let seeded = seed_restaurant(&conn, "Chez Clef", "FR", "Europe/Paris");
    (db, seeded)
}

#[tokio::test]
async fn with_the_wrong_key_file_the_box_serves_and_its_restaurants_are_skipped_naming_the_key_file()
 {
    let dir = tempfile::tempdir().expect("dir");
    let (db, restaurant) = seeded(dir.path());
    // A restored database whose key file was not restored: serve makes a new key, which is not
    // the one the token was sealed with.
    std::fs::remove_file(key_beside(&db)).expect("remove the key");
    let whatsapp = FakeWhatsApp::start().await;

    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;

    let key = key_beside(&db);
    let log = server.log();
    assert!(
        log.contains("WhatsApp access tokens cannot be decrypted"),
        "{log}"
    );
    assert!(
        log.contains(&format!("{} (Chez Clef)", restaurant.id)),
        "the restaurant is named: {log}"
    );
    assert!(log.contains(&key.display().to_string()), "{log}");
    let (status, body) = report(&server, &restaurant.token, "+33612345678").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["outcome"], "SKIPPED_NO_WHATSAPP");
    assert_eq!(
        body["data"]["error"],
        Value::Null,
        "no WhatsApp error: {body}"
    );
    assert!(whatsapp.requests().is_empty());
    let me: Value = reqwest::Client::new()
        .get(format!("{}/api/partner/v1/me", server.address))
        .bearer_auth(&restaurant.token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["data"]["features"]["whatsapp"], false);
    // The ledger says why, for `calls list` and the console.
    let out = ringback_in(
        dir.path(),
        &[
            "--db",
            db.to_str().expect("utf-8"),
            "calls",
            "show",
            body["data"]["id"].as_str().expect("id"),
        ],
        &[],
        None,
    );
    let shown = stdout(&out);
    assert!(
        shown.contains(&format!(
            "the WhatsApp access token cannot be decrypted: the key file {} is not the key",
            key.display()
        )),
        "{shown}"
    );
    let out = ringback_in(
        dir.path(),
        &[
            "--db",
            db.to_str().expect("utf-8"),
            "whatsapp",
            "check",
            "--restaurant",
            &restaurant.id,
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("the key file {}", key.display())),
        "{}",
        stderr(&out)
    );
    assert!(whatsapp.requests().is_empty(), "nothing asked of Meta");
}

#[tokio::test]
async fn with_the_key_file_missing_and_impossible_to_create_the_box_serves_and_says_which_file() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, restaurant) = seeded(dir.path());
    let missing = dir.path().join("no-such-directory/ringback.key");
    let missing_text = missing.display().to_string();
    let whatsapp = FakeWhatsApp::start().await;

    let server = serve_with(
        dir.path(),
        &db,
        &whatsapp,
        "RINGBACK_DATABASE_KEY_FILE",
        &missing_text,
    )
    .await;

    let log = server.log();
    assert!(log.contains("cannot create the key file"), "{log}");
    assert!(
        log.contains(&format!("the key file {missing_text} is missing")),
        "{log}"
    );
    assert!(log.contains(&restaurant.id), "{log}");
    let (status, body) = report(&server, &restaurant.token, "+33612345678").await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SKIPPED_NO_WHATSAPP"))
    );
    let (_, call) = {
        let response = reqwest::Client::new()
            .get(format!(
                "{}/api/partner/v1/missed-calls/{}",
                server.address,
                body["data"]["id"].as_str().expect("id")
            ))
            .bearer_auth(&restaurant.token)
            .send()
            .await
            .expect("get");
        (
            response.status(),
            response.json::<Value>().await.expect("json"),
        )
    };
    assert_eq!(call["data"]["outcome"], "SKIPPED_NO_WHATSAPP");
}

#[test]
fn a_key_systemd_loads_as_a_credential_is_the_key_when_no_key_file_is_set() {
    let dir = tempfile::tempdir().expect("dir");
    let credentials = tempfile::tempdir().expect("credentials");
    std::fs::write(credentials.path().join("ringback.key"), [7u8; 32]).expect("credential");
    let db = dir.path().join("ringback.db");
    let db_arg = db.to_str().expect("utf-8");
    let env = [(
        "CREDENTIALS_DIRECTORY",
        credentials.path().to_str().expect("utf-8"),
    )];
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--db", db_arg];
        all.extend_from_slice(args);
        ringback_in(dir.path(), &all, &env, stdin)
    };

    assert!(run(&["migrate"], None).status.success());
    let rid = stdout(&run(
        &[
            "restaurant",
            "add",
            "--name",
            "Chez Systemd",
            "--country",
            "FR",
            "--timezone",
            "Europe/Paris",
        ],
        None,
    ))
    .trim()
    .to_string();
    let out = run(
        &[
            "restaurant",
            "whatsapp",
            &rid,
            "--phone-number-id",
            "106540352242922",
            "--access-token",
            "-",
        ],
        Some("EAAGcredential123\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    assert!(
        !key_beside(&db).exists(),
        "no key file was made beside the database"
    );
    let sealed: Vec<u8> = rusqlite::Connection::open(&db)
        .expect("db")
        .query_row(
            "SELECT wa_access_token_sealed FROM restaurants WHERE id = ?1",
            [&rid],
            |r| r.get(0),
        )
        .expect("sealed");
    let vault = ringback::vault::Vault::load(&credentials.path().join("ringback.key"));
    let opened = vault
        .open(&rid, &ringback::vault::Sealed(sealed))
        .expect("sealed with the credential");
    assert_eq!(opened.expose(), "EAAGcredential123");
}

/// `ringback key rotate` on the app's database, as the operator runs it beside the server.
fn key_rotate(app: &TestApp) -> std::process::Output {
    let db = app.db_path.to_str().expect("utf-8");
    ringback_in(
        app.db_path.parent().expect("dir"),
        &["--db", db, "key", "rotate"],
        &[],
        None,
    )
}

#[tokio::test]
async fn key_rotate_reseals_every_token_keeps_the_old_key_and_a_running_server_sends_with_the_new_one()
 {
    let app = spawn_app().await;
    let dir = app.db_path.parent().expect("dir").to_path_buf();
    let key = key_beside(&app.db_path);
    let old_key = std::fs::read(&key).expect("key");
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    assert_eq!(status, 201);

    let out = key_rotate(&app);

    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("key rotated: 1 access token sealed"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    let new_key = std::fs::read(&key).expect("key");
    assert_eq!(new_key.len(), 32);
    assert_ne!(new_key, old_key);
    let kept = dir.join("ringback.key.old");
    assert_eq!(std::fs::read(&kept).expect("old key kept"), old_key);
    assert_eq!(
        std::fs::metadata(&kept).expect("meta").permissions().mode() & 0o777,
        0o600
    );
    assert!(!dir.join("ringback.key.new").exists());
    // The token opens with the new key alone.
    std::fs::remove_file(&kept).expect("drop the old key");
    // The running server, started with the old key, sends with the new one.
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33698765432"}))
        .await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SENT")),
        "{body}"
    );
    let last = app.whatsapp.requests().pop().expect("a send");
    assert_eq!(
        last.authorization.as_deref(),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
}

#[tokio::test]
async fn key_rotate_refuses_while_a_token_does_not_open_and_changes_nothing() {
    let app = spawn_app().await;
    let dir = app.db_path.parent().expect("dir").to_path_buf();
    let key = key_beside(&app.db_path);
    // The key file replaced by another key: the token no longer opens.
    std::fs::remove_file(&key).expect("remove");
    ringback::vault::Vault::create_if_missing(&key).expect("another key");
    let other = std::fs::read(&key).expect("key");

    let out = key_rotate(&app);

    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the key was not rotated"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(&app.restaurant.id),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&key).expect("key"), other);
    assert!(!dir.join("ringback.key.old").exists());
    assert!(!dir.join("ringback.key.new").exists());
}

#[tokio::test]
async fn the_console_says_why_a_restaurant_whose_token_does_not_open_sent_nothing() {
    let elsewhere = tempfile::tempdir().expect("dir");
    let other_key = elsewhere.path().join("other.key");
    let configured = other_key.clone();
    // The database's token was sealed beside it; the server is pointed at another key.
    let app = spawn_app_with(move |c| c.database.key_file = configured).await;
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SKIPPED_NO_WHATSAPP"))
    );
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;

    let (status, page) = app.console_get(&cookie, "/console/api/calls").await;

    assert_eq!(status, 200);
    let row = &page["data"][0];
    assert_eq!(row["status_label"], "No WhatsApp");
    assert_eq!(
        row["reason"],
        format!(
            "the WhatsApp access token cannot be decrypted: the key file {} is not the key the \
             access token was sealed with",
            other_key.display()
        )
    );
}

#[tokio::test]
async fn tokens_an_older_release_left_in_free_space_are_gone_after_the_first_start() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("ringback.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/previous-release.db"),
        &db,
    )
    .expect("copy the fixture");
    {
        // As the first release wrote: freed space was not overwritten, and each token was set
        // twice, so a stale copy of the first sits in free space.
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.execute_batch("PRAGMA secure_delete = OFF;")
            .expect("pragma");
        for i in 0..300 {
            conn.execute(
                "INSERT INTO restaurants (id, name, country, timezone, created_at,
                                          wa_phone_number_id, wa_access_token)
                 VALUES (?1, ?2, 'FR', 'Europe/Paris', 0, '106540352242922', ?3)",
                rusqlite::params![
                    format!("rst_old{i:04}"),
                    format!("Ancien {i}"),
                    format!("EAAGstale{i:04}xyz-a-longer-first-token-{i:04}")
                ],
            )
            .expect("insert");
        }
        for i in 0..300 {
            conn.execute(
                "UPDATE restaurants SET wa_access_token = ?2 WHERE id = ?1",
                rusqlite::params![format!("rst_old{i:04}"), format!("EAAGlive{i:04}xyz")],
            )
            .expect("update");
        }
    }
    let before = raw(&database_files(&db));
    assert!(
        holds(&before, "EAAGstale") && holds(&before, "EAAGlive0007xyz"),
        "stale copies in free space, as an older release left them"
    );
    let whatsapp = FakeWhatsApp::start().await;

    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;

    let after = raw(&database_files(&db));
    assert!(after.len() > 100_000);
    assert!(!holds(&after, "EAAGstale"), "a stale token survived");
    assert!(!holds(&after, "EAAGlive"), "a live token is in plaintext");
    drop(server);
}

#[tokio::test]
async fn a_credential_systemd_should_have_loaded_but_did_not_is_a_missing_key_not_a_new_one() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, restaurant) = seeded(dir.path());
    let credentials = tempfile::tempdir().expect("credentials");
    let credentials_text = credentials.path().to_str().expect("utf-8").to_string();
    let whatsapp = FakeWhatsApp::start().await;

    let server = serve_with(
        dir.path(),
        &db,
        &whatsapp,
        "CREDENTIALS_DIRECTORY",
        &credentials_text,
    )
    .await;

    let credential = credentials.path().join("ringback.key");
    let log = server.log();
    assert!(
        log.contains(&format!("the key file {} is missing", credential.display())),
        "{log}"
    );
    assert!(
        !credential.exists(),
        "ringback made no key in systemd's credentials"
    );
    assert!(!log.contains("created the key file"), "{log}");
    let (status, body) = report(&server, &restaurant.token, "+33612345678").await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SKIPPED_NO_WHATSAPP"))
    );
    drop(server);

    // The credential loaded: the server sends with it.
    std::fs::copy(key_beside(&db), &credential).expect("load the credential");
    std::fs::remove_file(key_beside(&db)).expect("no key beside the database");
    let server = serve_with(
        dir.path(),
        &db,
        &whatsapp,
        "CREDENTIALS_DIRECTORY",
        &credentials_text,
    )
    .await;
    let (status, body) = report(&server, &restaurant.token, "+33698765432").await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SENT")),
        "{body}"
    );
    assert!(!key_beside(&db).exists());
}

#[tokio::test]
async fn a_key_file_that_cannot_be_read_leaves_the_box_serving_and_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, restaurant) = seeded(dir.path());
    // A directory where the key should be: it exists, so nothing is created, and it is no key.
    let key = key_beside(&db);
    std::fs::remove_file(&key).expect("remove");
    std::fs::create_dir(&key).expect("a directory in its place");
    let whatsapp = FakeWhatsApp::start().await;

    let server = Server::start(dir.path(), &db, &whatsapp.base_url).await;

    let log = server.log();
    assert!(
        log.contains(&format!("the key file {} cannot be read", key.display())),
        "{log}"
    );
    let (status, body) = report(&server, &restaurant.token, "+33612345678").await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SKIPPED_NO_WHATSAPP"))
    );
    assert!(whatsapp.requests().is_empty());
}

#[tokio::test]
async fn key_rotations_run_at_once_leave_every_token_openable() {
    let app = spawn_app().await;
    let db = app.db_path.to_str().expect("utf-8").to_string();
    let dir = app.db_path.parent().expect("dir").to_path_buf();

    let runs: Vec<_> = (0..4)
        .map(|_| {
            let (db, dir) = (db.clone(), dir.clone());
            std::thread::spawn(move || {
                ringback_in(&dir, &["--db", &db, "key", "rotate"], &[], None)
            })
        })
        .collect();
    let outputs: Vec<_> = runs.into_iter().map(|r| r.join().expect("join")).collect();

    for out in &outputs {
        assert!(
            out.status.success()
                || stderr(out).contains("another `ringback key rotate` is running"),
            "{}",
            stderr(out)
        );
    }
    assert!(outputs.iter().any(|o| o.status.success()));
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("SENT")),
        "{body}"
    );
    assert!(!dir.join("ringback.key.new").exists());
}
