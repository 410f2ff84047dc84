//! The single writer: one thread owns the only write connection and commits jobs in groups.
//!
//! Every job runs in its own SAVEPOINT; the thread takes every job that is waiting, runs them one
//! after another inside one transaction, commits once, and only then answers each job. A failing
//! job rolls back its own savepoint and nothing else. This serialises the pipeline's claims without
//! lock contention and lets one fsync carry many reports.
//!
//! A storage fault (disk full, I/O error, out of memory) is not one job's failure: SQLite may
//! already have rolled the whole transaction back, so the batch is rolled back whole, every job in
//! it is answered with the fault, and the thread goes on with the next batch.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::{DbError, Stopped, StorageFault, spawn_watched};

/// Jobs taken into one transaction at most; bounds the latency a long queue adds to its head.
const MAX_BATCH: usize = 512;

/// How a batch ended, as each of its jobs learns it.
type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;

/// What running one job inside the open transaction gave.
struct Ran {
    deliver: Deliver,
    /// The job hit a storage fault, or left the transaction in a state nobody can vouch for.
    fault: Option<String>,
}

trait Job: Send {
    /// Runs inside the open transaction; returns what answers the caller once the commit is known.
    fn run(self: Box<Self>, conn: &Connection) -> Ran;
    /// Answers the caller without running: the transaction could not be opened, or an earlier
    /// job of the batch broke it.
    fn abort(self: Box<Self>, fault: DbError);
}

struct Task<F, T, E> {
    work: F,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Task<F, T, E>
where
    F: FnOnce(&Connection) -> Result<T, E> + Send,
    T: Send + 'static,
    E: From<DbError> + StorageFault + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Ran {
        let Task { work, reply } = *self;
        let (result, fault) = in_savepoint(conn, work);
        let deliver: Deliver = Box::new(move |commit| {
            let answer = match (commit, result) {
                (Ok(()), result) => result,
                (Err(_), Err(e)) => Err(e),
                (Err(reason), Ok(_)) => Err(E::from(DbError::Storage(reason))),
            };
            // The caller may have gone away (its request was dropped); nothing to answer then.
            let _ = reply.send(answer);
        });
        Ran { deliver, fault }
    }

    fn abort(self: Box<Self>, fault: DbError) {
        let _ = self.reply.send(Err(E::from(fault)));
    }
}

/// Runs a statement without parameters from the statement cache: these run for every job.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs `work` in its own savepoint. The second value is set when the batch cannot be trusted
/// any more: a storage fault, a savepoint that would not open, release or roll back, or a
/// transaction that SQLite ended on its own.
fn in_savepoint<T, E, F>(conn: &Connection, work: F) -> (Result<T, E>, Option<String>)
where
    F: FnOnce(&Connection) -> Result<T, E>,
    E: From<DbError> + StorageFault,
{
    if let Err(e) = run(conn, "SAVEPOINT job") {
        let reason = e.to_string();
        return (Err(E::from(e.into())), Some(reason));
    }
    let result = match catch_unwind(AssertUnwindSafe(|| work(conn))) {
        Ok(Ok(value)) => match run(conn, "RELEASE job") {
            Ok(()) => return (Ok(value), None),
            Err(e) => Err(E::from(DbError::from(e))),
        },
        Ok(Err(e)) => Err(e),
        Err(_) => Err(E::from(DbError::JobPanicked)),
    };
    let mut fault = match &result {
        Err(e) if e.is_storage_fault() => Some("the database could not write".to_string()),
        _ => None,
    };
    if conn.is_autocommit() {
        // SQLite rolled the whole transaction back (it does on I/O errors and out of memory).
        return (
            result,
            fault.or(Some("the transaction was rolled back".into())),
        );
    }
    if let Err(e) = run(conn, "ROLLBACK TO job").and_then(|()| run(conn, "RELEASE job")) {
        fault = Some(format!("could not roll back a failed job: {e}"));
    }
    (result, fault)
}

/// Counters the writer keeps about itself.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Jobs waiting in the queue, not yet taken into a batch.
    pub pending: AtomicUsize,
    /// Jobs taken into a batch since start.
    pub taken: AtomicU64,
    /// Batches committed since start.
    pub batches: AtomicU64,
    /// Batches rolled back whole because of a storage fault.
    pub failed_batches: AtomicU64,
}

/// A handle on the writer thread; cheap to clone. The thread stops when the last handle is dropped.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::SyncSender<Box<dyn Job>>,
    stats: Arc<WriterStats>,
}

