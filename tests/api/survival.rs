//! SPEC §6.2, §6.4, §2.2: a pager on the CLI, a dying writer thread, a box without tzdata, the
//! database files' mode, and date-times that are almost right.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use ringback::app::App;
use ringback::db::DbError;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_list_piped_into_a_reader_that_never_reads_does_not_delay_reports() {
    let app = spawn_app().await;
    {
        // Far more output than a pipe holds, so the command blocks while printing.
        let mut conn = app.db();
        let tx = conn.transaction().expect("tx");
        for i in 0..3_000 {
            tx.execute(
                "INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, occurred_at,
                                    created_at, updated_at, outcome)
                 VALUES (?1, ?2, '+33612345678', '+33612345678', ?3, ?3, ?3, 'SKIPPED_STALE')",
                rusqlite::params![
                    format!("call_old{i}"),
                    app.restaurant.id,
                    1_700_000_000_000i64 + i
                ],
            )
            .expect("insert");
        }
        tx.commit().expect("commit");
    }
    let mut pager = Command::new(env!("CARGO_BIN_EXE_ringback"))
        .arg("--db")
        .arg(&app.db_path)
        .args(["calls", "list", "--limit", "100000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run ringback calls list");
    let mut stdout = pager.stdout.take().expect("stdout");
    // The first byte: the command has started printing, and then nobody reads on.
    let first = tokio::task::spawn_blocking(move || {
        let mut byte = [0u8; 1];
        stdout.read_exact(&mut byte).map(|()| stdout)
    })
    .await
    .expect("join")
    .expect("the list starts printing");

    let mut statuses = Vec::new();
    for i in 0..5 {
        let (status, _) = app
            .report_json(json!({"caller_phone_number": format!("+3361234000{i}")}))
            .await;
        statuses.push(status);
    }
    let still_printing = pager.try_wait().expect("try_wait").is_none();
    let _ = pager.kill();
    let _ = pager.wait();
    drop(first);

    assert!(
        still_printing,
        "the command was blocked on its pager meanwhile"
    );
    assert_eq!(statuses, vec![201; 5]);
}

/// A value whose drop panics: when its caller has gone away the writer thread drops it itself,
/// outside any job's guard — a bug that ends the thread.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("dropped on the writer thread");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_stops_with_an_error_when_its_writer_thread_dies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let whatsapp = FakeWhatsApp::start().await;
    let app = App::build(test_config(dir.path().join("w.db"), &whatsapp.base_url))
        .await
        .expect("app");
    let writer = app.writer();
    let running = tokio::spawn(app.run_until_stopped(std::future::pending()));
    let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
    let (resume, resumed) = std::sync::mpsc::channel::<()>();
    let job = tokio::spawn(async move {
        let _ = writer
            .run(move |_| {
                let _ = started_tx.send(());
                let _ = resumed.recv();
                Ok::<_, DbError>(PanicsOnDrop)
            })
            .await;
    });

    started.await.expect("the job started");
    job.abort();
    let _ = job.await;
    resume.send(()).expect("resume");
    let stopped = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the app stops")
        .expect("join");

    let error = stopped.expect_err("a non-zero exit");
    assert!(error.to_string().contains("writer"), "{error}");
}

