//! Logging: `tracing` to stderr, as text or one JSON object per line (`log.format`), filtered by
//! `log.level` (or `RUST_LOG`, when set, for a one-off debugging session); and the metrics the
//! pipeline and the edge record, which `ops` exports.

pub mod metrics;

use std::io::{IsTerminal, Write};
use std::time::Duration;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use crate::config::{LogConfig, LogFormat};

/// Crates whose debug output would show request headers, and so the WhatsApp access token.
/// They stay at `warn` whatever the level says.
const QUIET: [&str; 3] = ["ureq=warn", "ureq_proto=warn", "hyper=warn"];

fn filter(default: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in QUIET {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// Keeps a server's log thread until the process ends: dropped, it writes every line still
/// waiting. Hold it to the end of `main`, and drop it before writing to stderr directly.
#[must_use]
pub struct LogGuard {
    _worker: Option<WorkerGuard>,
}

/// Installs the process-wide subscriber. Safe to call more than once (later calls do nothing).
///
/// A server's lines are written by a thread of their own, not by the thread that logs them (see
/// [`Batched`]); a command's go straight to stderr, in order with what else it prints there.
pub fn init(log: &LogConfig, server: bool) -> LogGuard {
    if !server {
        install(log, BoxMakeWriter::new(std::io::stderr));
        return LogGuard { _worker: None };
    }
    // Not lossy: past the buffer's 128 000 lines a stalled stderr holds the logging thread up,
    // as a direct write would, rather than losing lines.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("ringback-log")
        .finish(Batched::stderr());
    install(log, BoxMakeWriter::new(writer));
    LogGuard {
        _worker: Some(guard),
    }
}

fn install(log: &LogConfig, writer: BoxMakeWriter) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(&log.level))
        .with_writer(writer)
        .with_target(false);
    let _ = match log.format {
        // Colour codes only for a person at a terminal, never in a log file.
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        // One object per line, the event's fields at the top level beside the request's span
        // (route, request id), so that a collector can index them.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// stderr as the log thread writes it: the lines waiting when it wakes leave in one write, then it
/// sleeps `LINGER` before looking again. Under load, a write carries the lines of many reports and
/// nobody wakes the thread per line; a line reaches stderr at most `LINGER` after it is logged.
struct Batched<W: Write> {
    out: W,
    lines: Vec<u8>,
    linger: Duration,
}

const LINGER: Duration = Duration::from_millis(2);
/// Past this many bytes waiting, they are written without waiting for the next flush.
const MAX_BATCH: usize = 64 * 1024;

impl Batched<std::io::Stderr> {
    fn stderr() -> Self {
        Batched {
            out: std::io::stderr(),
            lines: Vec::with_capacity(MAX_BATCH),
            linger: LINGER,
        }
    }
}

impl<W: Write> Write for Batched<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.lines.len() + buf.len() > MAX_BATCH {
            self.write_out()?;
        }
        self.lines.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// The log thread calls it when no line is waiting.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.lines.is_empty() {
            return Ok(());
        }
        let written = self.write_out();
        std::thread::sleep(self.linger);
        written
    }
}

impl<W: Write> Batched<W> {
    fn write_out(&mut self) -> std::io::Result<()> {
        let written = self.out.write_all(&self.lines);
        // What stderr refused is not tried again: the next write would repeat the lines it took.
        self.lines.clear();
        written
    }
}

/// The reason a server stops with an error, as a log event.
pub fn fatal(reason: &str) {
    if tracing::enabled!(tracing::Level::ERROR) {
        tracing::error!(reason, "ringback stopped with an error");
    } else {
        // A level that hides errors must not make the exit silent.
        eprintln!("ringback: {reason}");
    }
}

/// With JSON logs, a panic is reported as one JSON event too, so that the line that matters
/// most is not the one a log collector cannot read. Text logs keep Rust's own report.
pub fn log_panics(log: &LogConfig) {
    if log.format != LogFormat::Json {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        // Captured only when RUST_BACKTRACE asks for it, as Rust's own report does.
        let backtrace = std::backtrace::Backtrace::capture();
        tracing::error!(
            thread = thread.name().unwrap_or("unnamed"),
            panic = %info,
            backtrace = %backtrace,
            "a thread panicked"
        );
    }));
}

/// For tests: logs go to the test harness's captured output, and only when `TEST_LOG` is set.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter("debug"))
            .with_test_writer()
            .try_init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the writes that reach it, as stderr would receive them.
    #[derive(Default)]
    struct Counted {
        writes: Vec<Vec<u8>>,
    }

    impl Write for Counted {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.writes.push(buf.to_vec());
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn batched() -> Batched<Counted> {
        Batched {
            out: Counted::default(),
            lines: Vec::new(),
            linger: Duration::ZERO,
        }
    }

    #[test]
    fn the_lines_waiting_when_the_log_thread_flushes_leave_in_one_write() {
        let mut log = batched();
        for line in ["one\n", "two\n", "three\n"] {
            log.write_all(line.as_bytes()).expect("buffered");
        }
        assert!(log.out.writes.is_empty(), "nothing leaves before the flush");
        log.flush().expect("flushed");
        assert_eq!(log.out.writes, vec![b"one\ntwo\nthree\n".to_vec()]);
        log.flush().expect("flushed");
        assert_eq!(log.out.writes.len(), 1, "an empty flush writes nothing");
    }

    #[test]
    fn lines_past_the_batch_limit_are_written_without_waiting_for_the_flush() {
        let mut log = batched();
        let line = vec![b'x'; MAX_BATCH / 2 + 1];
        log.write_all(&line).expect("written");
        log.write_all(&line).expect("written");
        assert_eq!(log.out.writes, vec![line.clone()]);
        log.flush().expect("flushed");
        assert_eq!(log.out.writes, vec![line.clone(), line]);
    }
}
