//! The server under test: the release `ringback` binary in its own process, so that its memory
//! is measured apart from the load generator's.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct ServerProcess {
    child: Child,
    pub base: String,
}

impl ServerProcess {
    /// Starts `ringback serve` with `config` (TOML) and waits for its address.
    pub fn start(dir: &Path, config: &str) -> ServerProcess {
        let config_path = dir.join("bench.toml");
        std::fs::write(&config_path, config).expect("write config");
        let mut command = Command::new(env!("CARGO_BIN_EXE_ringback"));
        command.arg("--config").arg(&config_path).arg("serve");
        ServerProcess::spawn(dir, command)
    }

    /// Starts `ringback serve` with `config` under `litestream replicate -exec`, replicating to
    /// the folder `replica` with Litestream's defaults, as deploy/ runs it.
    pub fn start_replicated(
        dir: &Path,
        config: &str,
        litestream: &Path,
        db: &Path,
        replica: &Path,
    ) -> ServerProcess {
        let config_path = dir.join("bench.toml");
        std::fs::write(
            &config_path,
            config.replace("[database]\n", "[database]\nreplication = \"litestream\"\n"),
        )
        .expect("write config");
        let litestream_config = dir.join("litestream.yml");
        std::fs::write(
            &litestream_config,
            format!(
                "dbs:\n  - path: {}\n    replica:\n      type: file\n      path: {}\n",
                db.display(),
                replica.display()
            ),
        )
        .expect("write litestream config");
        let exec = format!(
            "{} --config {} serve",
            env!("CARGO_BIN_EXE_ringback"),
            config_path.display()
        );
        let mut command = Command::new(litestream);
        command
            .arg("replicate")
            .arg("-config")
            .arg(&litestream_config)
            .args(["-exec", &exec]);
        ServerProcess::spawn(dir, command)
    }

    /// Starts the HTTP-only baseline: this benchmark binary again, as an axum handler alone.
    pub fn start_baseline(dir: &Path) -> ServerProcess {
        let mut command = Command::new(std::env::current_exe().expect("benchmark binary"));
        command.arg(crate::baseline::SERVE_ARG);
        ServerProcess::spawn(dir, command)
    }

    fn spawn(dir: &Path, mut command: Command) -> ServerProcess {
        let mut child = command
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ringback");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        // Reads the log to the end, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let _ = tx.send(
                        line[at + "listening on ".len()..]
                            .split(|c: char| c.is_whitespace() || c == '"')
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server did not start");
        ServerProcess { child, base }
    }

    /// The most resident memory the process has used so far (VmHWM), in kB.
    pub fn peak_rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// What the server process has used so far: see [`Usage::of`].
    pub fn usage(&self) -> Usage {
        Usage::of(self.child.id())
    }

    /// SIGTERM and wait: a clean stop, as an operator would do it.
    pub fn stop(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// `USER_HZ`, the unit of `/proc/PID/stat`'s times: 100 on every Linux ringback runs on.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// What a process has used: CPU time and bytes written to disk.
#[derive(Clone, Copy, Default)]
pub struct Usage {
    pub cpu: Duration,
    pub write_bytes: u64,
}

impl Usage {
    /// The CPU time a process has used and the bytes it has caused to be written to disk, so
    /// far (`/proc/PID/stat` utime + stime, `/proc/PID/io` write_bytes).
    pub fn of(pid: u32) -> Usage {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // utime and stime are fields 14 and 15 of stat(5): 12 and 13 after the name and state.
        let cpu_ticks = ticks(11) + ticks(12);
        let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
        let write_bytes = io
            .lines()
            .find_map(|l| l.strip_prefix("write_bytes:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        Usage {
            cpu: Duration::from_secs_f64(cpu_ticks as f64 / CLOCK_TICKS_PER_SECOND),
            write_bytes,
        }
    }

    /// What was used between `before` and `self`, per one of `count` requests: CPU µs and bytes.
    pub fn per_request_since(&self, before: Usage, count: usize) -> (f64, f64) {
        let count = count.max(1) as f64;
        (
            (self.cpu.saturating_sub(before.cpu)).as_secs_f64() * 1e6 / count,
            self.write_bytes.saturating_sub(before.write_bytes) as f64 / count,
        )
    }
}

pub fn config(db: &Path, transport: &str, api_base: &str) -> String {
    format!(
        // The per-token rate limit is off: one token drives the whole load; and so is the cap
        // on connections per address: one load generator stands for many clients.
        "[server]\nlisten = \"127.0.0.1:0\"\nrate_limit_per_minute = 0\n\
         max_connections_per_address = 0\n[database]\npath = {db:?}\n\
         [whatsapp]\ntransport = \"{transport}\"\napi_base = \"{api_base}\"\n"
    )
}

/// The sandbox configuration with both webhooks on: Telnyx's public key (base64), Meta's app
/// secret and verify token, and the delay after which a closed call session settles.
pub fn webhook_config(
    db: &Path,
    telnyx_public_key: &str,
    app_secret: &str,
    verify_token: &str,
    settle_seconds: u32,
) -> String {
    // `config` ends in the [whatsapp] table, which the secrets belong to.
    format!(
        "{}app_secret = \"{app_secret}\"\nverify_token = \"{verify_token}\"\n\
         [telnyx]\npublic_key = \"{telnyx_public_key}\"\nsettle_seconds = {settle_seconds}\n",
        config(db, "sandbox", "http://127.0.0.1:9")
    )
}
