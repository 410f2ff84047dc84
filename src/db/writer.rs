//! The single writer: one thread owns the only write connection and commits jobs in groups.
//!
//! Every job runs in its own SAVEPOINT; the thread takes every job that is waiting, runs them one
//! after another inside one transaction, commits once, and only then answers each job. A failing
//! job rolls back its own savepoint and nothing else. This serialises the pipeline's claims without
//! lock contention and lets one fsync carry many reports.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::DbError;

/// Jobs taken into one transaction at most; bounds the latency a long queue adds to its head.
const MAX_BATCH: usize = 512;

type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;

trait Job: Send {
    /// Runs inside the open transaction; returns what answers the caller once the commit is known.
    fn run(self: Box<Self>, conn: &Connection) -> Deliver;
    /// Answers the caller without running: the transaction could not be opened.
    fn abort(self: Box<Self>, reason: String);
}

struct Task<F, T, E> {
    work: F,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Task<F, T, E>
where
    F: FnOnce(&Connection) -> Result<T, E> + Send,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Deliver {
        let Task { work, reply } = *self;
        let result = in_savepoint(conn, work);
        Box::new(move |commit| {
            let answer = match (commit, result) {
                (Ok(()), result) => result,
                (Err(_), Err(e)) => Err(e),
                (Err(reason), Ok(_)) => {
                    tracing::error!(db.error = %reason, "group commit failed");
                    Err(E::from(DbError::Task(reason)))
                }
            };
            // The caller may have gone away (its request was dropped); nothing to answer then.
            let _ = reply.send(answer);
        })
    }

    fn abort(self: Box<Self>, reason: String) {
        let _ = self.reply.send(Err(E::from(DbError::Task(reason))));
    }
}

/// Runs a statement without parameters from the statement cache: these run for every job.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn in_savepoint<T, E, F>(conn: &Connection, work: F) -> Result<T, E>
where
    F: FnOnce(&Connection) -> Result<T, E>,
    E: From<DbError>,
{
    run(conn, "SAVEPOINT job").map_err(|e| E::from(e.into()))?;
    let outcome = catch_unwind(AssertUnwindSafe(|| work(conn)));
    let result = match outcome {
        Ok(Ok(value)) => {
            run(conn, "RELEASE job").map_err(|e| E::from(e.into()))?;
            return Ok(value);
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(E::from(DbError::JobPanicked)),
    };
    if let Err(e) = run(conn, "ROLLBACK TO job").and_then(|()| run(conn, "RELEASE job")) {
        tracing::error!(db.error = %e, "could not roll back a failed job");
    }
    result
}

/// A handle on the writer thread; cheap to clone. The thread stops when the last handle is dropped.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread, which owns `conn` from now on. Automatic checkpoints are
    /// turned off on it: the `Checkpointer` does them on its own thread.
    pub fn start(conn: Connection) -> std::io::Result<Writer> {
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(std::io::Error::other)?;
        // When the WAL starts over after a checkpoint, give the disk space back past 64 MiB.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
            .map_err(std::io::Error::other)?;
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        thread::Builder::new()
            .name("ringback-writer".into())
            .spawn(move || serve(conn, queue))?;
        Ok(Writer { jobs })
    }

    /// Runs `work` as one job of the writer and waits, without blocking the runtime, for its
    /// answer after the commit. An `Err` from `work` rolls back only what `work` wrote.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(Task { work, reply }))
            .map_err(|_| E::from(DbError::WriterGone))?;
        answer.await.map_err(|_| E::from(DbError::WriterGone))?
    }
}

fn serve(conn: Connection, queue: mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = run(&conn, "BEGIN IMMEDIATE") {
            tracing::error!(db.error = %e, jobs = batch.len(), "could not open a write transaction");
            for job in batch {
                job.abort(e.to_string());
            }
            continue;
        }
        let answers: Vec<Deliver> = batch.into_iter().map(|job| job.run(&conn)).collect();
        let commit = run(&conn, "COMMIT").map_err(|e| {
            let _ = run(&conn, "ROLLBACK");
            e.to_string()
        });
        for answer in answers {
            answer(commit.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = super::super::open_write_connection(&dir.path().join("w.db")).expect("open");
        conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
            .expect("table");
        let writer = Writer::start(conn).expect("start");
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
    async fn a_failing_job_rolls_back_only_its_own_writes() {
        let (_dir, writer) = writer();
        // Jobs sent together land in the same group commit; every third one fails after writing.
        let jobs: Vec<_> = (0..30)
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
        let mut failed = 0;
        for job in jobs {
            if job.await.expect("join").is_err() {
                failed += 1;
            }
        }

        let rows = writer.run(count).await.expect("count");

        assert_eq!(failed, 10);
        assert_eq!(rows, 20);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_writer_goes_on() {
        let (_dir, writer) = writer();

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
}
