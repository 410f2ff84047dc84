//! Logging: `tracing` to stderr, as text or one JSON object per line (`log.format`), filtered by
//! `log.level` (or `RUST_LOG`, when set, for a one-off debugging session); and the metrics the
//! pipeline and the edge record, which `ops` exports.

pub mod metrics;

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

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

/// Installs the process-wide subscriber. Safe to call more than once (later calls do nothing).
pub fn init(log: &LogConfig) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(&log.level))
        .with_writer(std::io::stderr)
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