/// Runs the binary with the system's time-zone data out of reach: `TZDIR` names an empty folder,
/// or (`hide_zoneinfo`) an empty file system is mounted over /usr/share/zoneinfo for it alone, in
/// a user and mount namespace of its own (no root needed).
fn ringback_without_tzdata(db: &std::path::Path, hide_zoneinfo: bool, args: &[&str]) -> String {
    let empty = tempfile::tempdir().expect("empty tzdir");
    let binary = env!("CARGO_BIN_EXE_ringback");
    let zoneinfo_present = std::path::Path::new("/usr/share/zoneinfo").is_dir();
    // Where the box has no /usr/share/zoneinfo at all, there is nothing to hide.
    let mut command = if hide_zoneinfo && zoneinfo_present {
        let mut c = Command::new("unshare");
        c.args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            "mount -t tmpfs tmpfs /usr/share/zoneinfo && exec \"$0\" \"$@\"",
            binary,
        ]);
        c.env_remove("TZDIR");
        c
    } else {
        let mut c = Command::new(binary);
        c.env("TZDIR", empty.path());
        c
    };
    let out = command
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("TZ")
        .output()
        .expect("run ringback");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn time_zones_resolve_with_an_empty_tzdir_and_with_no_usr_share_zoneinfo() {
    for hide_zoneinfo in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("tz.db");
        let run = |args: &[&str]| ringback_without_tzdata(&db, hide_zoneinfo, args);
        run(&["migrate"]);
        let restaurant = run(&[
            "restaurant",
            "add",
            "--name",
            "Chez Zone",
            "--country",
            "FR",
            "--timezone",
            "Europe/Paris",
        ]);
        run(&[
            "reservation",
            "add",
            "--restaurant",
            &restaurant,
            "--phone",
            "0612345678",
            "--start",
            "2030-07-01T20:00",
            "--party-size",
            "2",
        ]);

        let listed: Value = serde_json::from_str(&run(&[
            "reservation",
            "list",
            "--restaurant",
            &restaurant,
            "--json",
        ]))
        .expect("json");

        assert_eq!(
            listed[0]["start_at"], "2030-07-01T20:00:00+02:00",
            "Paris summer time (zoneinfo hidden: {hide_zoneinfo})"
        );
    }
}

#[tokio::test]
async fn the_database_and_its_wal_and_shm_files_are_readable_by_their_owner_only() {
    let app = spawn_app().await;
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;
    assert_eq!(status, 201);

    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", app.db_path.display());
        let mode = std::fs::metadata(&path).expect(&path).permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{path}: {mode:o}");
    }
}

#[tokio::test]
async fn occurred_at_as_a_date_alone_or_with_an_offset_past_23_59_or_out_of_2000_to_2099_is_refused()
 {
    let app = spawn_app().await;
    for occurred_at in [
        "2030-01-01",
        "2026-01-01T12:00:00+24:00",
        "2026-01-01T12:00:00+25:00",
        "0001-01-01T00:00:00",
        "1999-12-31T23:00:00Z",
    ] {
        let (status, body) = app
            .report_json(json!({"caller_phone_number": "+33612345678", "occurred_at": occurred_at}))
            .await;

        assert_eq!(status, 422, "{occurred_at}: {body}");
        assert_eq!(body["error"]["details"]["field"], "occurred_at");
    }
    assert_eq!(app.ledger_rows(), 0);
}

#[tokio::test]
async fn start_at_follows_the_date_time_rules_of_occurred_at() {
    let app = spawn_app().await;
    for start_at in [
        "2030-01-01",
        "2030-01-01T20:00:00+24:00",
        "0001-01-01T00:00:00",
    ] {
        let (status, body) = app
            .call(
                reqwest::Method::POST,
                "/reservations",
                &app.restaurant.token,
                Some(json!({"start_at": start_at, "party_size": 2, "customer": null})),
            )
            .await;

        assert_eq!(status, 422, "{start_at}: {body}");
        assert_eq!(body["error"]["details"]["field"], "start_at");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_send_whose_pbx_hung_up_finish_and_record_its_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    let restaurant = {
        let conn = ringback::db::open(&db).expect("db");
        seed_restaurant(&conn, "Chez Fin", "FR", "Europe/Paris")
    };
    let whatsapp = FakeWhatsApp::start().await;
    whatsapp.set(Behaviour::Hold);
    let server = crate::process::Server::start(dir.path(), &db, &whatsapp.base_url).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let hung_up = impatient
        .post(format!("{}/api/partner/v1/missed-calls", server.address))
        .bearer_auth(&restaurant.token)
        .json(&json!({"caller_phone_number": "+33612345678", "external_call_id": "bye"}))
        .send()
        .await;
    assert!(hung_up.is_err(), "the PBX hung up");
    whatsapp.wait_for_requests(1).await;

    // No connection is open any more when the stop is asked for; the send ends after it.
    server.sigterm();
    server.wait_for_log("shutting down").await;
    whatsapp.release();
    let code = server.exit_code().await;

    let outcome: String = rusqlite::Connection::open(&db)
        .expect("db")
        .query_row(
            "SELECT outcome FROM calls WHERE external_call_id = 'bye'",
            [],
            |r| r.get(0),
        )
        .expect("row");
    assert_eq!(code, Some(0));
    assert_eq!(
        outcome, "SENT",
        "the send finished and was recorded before exit"
    );
}
