//! SPEC §6.3: the demo seeds a restaurant, prints its token and two curl commands that work as
//! pasted, and serves.

use std::process::Command;

use serde_json::Value;

use crate::cli::Cli;

/// The demo's process, stopped when the test ends, passed or failed.
struct Demo(std::process::Child);

impl Demo {
    /// `ringback demo` on port 0 in `dir`, its stdout and stderr piped to the test.
    fn start(dir: &std::path::Path) -> Demo {
        Demo(
            Command::new(env!("CARGO_BIN_EXE_ringback"))
                .args(["demo", "--listen", "127.0.0.1:0"])
                .current_dir(dir)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("demo"),
        )
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The commands in what the demo printed: each starts with `curl ` and goes on while its line
/// ends with a backslash, as a shell reads it pasted.
fn curl_commands(printed: &str) -> Vec<String> {
    let mut commands: Vec<String> = Vec::new();
    let mut open = false;
    for line in printed.lines() {
        if line.starts_with("curl ") {
            commands.push(String::new());
            open = true;
        }
        if open {
            let command = commands.last_mut().expect("a command");
            command.push_str(line);
            command.push('\n');
            open = line.ends_with('\\');
        }
    }
    commands
}

/// Runs a printed command through `sh`, as pasted, with curl writing the status after the body.
fn run_pasted(command: &str) -> (u16, Value) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{} -w '\\n%{{http_code}}'", command.trim_end()))
        .output()
        .expect("sh and curl");
    assert!(
        out.status.success(),
        "{command}: {} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let (body, status) = stdout.rsplit_once('\n').expect("a status after the body");
    (
        status.parse().expect("a status"),
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}")),
    )
}

#[test]
fn the_demo_seeds_a_restaurant_and_prints_the_token_and_two_curl_commands_that_send() {
    let cli = Cli::empty();
    let (_demo, printed) = started_demo(cli.dir.path());

    assert!(cli.path("ringback-demo.db").exists());
    // Its key file, beside its database, private (SPEC §8.2).
    use std::os::unix::fs::PermissionsExt;
    let key = std::fs::metadata(cli.path("ringback.key")).expect("the demo made its key file");
    assert_eq!((key.len(), key.permissions().mode() & 0o777), (32, 0o600));
    let token_line = printed
        .lines()
        .find(|l| l.starts_with("Partner token: "))
        .expect("token line");
    assert!(token_line["Partner token: ".len()..].starts_with("rbk_"));
    let commands = curl_commands(&printed);
    assert_eq!(commands.len(), 2, "{printed}");
    // The demo prints its commands once it listens: they are answered at once.
    let (status, unknown) = run_pasted(&commands[0]);
    assert_eq!(status, 201, "{unknown}");
    assert_eq!(unknown["data"]["outcome"], "SENT");
    assert_eq!(unknown["data"]["template_type"], "MISSED_CALL");
    assert_eq!(unknown["data"]["reservation_id"], Value::Null);
    let (status, booked) = run_pasted(&commands[1]);
    assert_eq!(status, 201, "{booked}");
    assert_eq!(booked["data"]["outcome"], "SENT");
    assert_eq!(
        booked["data"]["template_type"],
        "MISSED_CALL_WITH_RESERVATION"
    );
    let reservation = booked["data"]["reservation_id"]
        .as_str()
        .unwrap_or_default();
    assert!(reservation.starts_with("res_"), "{booked}");
    let message = booked["data"]["message_id"].as_str().unwrap_or_default();
    assert!(message.starts_with("sandbox."), "{booked}");
}

#[test]
fn the_demo_serves_on_when_its_output_is_closed_before_it_prints() {
    let cli = Cli::new();
    let mut demo = Demo::start(cli.dir.path());

    // As `ringback demo | head -n 3` once head has exited.
    drop(demo.0.stdout.take());
    // The address, from the start-up line of the log (port 0: the kernel picked it).
    let stderr = demo.0.stderr.take().expect("stderr");
    let port: u16 = std::io::BufRead::lines(std::io::BufReader::new(stderr))
        .map_while(Result::ok)
        .find_map(|line| {
            let at = line.find("listening on http://127.0.0.1:")?;
            let rest = &line[at + "listening on http://127.0.0.1:".len()..];
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .expect("the demo logs its address");

    let started = std::time::Instant::now();
    loop {
        if let Some(status) = demo.0.try_wait().expect("wait") {
            panic!("the demo stopped: {status}");
        }
        if healthz(port).is_some_and(|answer| answer.starts_with("HTTP/1.1 200")) {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no answer"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `GET /healthz`'s raw answer, or `None` when nothing answers yet.
fn healthz(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

/// Starts the demo in `dir` and reads what it prints up to its last line (the LAN's). The rest is
/// read to the end on a thread of its own: a pipe closed early would fail the demo's printing.
fn started_demo(dir: &std::path::Path) -> (Demo, String) {
    let mut demo = Demo::start(dir);
    let stdout = demo.0.stdout.take().expect("stdout");
    let (lines, printed_lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut printed = String::new();
    for line in printed_lines.iter() {
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("From another machine on the LAN") {
            break;
        }
    }
    (demo, printed)
}

fn line_starting<'a>(printed: &'a str, start: &str) -> &'a str {
    printed
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in {printed}"))
}

#[test]
fn the_demo_run_again_reuses_its_restaurant_and_token_and_its_new_commands_answer_as_their_comments_say()
 {
    // Arrange: a first run, whose two commands are sent.
    let cli = Cli::empty();
    let (first, printed) = started_demo(cli.dir.path());
    for command in curl_commands(&printed) {
        assert_eq!(run_pasted(&command).0, 201);
    }
    drop(first);

    // Act: the demo again, on the same database, within the 6-hour cooldown.
    let (_second, again) = started_demo(cli.dir.path());

    // Assert: the same restaurant and token, one demo token, and commands that still send.
    assert_eq!(
        line_starting(&again, "Partner token: "),
        line_starting(&printed, "Partner token: ")
    );
    assert_eq!(
        line_starting(&again, "ringback demo: "),
        line_starting(&printed, "ringback demo: ")
    );
    let db = rusqlite::Connection::open(cli.path("ringback-demo.db")).expect("demo db");
    let tokens: i64 = db
        .query_row(
            "SELECT count(*) FROM partner_tokens WHERE revoked_at IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("tokens");
    assert_eq!(tokens, 1);
    let commands = curl_commands(&again);
    assert_ne!(
        commands,
        curl_commands(&printed),
        "fresh numbers and call ids"
    );
    let (status, unknown) = run_pasted(&commands[0]);
    assert_eq!(status, 201, "{unknown}");
    assert_eq!(unknown["data"]["outcome"], "SENT", "{again}");
    assert_eq!(unknown["data"]["template_type"], "MISSED_CALL");
    let (status, booked) = run_pasted(&commands[1]);
    assert_eq!(status, 201, "{booked}");
    assert_eq!(booked["data"]["outcome"], "SENT", "{again}");
    assert_eq!(
        booked["data"]["template_type"],
        "MISSED_CALL_WITH_RESERVATION"
    );
    // How to run the command line on it, and how to reach it from the LAN.
    let cli_line = line_starting(&again, "Command line on this database: ");
    assert!(
        cli_line.ends_with("ringback --db ringback-demo.db calls list"),
        "{cli_line}"
    );
    let lan = line_starting(&again, "From another machine on the LAN");
    assert!(lan.contains("--listen 0.0.0.0:"), "{lan}");
}

#[test]
fn the_command_line_run_beside_the_demo_s_database_without_db_says_how_to_reach_it() {
    // Arrange: the demo's database in the folder, as a demo leaves it.
    let cli = Cli::empty();
    let (demo, _) = started_demo(cli.dir.path());
    drop(demo);

    // Act: a command run there as the README's reader would, without --db.
    let out = crate::cli_harness::ringback_in(cli.dir.path(), &["calls", "list"], &[], None);

    // Assert
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("pass --db ringback-demo.db"), "{said}");
    assert!(!cli.path("ringback.db").exists(), "nothing was created");
}

#[test]
fn a_revoked_demo_token_is_replaced_by_the_next_run_and_the_new_one_sends() {
    // Arrange: a demo whose token was revoked, as a leaked one would be.
    let cli = Cli::empty();
    let (first, printed) = started_demo(cli.dir.path());
    drop(first);
    let db = cli.path("ringback-demo.db");
    let demo_db = db.to_str().expect("path");
    let listed = crate::cli_harness::ringback_in(
        cli.dir.path(),
        &["--db", demo_db, "token", "list", "--json"],
        &[],
        None,
    );
    let tokens: Value = serde_json::from_slice(&listed.stdout).expect("json");
    let id = tokens[0]["id"].as_str().expect("token id");
    let revoked = crate::cli_harness::ringback_in(
        cli.dir.path(),
        &["--db", demo_db, "token", "revoke", id],
        &[],
        None,
    );
    assert!(revoked.status.success());

    // Act
    let (_second, again) = started_demo(cli.dir.path());

    // Assert: another token, which works.
    assert_ne!(
        line_starting(&again, "Partner token: "),
        line_starting(&printed, "Partner token: ")
    );
    let (status, answer) = run_pasted(&curl_commands(&again)[0]);
    assert_eq!(status, 201, "{answer}");
}
