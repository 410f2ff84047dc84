//! SPEC §8 retention: ledger rows older than `missed_calls.retention_days` are deleted at
//! start-up, a small batch per writer job, while reports go on.

use std::sync::atomic::Ordering;

use rusqlite::{Connection, params};
use serde_json::json;

use crate::helpers::*;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Ledger rows whose caller reads `<prefix>-caller-<i>`, so that their bytes can be looked for.
fn insert_calls(conn: &Connection, restaurant_id: &str, prefix: &str, n: usize, age_days: i64) {
    let now = ringback::time::now_ms();
    let occurred_at = now - age_days * DAY_MS;
    let mut stmt = conn
        .prepare(
            "INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, occurred_at, \
             created_at, updated_at, outcome) VALUES (?1, ?2, ?4, '+33612345678', \
             ?3, ?3, ?3, 'SKIPPED_STALE')",
        )
        .expect("prepare");
    for i in 0..n {
        let caller = format!("{prefix}-caller-{i}");
        stmt.execute(params![
            format!("call_{prefix}{i}"),
            restaurant_id,
            occurred_at,
            caller
        ])
        .expect("insert");
    }
}

fn call_ids(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT id FROM calls WHERE id LIKE 'call_k%' OR id LIKE 'call_r%' ORDER BY id")
        .expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_only_rows_past_the_limit_while_reports_go_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    {
        let conn = ringback::db::open(&db).expect("db");
        let old = seed_restaurant(&conn, "Old Calls", "FR", "Europe/Paris");
        insert_calls(&conn, &old.id, "old", 1_200, 401);
        insert_calls(&conn, &old.id, "k", 5, 399);
        insert_calls(&conn, &old.id, "r", 5, 2);
    }

    let app = spawn_app_with(|c| {
        c.database.path = db.clone();
        c.missed_calls.retention_days = 400;
    })
    .await;
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33698765432"}))
        .await;
    assert_eq!(status, 201, "a report is answered while retention runs");

    let conn = app.db();
    eventually("the old rows are deleted", || {
        conn.query_row(
            "SELECT count(*) FROM calls WHERE id LIKE 'call_old%'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .expect("count")
            == 0
    })
    .await;
    let kept = call_ids(&conn);
    assert_eq!(kept.len(), 10, "rows inside the limit stay: {kept:?}");
    let reports: i64 = conn
        .query_row(
            "SELECT count(*) FROM calls WHERE restaurant_id = ?1",
            [&app.restaurant.id],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(reports, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_in_jobs_of_500_rows_so_reports_are_served_between_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    {
        let conn = ringback::db::open(&db).expect("db");
        let old = seed_restaurant(&conn, "Old Calls", "FR", "Europe/Paris");
        insert_calls(&conn, &old.id, "old", 1_200, 401);
    }
    let (writer, _stopped) =
        ringback::db::Writer::start(ringback::db::open(&db).expect("db"), 100).expect("writer");
    let before = writer.stats().queued.load(Ordering::SeqCst);
    let cutoff = ringback::time::now_ms() - 400 * DAY_MS;

    let deleted = ringback::jobs::retention::delete_older(
        &writer,
        cutoff,
        &tokio_util::sync::CancellationToken::new(),
    )
    .await
    .expect("deleted");

    assert_eq!(deleted, 1_200);
    let jobs = writer.stats().queued.load(Ordering::SeqCst) - before;
    // One job lists the restaurants, then 500 + 500 + 200 rows, one writer job each.
    assert_eq!(jobs, 1 + 3, "one writer job per batch of at most 500 rows");
}

#[tokio::test]
async fn retention_zero_keeps_every_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ringback.db");
    {
        let conn = ringback::db::open(&db).expect("db");
        let old = seed_restaurant(&conn, "Old Calls", "FR", "Europe/Paris");
        insert_calls(&conn, &old.id, "k", 3, 5_000);
    }

    let app = spawn_app_with(|c| {
        c.database.path = db.clone();
        c.missed_calls.retention_days = 0;
    })
    .await;
    // A report is a full writer round trip after start-up, where retention would have begun.
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33698765432"}))
        .await;
    assert_eq!(status, 201);

    assert_eq!(call_ids(&app.db()).len(), 3);
}
