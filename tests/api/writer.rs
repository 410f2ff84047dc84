//! SPEC §6.4, the single writer: group commit, a storage fault inside a batch, the bounded queue.

use std::sync::atomic::Ordering;

use ringback::db::{DbError, StorageFault, Writer};
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::*;

/// A writer on a scratch table `t (v INTEGER NOT NULL UNIQUE)`.
fn scratch_writer(max_pending: usize) -> (tempfile::TempDir, Writer) {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = ringback::db::open_write_connection(&dir.path().join("w.db")).expect("open");
    conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
        .expect("table");
    let (writer, _stopped) = Writer::start(conn, max_pending).expect("start");
    (dir, writer)
}

fn insert(conn: &Connection, v: i64) -> Result<(), DbError> {
    conn.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
    Ok(())
}

fn count(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_fault_in_one_job_commits_nothing_of_its_batch_and_the_next_batch_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = ringback::db::open_write_connection(&dir.path().join("w.db")).expect("open");
    conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL)")
        .expect("table");
    let pages: i64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .expect("pages");
    // The file may grow by a few pages only: a large row then fails with SQLITE_FULL.
    conn.query_row(
        &format!("PRAGMA max_page_count = {}", pages + 4),
        [],
        |_| Ok(()),
    )
    .expect("cap");
    let (writer, _stopped) = Writer::start(conn, 100).expect("writer");
    let since = queued(&writer);
    let release = hold_writer(&writer);
    let jobs: Vec<_> = (0..10)
        .map(|i| {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .run(move |conn| {
                        conn.execute("INSERT INTO t (v) VALUES (?1)", [i])?;
                        if i == 5 {
                            conn.execute("INSERT INTO t (v) VALUES (zeroblob(65536))", [])?;
                        }
                        Ok::<_, DbError>(())
                    })
                    .await
            })
        })
        .collect();
    until_queued(&writer, since, 1 + 10).await;

    drop(release);
    let mut answers = Vec::new();
    for job in jobs {
        answers.push(job.await.expect("join"));
    }
    writer
        .run(|conn| {
            conn.execute("INSERT INTO t (v) VALUES (100)", [])?;
            Ok::<_, DbError>(())
        })
        .await
        .expect("the next batch");
    let rows: Vec<i64> = writer
        .run(|conn| {
            let mut stmt = conn.prepare("SELECT v FROM t")?;
            let rows = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok::<_, DbError>(rows)
        })
        .await
        .expect("rows");

    assert!(
        answers
            .iter()
            .all(|a| matches!(a, Err(e) if e.is_storage_fault())),
        "every job of the batch hears of the fault: {answers:?}"
    );
    assert_eq!(rows, vec![100], "nothing of the failed batch is committed");
    assert_eq!(writer.stats().failed_batches.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_write_queue_answers_503_service_busy_and_records_nothing() {
    // No retention run at start-up: its writer job would take a place in the queue.
    let app = spawn_app_with(|c| {
        c.database.max_pending_writes = 2;
        c.missed_calls.retention_days = 0;
    })
    .await;
    let since = queued(&app.writer);
    let release = hold_writer(&app.writer);
    let queued: Vec<_> = (0..2)
        .map(|i| {
            let (address, token) = (app.address.clone(), app.restaurant.token.clone());
            let body = json!({"caller_phone_number": format!("+3361234567{i}"), "external_call_id": format!("queued-{i}")});
            tokio::spawn(async move { post_json(&address, &token, &body).await })
        })
        .collect();
    until_queued(&app.writer, since, 1 + 2).await;

    let refused = app
        .report(json!({"caller_phone_number": "+33612345679", "external_call_id": "refused"}))
        .await;
    let retry_after = refused.headers().get("retry-after").cloned();
    let (status, body) = (
        refused.status().as_u16(),
        refused.json::<Value>().await.expect("json"),
    );
    drop(release);
    for job in queued {
        assert_eq!(job.await.expect("join").0, 201);
    }

    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "SERVICE_BUSY");
    assert_eq!(
        retry_after.as_ref().and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let refused_rows: i64 = app
        .db()
        .query_row(
            "SELECT COUNT(*) FROM calls WHERE external_call_id = 'refused'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(refused_rows, 0);
    assert_eq!(app.ledger_rows(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_in_a_batch_rolls_back_only_its_own_writes() {
    let (_dir, writer) = scratch_writer(100);
    let since = queued(&writer);
    let release = hold_writer(&writer);
    // Every third job fails after writing; all 30 wait behind the held job, so they run as one batch.
    let jobs: Vec<tokio::task::JoinHandle<Result<(), DbError>>> = (0..30)
        .map(|i| {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .run(move |conn| {
                        insert(conn, i)?;
                        if i % 3 == 0 {
                            insert(conn, i)?; // UNIQUE: fails, and must undo the first insert
                        }
                        Ok::<_, DbError>(())
                    })
                    .await
            })
        })
        .collect();
    until_queued(&writer, since, 1 + 30).await;
    drop(release);

    let mut failed = 0;
    for job in jobs {
        if job.await.expect("join").is_err() {
            failed += 1;
        }
    }
    let rows = writer.run(count).await.expect("count");

    assert_eq!(failed, 10);
    assert_eq!(rows, 20);
    // The holding job's batch, the 30 jobs' batch, and the count.
    assert_eq!(writer.stats().batches.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_new_work_but_never_the_result_of_work_already_stored() {
    let (_dir, writer) = scratch_writer(3);
    let since = queued(&writer);
    let release = hold_writer(&writer);
    let jobs: Vec<_> = (0..3)
        .map(|i| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.run(move |conn| insert(conn, i)).await })
        })
        .collect();
    until_queued(&writer, since, 1 + 3).await;

    let refused = writer.run(|conn| insert(conn, 99)).await;
    let result = {
        let writer = writer.clone();
        tokio::spawn(async move { writer.run_always(|conn| insert(conn, 100)).await })
    };
    drop(release);
    for job in jobs {
        job.await.expect("join").expect("queued job");
    }
    let result = result.await.expect("join");

    assert!(matches!(refused, Err(DbError::Busy)));
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(writer.run(count).await.expect("count"), 4);
}

#[tokio::test]
async fn a_panicking_job_is_an_error_and_the_writer_goes_on() {
    let (_dir, writer) = scratch_writer(100);

    let panicked = writer
        .run(|conn| -> Result<(), DbError> {
            insert(conn, 1)?;
            panic!("a bug in a job")
        })
        .await;
    writer.run(|conn| insert(conn, 2)).await.expect("next job");

    assert!(matches!(panicked, Err(DbError::JobPanicked)));
    assert_eq!(writer.run(count).await.expect("count"), 1);
}
