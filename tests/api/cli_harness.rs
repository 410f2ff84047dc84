//! The `ringback` binary run as an operator runs it, in a temporary directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub struct Cli {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Cli {
    /// A temporary directory with a migrated database and its key file, as `ringback migrate`
    /// leaves them.
    pub fn new() -> Cli {
        let cli = Cli::empty();
        drop(ringback::db::open(&cli.db).expect("create the database"));
        ringback::vault::Vault::create_if_missing(&cli.key_file()).expect("key file");
        cli
    }

    /// The key file beside the database, where every command looks for it by default.
    pub fn key_file(&self) -> PathBuf {
        self.path(ringback::config::KEY_FILE_NAME)
    }

    /// The restaurant's access token as stored, opened with the key file; `None` without one.
    pub fn access_token(&self, restaurant_id: &str) -> Option<String> {
        let sealed: Option<Vec<u8>> = self
            .db()
            .query_row(
                "SELECT wa_access_token_sealed FROM restaurants WHERE id = ?1",
                [restaurant_id],
                |r| r.get(0),
            )
            .expect("restaurant");
        let vault = ringback::vault::Vault::load(&self.key_file());
        sealed.map(|s| {
            vault
                .open(restaurant_id, &ringback::vault::Sealed(s))
                .expect("the token opens with the key file")
                .expose()
                .to_string()
        })
    }

    /// A temporary directory without any database.
    pub fn empty() -> Cli {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("cli.db");
        Cli { dir, db }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[], None)
    }

    /// Runs with more environment variables and, if given, this on stdin.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        let mut all = vec!["--db", self.db.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        ringback_in(self.dir.path(), &all, env, stdin)
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that prints one new id; checks it is the only line.
    pub fn new_id(&self, args: &[&str]) -> String {
        let stdout = self.ok(args);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?} printed {stdout:?}");
        lines[0].to_string()
    }

    pub fn json(&self, args: &[&str]) -> Vec<Value> {
        let stdout = self.ok(args);
        serde_json::from_str::<Value>(&stdout)
            .expect("one JSON array")
            .as_array()
            .expect("array")
            .clone()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A direct connection to the database, to arrange or inspect it.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("db")
    }
}

/// Runs `ringback ARGS` in `dir`, with only the environment a test gives it of `RINGBACK_*`.
pub fn ringback_in(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ringback"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("RINGBACK_ACCESS_TOKEN")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run ringback");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait for ringback")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn restaurant(cli: &Cli) -> String {
    cli.new_id(&[
        "restaurant",
        "add",
        "--name",
        "Chez CLI",
        "--country",
        "fr",
        "--timezone",
        "Europe/Paris",
        "--booking-url",
        "https://book.example.com/cli",
    ])
}
