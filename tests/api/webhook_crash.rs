//! SPEC §10 under SIGKILL: what the webhooks acknowledged survives the process, a Telnyx call's
//! retry survives a restart, and a send the crash interrupted is sent exactly once when
//! WhatsApp's status arrives — or at least once when it never does.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::Server;
use crate::webhook_kit::*;

struct Station {
    dir: tempfile::TempDir,
    db: std::path::PathBuf,
    restaurant: Seeded,
    whatsapp: FakeWhatsApp,
    keys: TelnyxKeys,
}

impl Station {
    async fn new() -> Station {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("ringback.db");
        let restaurant = {
            let conn = ringback::db::open(&db).expect("db");
            let seeded = seed_restaurant(&conn, "Chez Crash", "FR", "Europe/Paris");
            ringback::cli::restaurants::update_restaurant(
                &conn,
                &seeded.id,
                ringback::db::restaurants::RestaurantChanges {
                    telnyx_number: Some(Some(TELNYX_NUMBER.into())),
                    ..Default::default()
                },
            )
            .expect("Telnyx number");
            seeded
        };
        Station {
            dir,
            db,
            restaurant,
            whatsapp: FakeWhatsApp::start().await,
            keys: TelnyxKeys::new(),
        }
    }

    async fn start(&self, settle: &str, reconcile: &str) -> Server {
        let key = self.keys.public_key();
        Server::start_with(
            self.dir.path(),
            &self.db,
            &self.whatsapp.base_url,
            &[
                ("RINGBACK_TELNYX_PUBLIC_KEY", key.as_str()),
                ("RINGBACK_TELNYX_SETTLE_SECONDS", settle),
                ("RINGBACK_WHATSAPP_APP_SECRET", APP_SECRET),
                ("RINGBACK_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
                ("RINGBACK_WHATSAPP_RECONCILE_SECONDS", reconcile),
            ],
            None,
        )
        .await
    }

    fn keep_a_balance(&self, cents: i64, cost: i64) {
        ringback::cli::restaurants::update_restaurant(
            &ringback::db::open(&self.db).expect("db"),
            &self.restaurant.id,
            ringback::db::restaurants::RestaurantChanges {
                balance_cents: Some(Some(cents)),
                message_cost_cents: Some(cost),
                ..Default::default()
            },
        )
        .expect("balance");
    }

    fn query<T: rusqlite::types::FromSql>(&self, sql: &str) -> T {
        ringback::db::open(&self.db)
            .expect("db")
            .query_row(sql, [], |r| r.get(0))
            .expect("query")
    }

    fn query_row<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql>(
        &self,
        sql: &str,
    ) -> (A, B) {
        ringback::db::open(&self.db)
            .expect("db")
            .query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
    }

    async fn get_call(&self, server: &Server, id: &str) -> Value {
        reqwest::Client::new()
            .get(format!(
                "{}/api/partner/v1/missed-calls/{id}",
                server.address
            ))
            .bearer_auth(&self.restaurant.token)
            .send()
            .await
            .expect("get")
            .json::<Value>()
            .await
            .expect("json")["data"]
            .clone()
    }
}

fn session_events(session: &str) -> [Value; 2] {
    let event = |kind: &str, direction: Option<&str>| {
        telnyx_event(
            &format!("{session}-{kind}"),
            kind,
            session,
            &format!("{session}-leg"),
            direction,
            "+33612345678",
            TELNYX_NUMBER,
        )
    };
    [
        event("call.initiated", Some("incoming")),
        event("call.hangup", None),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_acknowledged_just_before_a_kill_are_all_processed_after_the_restart() {
    let b = Station::new().await;
    // Long enough that nothing settles before the kill.
    let server = b.start("3600", "120").await;
    let callers = 12;
    for n in 0..callers {
        let caller = format!("+336123450{n:02}");
        for mut event in session_events(&format!("kill-{n}")) {
            event["data"]["payload"]["from"] = json!(caller);
            let body = serde_json::to_vec(&event).expect("json");
            let (status, _) = post_telnyx_at(&server.address, &b.keys, now_secs(), &body).await;
            assert_eq!(status, 200);
        }
    }
    let stop =
        serde_json::to_vec(&text_reply("wamid.stop-kill", "33698765432", "STOP")).expect("json");
    assert_eq!(post_meta_at(&server.address, &stop).await.0, 200);

    server.kill();
    let server = b.start("0", "120").await;

    eventually("every acknowledged call is handled", || {
        b.query::<i64>("SELECT count(*) FROM calls WHERE outcome = 'SENT' AND source = 'TELNYX'")
            == callers
    })
    .await;
    assert_eq!(b.whatsapp.requests().len(), callers as usize);
    assert_eq!(
        b.query::<String>(
            "SELECT suppression_reason FROM customers WHERE phone_e164 = '+33698765432'"
        ),
        "reply"
    );
    drop(server);
}

/// Reports a call whose send the fake Cloud API holds; returns the server, the call's id and the
/// report still waiting for its answer.
async fn a_held_send(b: &Station, reconcile: &str) -> (Server, String, InFlight) {
    b.whatsapp.set(Behaviour::Hold);
    let server = b.start("5", reconcile).await;
    let in_flight = {
        let (address, token) = (server.address.clone(), b.restaurant.token.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{address}/api/partner/v1/missed-calls"))
                .bearer_auth(token)
                .json(&json!({"caller_phone_number": "+33612345678", "external_call_id": "pbx-crash"}))
                .send()
                .await
        })
    };
    b.whatsapp.wait_for_requests(1).await;
    let call_id = b.whatsapp.requests()[0].body["biz_opaque_callback_data"]
        .as_str()
        .expect("the call id rides with the message")
        .to_string();
    (server, call_id, in_flight)
}

type InFlight = tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>;

/// Kills the server while the send is held, and restarts it with WhatsApp accepting again.
async fn kill_and_restart(
    b: &Station,
    server: Server,
    in_flight: InFlight,
    reconcile: &str,
) -> Server {
    server.kill();
    assert!(
        in_flight.await.expect("join").is_err(),
        "the answer died with the process"
    );
    b.whatsapp.set(Behaviour::Accept);
    b.start("5", reconcile).await
}

/// A held send, killed, and the server restarted; returns the new server and the call's id.
async fn kill_during_a_send(b: &Station, reconcile: &str) -> (Server, String) {
    let (server, call_id, in_flight) = a_held_send(b, reconcile).await;
    (
        kill_and_restart(b, server, in_flight, reconcile).await,
        call_id,
    )
}

async fn replay(server: &Server, b: &Station) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/partner/v1/missed-calls", server.address))
        .bearer_auth(&b.restaurant.token)
        .json(&json!({"caller_phone_number": "+33612345678", "external_call_id": "pbx-crash"}))
        .send()
        .await
        .expect("replay");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_interrupted_by_a_crash_is_sent_when_whatsapps_status_says_so_and_never_again() {
    let b = Station::new().await;
    let (server, call_id) = kill_during_a_send(&b, "120").await;

    let (held, headers, body) = replay(&server, &b).await;
    assert_eq!(held, 409, "{body}");
    assert_eq!(body["error"]["code"], "CALL_IN_PROGRESS");
    let retry_after: u64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .expect("Retry-After in seconds");
    assert!(
        (100..=120).contains(&retry_after),
        "retry once the hold may be over: {retry_after}"
    );

    let status =
        serde_json::to_vec(&status_payload("wamid.crash-1", "sent", Some(&call_id))).expect("json");
    assert_eq!(post_meta_at(&server.address, &status).await.0, 200);

    let call = b.get_call(&server, &call_id).await;
    assert_eq!(call["outcome"], "SENT");
    assert_eq!(call["message_id"], "wamid.crash-1");
    assert_eq!(call["delivery_state"], "sent");
    assert_eq!(call["attempts"], 1);
    let (status, _, body) = replay(&server, &b).await;
    assert_eq!(status, 201);
    assert_eq!(body["data"]["outcome"], "SKIPPED_DUPLICATE");
    assert_eq!(body["data"]["original_outcome"], "SENT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b.whatsapp.requests().len(), 1, "exactly one message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_interrupted_by_a_crash_with_no_status_ends_failed_after_the_hold_and_a_replay_sends_once()
 {
    let b = Station::new().await;
    b.keep_a_balance(100, 10);
    let (server, call_id) = kill_during_a_send(&b, "3").await;
    // Read together: on a slow machine the hold may be over by the time of this first look.
    let (outcome, balance): (String, i64) = b.query_row(
        "SELECT c.outcome, r.balance_cents FROM calls c JOIN restaurants r ON r.id = c.restaurant_id",
    );
    assert!(
        matches!(
            (outcome.as_str(), balance),
            ("DISPATCHING", 90) | ("FAILED", 100)
        ),
        "held and still debited, or failed and refunded: {outcome} {balance}"
    );

    let mut call = Value::Null;
    for _ in 0..300 {
        call = b.get_call(&server, &call_id).await;
        if call["outcome"] == "FAILED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(call["outcome"], "FAILED", "{call}");
    assert_eq!(call["error"]["code"], "interrupted");
    assert_eq!(
        b.query::<i64>("SELECT balance_cents FROM restaurants"),
        100,
        "refunded"
    );
    let (status, _, body) = replay(&server, &b).await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["outcome"], "SENT");
    assert_eq!(body["data"]["id"], call_id.as_str());
    assert_eq!(body["data"]["attempts"], 2);
    assert_eq!(
        b.whatsapp.requests().len(),
        2,
        "the interrupted send and one more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_telnyx_calls_planned_retry_survives_a_restart() {
    let b = Station::new().await;
    b.whatsapp.fail_with(500, 2);
    let server = b.start("0", "120").await;
    for event in session_events("restart-retry") {
        let body = serde_json::to_vec(&event).expect("json");
        assert_eq!(
            post_telnyx_at(&server.address, &b.keys, now_secs(), &body)
                .await
                .0,
            200
        );
    }
    // Killed once the session is settled: what runs after the restart is the stored retry.
    eventually("the first attempt fails and its session is settled", || {
        b.query::<i64>(
            "SELECT count(*) FROM calls WHERE outcome = 'FAILED' AND next_attempt_at IS NOT NULL",
        ) == 1
            && b.query::<i64>("SELECT count(*) FROM telnyx_sessions WHERE settled_at IS NOT NULL")
                == 1
    })
    .await;

    server.kill();
    // The back-off ran out while the box was down.
    ringback::db::open(&b.db)
        .expect("db")
        .execute(
            "UPDATE calls SET next_attempt_at = ?1",
            [jiff::Timestamp::now().as_millisecond() - 1],
        )
        .expect("due");
    b.whatsapp.set(Behaviour::Accept);
    let server = b.start("0", "120").await;

    eventually("the retry is sent after the restart", || {
        b.query::<String>("SELECT outcome FROM calls") == "SENT"
    })
    .await;
    assert_eq!(b.query::<i64>("SELECT attempts FROM calls"), 2);
    assert_eq!(b.whatsapp.requests().len(), 2);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_heard_before_the_crash_makes_the_interrupted_send_sent_at_once_after_the_restart()
{
    let b = Station::new().await;
    let (server, call_id, in_flight) = a_held_send(&b, "120").await;
    // Meta's status outruns its own answer to the send, which the kill then loses.
    let status =
        serde_json::to_vec(&status_payload("wamid.early", "sent", Some(&call_id))).expect("json");
    assert_eq!(post_meta_at(&server.address, &status).await.0, 200);

    let server = kill_and_restart(&b, server, in_flight, "120").await;

    let call = b.get_call(&server, &call_id).await;
    assert_eq!(call["outcome"], "SENT", "{call}");
    assert_eq!(call["message_id"], "wamid.early");
    assert_eq!(call["delivery_state"], "sent");
    let (status, _, body) = replay(&server, &b).await;
    assert_eq!(status, 201);
    assert_eq!(body["data"]["outcome"], "SKIPPED_DUPLICATE");
    assert_eq!(b.whatsapp.requests().len(), 1, "exactly one message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_starts_no_new_detected_call_and_lets_the_ones_being_sent_finish() {
    let b = Station::new().await;
    b.whatsapp
        .set(Behaviour::Delay(Duration::from_millis(1500)));
    let server = b.start("0", "120").await;
    for n in 0..3 {
        for mut event in session_events(&format!("term-{n}")) {
            event["data"]["payload"]["from"] = json!(format!("+3361234560{n}"));
            let body = serde_json::to_vec(&event).expect("json");
            assert_eq!(
                post_telnyx_at(&server.address, &b.keys, now_secs(), &body)
                    .await
                    .0,
                200
            );
        }
    }
    b.whatsapp.wait_for_requests(1).await;

    let exit = server.terminate().await;

    assert_eq!(exit, Some(0));
    assert_eq!(
        b.query::<i64>("SELECT count(*) FROM calls WHERE outcome = 'DISPATCHING'"),
        0,
        "nothing left in flight"
    );
    assert_eq!(
        b.query::<i64>("SELECT count(*) FROM calls WHERE outcome = 'SENT'"),
        b.whatsapp.requests().len() as i64,
        "every send that started is recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_masks_the_numbers_of_a_call_to_a_telnyx_number_no_restaurant_holds() {
    let b = Station::new().await;
    let server = b.start("0", "120").await;
    let (caller, unknown) = ("+33698761234", "+33187659999");
    for kind in ["call.initiated", "call.hangup"] {
        let direction = (kind == "call.initiated").then_some("incoming");
        let event = telnyx_event(
            &format!("u-{kind}"),
            kind,
            "u-1",
            "u-leg",
            direction,
            caller,
            unknown,
        );
        let body = serde_json::to_vec(&event).expect("json");
        assert_eq!(
            post_telnyx_at(&server.address, &b.keys, now_secs(), &body)
                .await
                .0,
            200
        );
    }

    server
        .wait_for_log("a missed call to a Telnyx number no restaurant has")
        .await;

    let log = server.log();
    assert!(
        log.contains("+33187"),
        "the number's start identifies it: {log}"
    );
    assert!(!log.contains(unknown) && !log.contains(caller), "{log}");
    assert_eq!(b.query::<i64>("SELECT count(*) FROM calls"), 0);
}
