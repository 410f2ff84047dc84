//! What a report costs over the throughput phase, beside the HTTP layer alone, and the
//! throughput those costs leave room for on this machine.

use std::time::Duration;

use crate::Verdicts;
use crate::drive::{self, Target, closed_loop};
use crate::seed;
use crate::server::ServerProcess;

/// What the HTTP layer alone costs per request under 32 clients, the load SPEC §11 measures
/// reports under: (CPU µs, bytes written, requests/s).
pub async fn http_only(dir: &std::path::Path, duration: Duration) -> (f64, f64, f64) {
    let server = ServerProcess::start_baseline(dir);
    let target = Target::new(&server.base, "-", seed::numbers(90_000_000, 400_000));
    closed_loop(&target, 32, Duration::from_secs(1)).await; // warm-up
    let before = server.usage();
    let stats = closed_loop(&target, 32, duration).await;
    let (cpu, written) = server
        .usage()
        .per_request_since(before, stats.latencies.len());
    server.stop();
    (cpu, written, stats.per_second())
}

/// The server's (CPU µs, bytes) per report, the load generator's CPU µs per report, the HTTP
/// layer's figures, and the ceiling: the throughput at which every core would be busy at these
/// costs, `cores × 1 s ÷ (server + load)`, the load generator running on the same cores. Not a
/// strict bound: larger batches cost a little less per report, and other processes on the
/// machine take their share.
pub fn print(cost: (f64, f64), load_cpu: f64, http_only: (f64, f64, f64), raw: f64) {
    println!(
        "\n[cost] per report over the throughput phase (server process: utime + stime, write_bytes)"
    );
    println!(
        "      ringback:   {:>6.0} µs CPU  {:>7.0} bytes written ({:.1} KiB)",
        cost.0,
        cost.1,
        cost.1 / 1024.0
    );
    println!(
        "      HTTP alone: {:>6.0} µs CPU  {:>7.0} bytes written  (an axum handler parsing the JSON, {:.0} requests/s)",
        http_only.0, http_only.1, http_only.2
    );
    println!(
        "      the load generator, on the same cores: {load_cpu:>4.0} µs CPU per report (this process)"
    );
    let ceiling = crate::cores() as f64 * 1e6 / (cost.0 + load_cpu).max(1.0);
    println!(
        "      every core busy at these costs would carry {ceiling:.0} reports/s, {:.2} × the raw rate",
        ceiling / raw
    );
}

pub fn add_verdicts(
    verdicts: &mut Verdicts,
    throughput: &drive::Stats,
    raw: f64,
    cost: (f64, f64),
) {
    let ratio = throughput.per_second() / raw;
    verdicts.add(
        "reports/s ≥ 1.5 × raw commit rate (32 clients)",
        format!("{ratio:.2} × ({:.0} vs {raw:.0})", throughput.per_second()),
        ratio >= 1.5 && throughput.errors == 0,
    );
    let p99 = throughput.percentile_ms(99.0);
    verdicts.add(
        "p99 ≤ 25 ms at saturation (32 clients)",
        format!("{p99:.2} ms"),
        p99 <= 25.0,
    );
    verdicts.add(
        "CPU per report ≤ 120 µs",
        format!("{:.0} µs", cost.0),
        cost.0 <= 120.0,
    );
    verdicts.add(
        "written per report ≤ 12 KiB",
        format!("{:.1} KiB ({:.0} bytes)", cost.1 / 1024.0, cost.1),
        cost.1 <= 12.0 * 1024.0,
    );
}
