//! SPEC §6.4 "The ledger never wedges": a full disk, a storage fault inside a group commit, a
//! full write queue, and a slow Cloud API with every dispatch thread busy.

use std::path::Path;
use std::sync::atomic::Ordering;

use ringback::db::restaurants::RestaurantChanges;
use rusqlite::Connection;
use serde_json::json;

use crate::disk::SmallDisk;
use crate::helpers::*;

fn outcomes(db: &Path, restaurant_id: &str) -> Vec<(String, String)> {
    let conn = Connection::open(db).expect("db");
    let mut stmt = conn
        .prepare("SELECT id, outcome FROM calls WHERE restaurant_id = ?1")
        .expect("prepare");
    stmt.query_map([restaurant_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_mid_load_loses_nothing_acknowledged_and_sends_nothing_twice() {
    // Arrange: the database on a 3 MiB tmpfs; five sends held at the fake Cloud API.
    let disk = SmallDisk::mount("3m");
    let app = spawn_app_with(|c| {
        c.database.path = disk.path("ringback.db");
        c.whatsapp.timeout_ms = 30_000;
    })
    .await;
    app.update_restaurant(RestaurantChanges {
        balance_cents: Some(Some(10_000)),
        message_cost_cents: Some(10),
        ..Default::default()
    });
    let quiet = app.other_restaurant("Chez Charge", "FR", "Europe/Paris");
    ringback::cli::restaurants::update_restaurant(
        &app.db(),
        &quiet.id,
        RestaurantChanges {
            missed_calls_enabled: Some(false),
            ..Default::default()
        },
    )
    .expect("feature off");
    app.whatsapp.set(Behaviour::Hold);
    let held: Vec<_> = (0..5)
        .map(|i| {
            let (address, token) = (app.address.clone(), app.restaurant.token.clone());
            let body = json!({"caller_phone_number": format!("+3361234560{i}"),
                              "external_call_id": format!("held-{i}")});
            tokio::spawn(async move { post_json(&address, &token, &body).await })
        })
        .collect();
    app.whatsapp.wait_for_requests(5).await;

    // Act: the disk fills; reports keep coming until the database cannot commit.
    disk.fill();
    let mut acknowledged = Vec::new();
    let mut unavailable = 0;
    for i in 0..5_000 {
        let body = json!({"caller_phone_number": format!("+336{:08}", i), "external_call_id": format!("load-{i}")});
        let (status, answer) = post_json(&app.address, &quiet.token, &body).await;
        match status {
            201 => acknowledged.push(answer["data"]["id"].as_str().expect("id").to_string()),
            503 => {
                assert_eq!(answer["error"]["code"], "STORAGE_UNAVAILABLE", "{answer}");
                unavailable += 1;
                if unavailable == 20 {
                    break;
                }
            }
            other => panic!("a report on a full disk answered {other}: {answer}"),
        }
    }
    app.whatsapp.release();
    let mut held_answers = Vec::new();
    for answer in held {
        held_answers.push(answer.await.expect("join"));
    }
    let (in_progress, _) = post_json(
        &app.address,
        &app.restaurant.token,
        &json!({"caller_phone_number": "+33612345600", "external_call_id": "held-0"}),
    )
    .await;
    disk.free();

    // Assert
    assert_eq!(unavailable, 20, "the full disk was noticed");
    for (status, answer) in &held_answers {
        assert_eq!(
            *status, 503,
            "a send whose result could not be stored: {answer}"
        );
        assert_eq!(answer["error"]["code"], "STORAGE_UNAVAILABLE");
        assert!(
            answer["error"]["details"]["call_id"].is_string(),
            "{answer}"
        );
    }
    assert_eq!(
        in_progress, 409,
        "a replay while the result is not stored yet"
    );
    eventually("every held result stored once space returned", || {
        outcomes(&app.db_path, &app.restaurant.id)
            .iter()
            .all(|(_, o)| o != "DISPATCHING")
    })
    .await;
    for i in 0..5 {
        let body = json!({"caller_phone_number": format!("+3361234560{i}"), "external_call_id": format!("held-{i}")});
        let (status, replay) = post_json(&app.address, &app.restaurant.token, &body).await;
        assert_eq!(status, 201, "{replay}");
        assert_eq!(replay["data"]["outcome"], "SKIPPED_DUPLICATE");
        assert_eq!(replay["data"]["original_outcome"], "SENT");
    }
    assert_eq!(app.whatsapp.requests().len(), 5, "nothing was sent twice");
    let stored: Vec<String> = outcomes(&app.db_path, &quiet.id)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(
        acknowledged.iter().all(|id| stored.contains(id)),
        "every 201 is in the ledger"
    );
    assert_eq!(
        stored.len(),
        acknowledged.len(),
        "no row for a 503, none lost"
    );
    assert_eq!(app.balance(), Some(10_000 - 5 * 10), "five messages paid");
    let (status, _) = post_json(
        &app.address,
        &quiet.token,
        &json!({"caller_phone_number": "+33699999999"}),
    )
    .await;
    assert_eq!(status, 201, "service resumed by itself");
}

/// A WhatsApp that takes every message, but only once the test says so: a send that holds its
/// dispatch thread for as long as the test needs, whatever `timeout_ms` says.
struct Stalled {
    released: std::sync::Mutex<bool>,
    wake: std::sync::Condvar,
    sends: std::sync::atomic::AtomicUsize,
}

impl Stalled {
    fn release(&self) {
        *self.released.lock().expect("lock") = true;
        self.wake.notify_all();
    }
}

impl ringback::whatsapp::Transport for Stalled {
    fn send(&self, message: &ringback::whatsapp::Outgoing) -> ringback::whatsapp::DispatchResult {
        self.sends.fetch_add(1, Ordering::SeqCst);
        let mut released = self.released.lock().expect("lock");
        while !*released {
            released = self.wake.wait(released).expect("wait");
        }
        ringback::whatsapp::DispatchResult::Sent {
            message_id: format!("wamid.{}", message.call_id),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_waits_past_timeout_ms_for_a_dispatch_thread_ends_failed_busy_and_refunded() {
    let stalled = std::sync::Arc::new(Stalled {
        released: std::sync::Mutex::new(false),
        wake: std::sync::Condvar::new(),
        sends: std::sync::atomic::AtomicUsize::new(0),
    });
    let app = spawn_app_with_transport(
        |c| {
            c.whatsapp.dispatch_threads = 1;
            c.whatsapp.timeout_ms = 200;
        },
        Some(stalled.clone()),
    )
    .await;
    app.update_restaurant(RestaurantChanges {
        balance_cents: Some(Some(1_000)),
        message_cost_cents: Some(10),
        ..Default::default()
    });
    let report = |i: usize| {
        let (address, token) = (app.address.clone(), app.restaurant.token.clone());
        let body = json!({"caller_phone_number": format!("+3361234500{i}"), "external_call_id": format!("slow-{i}")});
        tokio::spawn(async move { post_json(&address, &token, &body).await })
    };
    let first = report(0);
    while stalled.sends.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }

    // The only dispatch thread is taken: these three wait for it, and give up.
    let mut waiting = Vec::new();
    for i in 1..4 {
        waiting.push(report(i).await.expect("join"));
    }
    stalled.release();
    let (first_status, _) = first.await.expect("join");

    assert_eq!(first_status, 201, "the send that had the thread went out");
    for (status, answer) in &waiting {
        assert_eq!(*status, 502, "{answer}");
        assert_eq!(answer["error"]["details"]["whatsapp_error"]["code"], "busy");
    }
    assert_eq!(
        stalled.sends.load(Ordering::SeqCst),
        1,
        "a busy claim sends nothing"
    );
    assert_eq!(
        app.balance(),
        Some(1_000 - 10),
        "every busy claim is refunded"
    );
}