impl Writer {
    /// Starts the writer thread, which owns `conn` from now on. At most `max_pending` jobs wait
    /// in its queue; past that `run` answers `DbError::Busy` at once. Automatic checkpoints are
    /// turned off on the connection: the `Checkpointer` does them on its own thread.
    /// The returned `Stopped` resolves when the thread ends: while a `Writer` handle lives, only
    /// by dying.
    pub fn start(conn: Connection, max_pending: usize) -> std::io::Result<(Writer, Stopped)> {
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(std::io::Error::other)?;
        // When the WAL starts over after a checkpoint, give the disk space back past 64 MiB.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
            .map_err(std::io::Error::other)?;
        let (jobs, queue) = mpsc::sync_channel::<Box<dyn Job>>(max_pending.max(1));
        let stats = Arc::new(WriterStats::default());
        let thread_stats = Arc::clone(&stats);
        let stopped = spawn_watched("ringback-writer", move || {
            serve(&conn, &queue, &thread_stats);
        })?;
        Ok((Writer { jobs, stats }, stopped))
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Runs `work` as one job of the writer and waits, without blocking the runtime, for its
    /// answer after the commit. An `Err` from `work` rolls back only what `work` wrote. A full
    /// queue answers `DbError::Busy` without queueing anything.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + StorageFault + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.stats.pending.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.jobs.try_send(Box::new(Task { work, reply })) {
            self.stats.pending.fetch_sub(1, Ordering::Relaxed);
            return Err(E::from(match e {
                mpsc::TrySendError::Full(_) => DbError::Busy,
                mpsc::TrySendError::Disconnected(_) => DbError::WriterGone,
            }));
        }
        answer.await.map_err(|_| E::from(DbError::WriterGone))?
    }
}

fn serve(conn: &Connection, queue: &mpsc::Receiver<Box<dyn Job>>, stats: &WriterStats) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        stats.pending.fetch_sub(batch.len(), Ordering::Relaxed);
        stats.taken.fetch_add(batch.len() as u64, Ordering::Relaxed);
        run_batch(conn, batch, stats);
    }
}

/// Runs one batch in one transaction, counts it, and answers its jobs.
fn run_batch(conn: &Connection, batch: Vec<Box<dyn Job>>, stats: &WriterStats) {
    if let Err(e) = run(conn, "BEGIN IMMEDIATE") {
        tracing::error!(db.error = %e, jobs = batch.len(), "could not open a write transaction");
        stats.failed_batches.fetch_add(1, Ordering::Relaxed);
        let reason = e.to_string();
        for job in batch {
            job.abort(DbError::Storage(reason.clone()));
        }
        return;
    }
    let mut answers: Vec<Deliver> = Vec::with_capacity(batch.len());
    let mut fault: Option<String> = None;
    for job in batch {
        if let Some(reason) = &fault {
            // The transaction is gone or suspect: running more jobs would run them outside it.
            job.abort(DbError::Storage(reason.clone()));
            continue;
        }
        let ran = job.run(conn);
        fault = ran.fault;
        answers.push(ran.deliver);
    }
    let commit = match fault {
        Some(reason) => Err(reason),
        None => run(conn, "COMMIT").map_err(|e| e.to_string()),
    };
    if let Err(reason) = &commit {
        // Fails harmlessly when SQLite already ended the transaction.
        let _ = run(conn, "ROLLBACK");
        tracing::error!(db.error = %reason, jobs = answers.len(), "a write batch was rolled back");
    }
    let counter = match commit {
        Ok(()) => &stats.batches,
        Err(_) => &stats.failed_batches,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    for answer in answers {
        answer(commit.clone());
    }
}

#[cfg(test)]
mod tests {
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

    /// Queues `jobs` and waits until every one of them is in the writer's queue.
    async fn queue_all<T: Send + 'static>(
        writer: &Writer,
        jobs: Vec<tokio::task::JoinHandle<T>>,
    ) -> Vec<tokio::task::JoinHandle<T>> {
        let expected = jobs.len();
        while writer.stats().pending.load(Ordering::Relaxed) < expected {
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
    async fn a_storage_fault_in_one_job_rolls_back_its_whole_batch_and_the_next_batch_commits() {
        let (_dir, writer, _stopped) = writer(100);
        // Cap the file a few pages above its size: a large row then fails with SQLITE_FULL.
        writer
            .run(|conn| {
                let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                conn.query_row(
                    &format!("PRAGMA max_page_count = {}", pages + 4),
                    [],
                    |_| Ok(()),
                )?;
                Ok::<_, DbError>(())
            })
            .await
            .expect("cap");
        let (release, held) = hold(&writer);
        let jobs: Vec<_> = (0..10)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .run(move |conn| {
                            insert(conn, i)?;
                            if i == 5 {
                                conn.execute("CREATE TABLE big (b BLOB)", [])?;
                                conn.execute(
                                    "INSERT INTO big VALUES (?1)",
                                    [vec![7u8; 64 * 1024]],
                                )?;
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

        let mut answers = Vec::new();
        for job in jobs {
            answers.push(job.await.expect("join"));
        }
        writer
            .run(|conn| insert(conn, 100))
            .await
            .expect("next batch");
        let rows = writer.run(count).await.expect("count");

        assert!(answers.iter().all(Result::is_err), "{answers:?}");
        assert!(
            answers
                .iter()
                .all(|a| matches!(a, Err(e) if e.is_storage_fault()))
        );
        assert_eq!(rows, 1, "only the next batch's row is stored");
        assert_eq!(writer.stats().failed_batches.load(Ordering::Relaxed), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_answers_busy_and_queues_nothing() {
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
        drop(release);
        held.await.expect("held job");
        for job in queued {
            job.await.expect("join").expect("queued job");
        }

        assert!(matches!(refused, Err(DbError::Busy)));
        assert_eq!(writer.run(count).await.expect("count"), 3);
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
}
