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
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::{DbError, Stopped, StorageFault, spawn_watched};

mod gather;

use gather::{linger, take_waiting};

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
    /// Jobs put into the queue since start (counted once they are in it).
    pub queued: AtomicU64,
    /// Jobs taken into a batch since start.
    pub taken: AtomicU64,
    /// Batches committed since start.
    pub batches: AtomicU64,
    /// Batches rolled back whole because of a storage fault.
    pub failed_batches: AtomicU64,
    /// When (Unix ms) a batch last failed because the database could not store it; 0 = never.
    /// Readiness reads it: a small probe may still commit into WAL space already there while
    /// reports, which need new pages, are refused.
    pub last_storage_fault_ms: AtomicI64,
    /// Told the size of every batch, committed or not (the metrics' batch-size histogram).
    batch_observer: BatchObserver,
}

/// A callback set once, after the writer started.
#[derive(Default)]
struct BatchObserver(OnceLock<Box<dyn Fn(usize) + Send + Sync>>);

impl std::fmt::Debug for BatchObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "set"
        } else {
            "unset"
        })
    }
}

/// A handle on the writer thread; cheap to clone. The thread stops when the last handle is dropped.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    /// New work admitted at most (`database.max_pending_writes`); see `run`.
    max_pending: usize,
    stats: Arc<WriterStats>,
}

impl Writer {
    /// Starts the writer thread, which owns `conn` from now on. At most `max_pending` jobs wait
    /// in its queue; past that `run` answers `DbError::Busy` at once. Automatic checkpoints are
    /// turned off on the connection: the `Checkpointer` does them on its own thread.
    /// The returned `Stopped` resolves when the thread ends: while a `Writer` handle lives, only
    /// by dying (a panic, or a transaction it can no longer end).
    pub fn start(conn: Connection, max_pending: usize) -> std::io::Result<(Writer, Stopped)> {
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(std::io::Error::other)?;
        // When the WAL starts over after a checkpoint, give the disk space back past 64 MiB.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
            .map_err(std::io::Error::other)?;
        // Each job runs in a savepoint, so every page a batch changes is first copied to a
        // statement journal; past 64 KiB SQLite spills that journal to a temporary file, which
        // cost each batch a file created, written and deleted. In memory it costs neither; a
        // batch's copies are a few hundred KiB at most.
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(std::io::Error::other)?;
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        let stats = Arc::new(WriterStats::default());
        let thread_stats = Arc::clone(&stats);
        let stopped = spawn_watched("ringback-writer", move || {
            serve(&conn, &queue, &thread_stats);
        })?;
        Ok((
            Writer {
                jobs,
                max_pending: max_pending.max(1),
                stats,
            },
            stopped,
        ))
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Calls `observe` with the number of jobs of every batch from now on. Set once; a second
    /// observer is ignored.
    pub fn observe_batches(&self, observe: impl Fn(usize) + Send + Sync + 'static) {
        let _ = self.stats.batch_observer.0.set(Box::new(observe));
    }

    /// Runs `work` as one job of the writer and waits, without blocking the runtime, for its
    /// answer after the commit. An `Err` from `work` rolls back only what `work` wrote. New work
    /// is admitted only while fewer than `max_pending` jobs wait: past that, `DbError::Busy` at
    /// once, with nothing queued.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + StorageFault + Send + 'static,
    {
        let admitted = self
            .stats
            .pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |p| {
                (p < self.max_pending).then_some(p + 1)
            });
        if admitted.is_err() {
            return Err(E::from(DbError::Busy));
        }
        self.send(work).await
    }

    /// Like `run`, but never refused for a full queue: for work that finishes what the database
    /// already holds (the result of a send WhatsApp accepted), which must not lose its turn to
    /// new reports.
    pub async fn run_always<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + StorageFault + Send + 'static,
    {
        self.stats.pending.fetch_add(1, Ordering::SeqCst);
        self.send(work).await
    }

    /// Queues a job already counted in `pending`, and waits for its answer.
    async fn send<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + StorageFault + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        if self.jobs.send(Box::new(Task { work, reply })).is_err() {
            self.stats.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(E::from(DbError::WriterGone));
        }
        self.stats.queued.fetch_add(1, Ordering::SeqCst);
        answer.await.map_err(|_| E::from(DbError::WriterGone))?
    }
}

fn serve(conn: &Connection, queue: &mpsc::Receiver<Box<dyn Job>>, stats: &WriterStats) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        take_waiting(queue, &mut batch);
        // Taken jobs leave the queue's count at once, so that a linger does not refuse work
        // early nor show a deeper queue than there is.
        stats.pending.fetch_sub(batch.len(), Ordering::SeqCst);
        if batch.len() > 1 {
            linger(queue, &mut batch, stats);
        }
        stats.taken.fetch_add(batch.len() as u64, Ordering::SeqCst);
        if let Some(observe) = stats.batch_observer.0.get() {
            observe(batch.len());
        }
        if let Err(reason) = run_batch(conn, batch, stats) {
            // Going on would run every later job inside a transaction nobody can end: stop, so
            // that the process exits and its supervisor starts it afresh.
            tracing::error!(db.error = %reason, "the database writer cannot end a transaction; stopping");
            return;
        }
    }
}

/// Runs one batch in one transaction, counts it, and answers its jobs. An `Err` means the
/// transaction could not be ended, and the connection cannot be used any more.
fn run_batch(
    conn: &Connection,
    batch: Vec<Box<dyn Job>>,
    stats: &WriterStats,
) -> Result<(), String> {
    if let Err(e) = run(conn, "BEGIN IMMEDIATE") {
        return refuse_batch(conn, batch, stats, &e);
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
    let mut stuck = None;
    if let Err(reason) = &commit {
        // Fails harmlessly when SQLite already ended the transaction.
        let _ = run(conn, "ROLLBACK");
        if !conn.is_autocommit() && run(conn, "ROLLBACK").is_err() && !conn.is_autocommit() {
            stuck = Some(reason.clone());
        }
        tracing::error!(db.error = %reason, jobs = answers.len(), "a write batch was rolled back");
        stats
            .last_storage_fault_ms
            .store(crate::time::now_ms(), Ordering::SeqCst);
    }
    let counter = match commit {
        Ok(()) => &stats.batches,
        Err(_) => &stats.failed_batches,
    };
    counter.fetch_add(1, Ordering::SeqCst);
    for answer in answers {
        answer(commit.clone());
    }
    stuck.map_or(Ok(()), Err)
}

/// A batch whose transaction could not begin: every job is answered with why. `Err` when a
/// transaction is left open that nothing ends.
fn refuse_batch(
    conn: &Connection,
    batch: Vec<Box<dyn Job>>,
    stats: &WriterStats,
    e: &rusqlite::Error,
) -> Result<(), String> {
    tracing::error!(db.error = %e, jobs = batch.len(), "could not open a write transaction");
    stats.failed_batches.fetch_add(1, Ordering::SeqCst);
    // Another process holding the lock past the busy timeout is a locked database, not a
    // broken one: readiness is not told of a storage fault.
    let busy = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    let reason = e.to_string();
    if !busy {
        stats
            .last_storage_fault_ms
            .store(crate::time::now_ms(), Ordering::SeqCst);
    }
    for job in batch {
        job.abort(if busy {
            DbError::Locked
        } else {
            DbError::Storage(reason.clone())
        });
    }
    if conn.is_autocommit() {
        Ok(())
    } else {
        Err(reason)
    }
}
