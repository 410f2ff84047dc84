//! The `ringback` binary as a child process, for the tests that kill it or read its logs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

pub struct Server {
    child: Child,
    pub address: String,
    lines: Arc<Mutex<Vec<String>>>,
    /// The process was waited for: its id may now belong to another.
    reaped: bool,
}

impl Server {
    /// Starts `ringback serve` on port 0 against `db` and waits for its address in the log.
    pub async fn start(dir: &Path, db: &Path, api_base: &str) -> Server {
        Server::start_with(dir, db, api_base, &[], None).await
    }

    /// Like `start`, with more `RINGBACK_*` variables and, if given, a descriptor limit.
    pub async fn start_with(
        dir: &Path,
        db: &Path,
        api_base: &str,
        env: &[(&str, &str)],
        max_open_files: Option<u32>,
    ) -> Server {
        let binary = env!("CARGO_BIN_EXE_ringback");
        let mut command = match max_open_files {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}")).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .current_dir(dir)
            .env("RINGBACK_WHATSAPP_API_BASE", api_base)
            .env("RUST_LOG", "debug")
            .envs(env.iter().copied());
        Server::spawn(command).await
    }

    /// Starts `command`, a server or something that starts one (Litestream's `-exec`), in a
    /// process group of its own; collects what it writes on stdout and stderr and waits for
    /// ringback's address in it.
    pub async fn spawn(mut command: Command) -> Server {
        use std::os::unix::process::CommandExt;
        let mut child = command
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ringback");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (found, address) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for output in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let collected = Arc::clone(&lines);
            let found = found.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(output).lines().map_while(Result::ok) {
                    // Kept before the address is announced: a test reading the log then sees
                    // the line.
                    collected.lock().expect("lock").push(line.clone());
                    if let Some(at) = line.find("listening on http://") {
                        let _ = found.send(
                            line[at + "listening on ".len()..]
                                .split(|c: char| c.is_whitespace() || c == '"')
                                .next()
                                .unwrap_or_default()
                                .to_string(),
                        );
                    }
                }
            });
        }
        let address =
            tokio::task::spawn_blocking(move || address.recv_timeout(Duration::from_secs(20)))
                .await
                .expect("join")
                .expect("the server did not report its address");
        Server {
            child,
            address,
            lines,
            reaped: false,
        }
    }

    /// SIGKILL to the whole process group: the server and whatever started it die together,
    /// with no chance to clean up, as when a box loses power.
    pub fn kill_group(mut self) {
        let pgid = nix::unistd::Pid::from_raw(i32::try_from(self.pid()).expect("pid"));
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
        self.reaped = true;
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.reaped = true;
    }

    /// SIGTERM, then waits for the exit; returns the exit code.
    pub async fn terminate(self) -> Option<i32> {
        self.sigterm();
        self.exit_code().await
    }

    /// Sends SIGTERM and returns at once.
    pub fn sigterm(&self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.pid()).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    }

    /// Waits for the process to exit; returns its exit code.
    pub async fn exit_code(mut self) -> Option<i32> {
        tokio::task::spawn_blocking(move || self.wait())
            .await
            .expect("join")
    }

    fn wait(&mut self) -> Option<i32> {
        let code = self.child.wait().expect("wait").code();
        self.reaped = true;
        code
    }

    /// Waits until the log has a line containing `text` (a test fails after 20 s).
    pub async fn wait_for_log(&self, text: &str) {
        crate::helpers::eventually(&format!("log line {text:?}"), || self.log().contains(text))
            .await;
    }

    /// The process's peak resident memory (`VmHWM`), in bytes.
    pub fn peak_memory(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("VmHWM")
            * 1024
    }

    pub fn log(&self) -> String {
        self.lines.lock().expect("lock").join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        // The whole group: a server started by Litestream dies with it.
        if let Ok(pid) = i32::try_from(self.pid()) {
            let pgid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
