//! SQLite's raw durable-commit rate on this disk: the ceiling one report per commit would have.

use std::path::Path;
use std::time::{Duration, Instant};

/// Commits per second of one single-row INSERT per transaction, WAL, synchronous = FULL.
pub fn durable_commit_rate(dir: &Path, duration: Duration) -> f64 {
    let conn = rusqlite::Connection::open(dir.join("raw.db")).expect("open");
    // The page size ringback creates its databases with, so that the two commit alike.
    conn.execute_batch("PRAGMA page_size = 1024;")
        .expect("page size");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
    )
    .expect("setup");
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < duration {
        conn.execute_batch("BEGIN").expect("begin");
        conn.execute("INSERT INTO t (v) VALUES (?1)", ["+33612345678"])
            .expect("insert");
        conn.execute_batch("COMMIT").expect("commit");
        commits += 1;
    }
    commits as f64 / started.elapsed().as_secs_f64()
}
