//! The writer's own tests: group commit, a failing or panicking job, the queue bound, death.

use super::*;

fn writer(max_pending: usize) -> (tempfile::TempDir, Writer, Stopped) {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = super::super::open_write_connection(&dir.path().join("w.db")).expect("open");
    conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
        .expect("table");
    let (writer, stopped) = Writer::start(conn, max_pending).expect("start");
    (dir, writer, stopped)
}

fn insert(conn: &Connection, v: i64) -> Result<(), DbError> {
    conn.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
    Ok(())
}

fn count(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?)
}

/// Holds the writer thread inside a job until the returned sender is dropped or sent to, so
/// that every job queued meanwhile lands in the next batch, whole.
fn hold(writer: &Writer) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    let w = writer.clone();
    let job = tokio::spawn(async move {
        let _ = w
            .run(move |_| {
                let _ = held_tx.send(());
                let _ = wait.recv();
                Ok::<_, DbError>(())
            })
            .await;
    });
    held_rx.recv().expect("the writer took the holding job");
    (release, job)
}

/// Waits until every one of `jobs` is in the writer's queue, behind the held job.
async fn queue_all<T: Send + 'static>(
    writer: &Writer,
    jobs: Vec<tokio::task::JoinHandle<T>>,
) -> Vec<tokio::task::JoinHandle<T>> {
    // The held job counts as queued too.
    let expected = jobs.len() as u64 + 1;
    while writer.stats().queued.load(Ordering::SeqCst) < expected {
        tokio::task::yield_now().await;
    }
    jobs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_in_a_batch_rolls_back_only_its_own_writes() {
    let (_dir, writer, _stopped) = writer(100);
    let (release, held) = hold(&writer);
    // Every third job fails after writing; all 30 wait behind the held job, so they run as one batch.
    let jobs = (0..30)
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
    let jobs = queue_all(&writer, jobs).await;
    drop(release);
    held.await.expect("held job");

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
    assert_eq!(writer.stats().batches.load(Ordering::Relaxed), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_new_work_but_never_the_result_of_work_already_stored() {
    let (_dir, writer, _stopped) = writer(3);
    let (release, held) = hold(&writer);
    let queued: Vec<_> = (0..3)
        .map(|i| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.run(move |conn| insert(conn, i)).await })
        })
        .collect();
    let queued = queue_all(&writer, queued).await;

    let refused = writer.run(|conn| insert(conn, 99)).await;
    let result = {
        let writer = writer.clone();
        tokio::spawn(async move { writer.run_always(|conn| insert(conn, 100)).await })
    };
    drop(release);
    held.await.expect("held job");
    for job in queued {
        job.await.expect("join").expect("queued job");
    }
    let result = result.await.expect("join");

    assert!(matches!(refused, Err(DbError::Busy)));
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(writer.run(count).await.expect("count"), 4);
}

#[tokio::test]
async fn a_panicking_job_is_an_error_and_the_writer_goes_on() {
    let (_dir, writer, _stopped) = writer(100);

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

/// A value whose drop panics: answering a caller that went away drops it on the writer
/// thread, outside any job's guard — a bug that kills the thread.
struct PanicsOnDrop;
impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("dropped on the writer thread");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_thread_that_dies_says_so() {
    let (_dir, writer, stopped) = writer(100);
    let (started_tx, started) = oneshot::channel::<()>();
    let (resume, resumed) = std::sync::mpsc::channel::<()>();
    let job = {
        let writer = writer.clone();
        tokio::spawn(async move {
            let _ = writer
                .run(move |_| {
                    let _ = started_tx.send(());
                    let _ = resumed.recv();
                    Ok::<_, DbError>(PanicsOnDrop)
                })
                .await;
        })
    };
    // The caller goes away while its job runs, so the writer drops the answer itself.
    started.await.expect("the job started");
    job.abort();
    let _ = job.await;
    resume.send(()).expect("resume the job");

    let reason = stopped.await.expect("the writer reports its end");

    assert!(reason.contains("panicked"), "{reason}");
    assert!(matches!(writer.run(count).await, Err(DbError::WriterGone)));
}
