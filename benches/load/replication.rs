//! What Litestream costs: the throughput phase's load (32 clients, unique callers, sandbox) on a
//! server run as deploy/ runs it, `litestream replicate -exec`, with a file replica on the same
//! disk, beside the same server alone. Rounds alternate, so that the machine's drift falls on
//! both sides.

use std::time::Duration;

use crate::drive::{Target, closed_loop};
use crate::seed;
use crate::server::{ServerProcess, config};

pub struct Replication {
    pub off_per_second: f64,
    pub on_per_second: f64,
    pub errors: usize,
}

pub async fn run(litestream: &std::path::Path, rounds: usize, duration: Duration) -> Replication {
    let (mut off, mut on, mut errors) = (Vec::new(), Vec::new(), 0);
    for round in 0..rounds {
        for replicated in [false, true] {
            let dir = tempfile::tempdir_in(std::env::temp_dir()).expect("tempdir");
            let db = dir.path().join("ringback.db");
            let restaurant = seed::restaurant(&db, "Bench", true);
            let toml = config(&db, "sandbox", "http://127.0.0.1:9");
            let server = if replicated {
                let replica = dir.path().join("replica");
                ServerProcess::start_replicated(dir.path(), &toml, litestream, &db, &replica)
            } else {
                ServerProcess::start(dir.path(), &toml)
            };
            let target = Target::new(
                &server.base,
                &restaurant.token,
                seed::numbers(50_000_000 + round as u64 * 1_000_000, 400_000),
            );
            closed_loop(&target, 32, Duration::from_secs(1)).await; // warm-up
            let stats = closed_loop(&target, 32, duration).await;
            println!(
                "      round {} {:<26} {}",
                round + 1,
                if replicated {
                    "under litestream -exec:"
                } else {
                    "alone:"
                },
                stats.summary()
            );
            errors += stats.errors;
            if replicated {
                on.push(stats.per_second());
            } else {
                off.push(stats.per_second());
            }
            server.stop();
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    Replication {
        off_per_second: mean(&off),
        on_per_second: mean(&on),
        errors,
    }
}
