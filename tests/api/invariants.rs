//! The invariants every mix of reports, replays and failures must keep, and a property test that
//! throws random interleavings at the real server.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use ringback::db::restaurants::RestaurantChanges;
use serde_json::{Value, json};

use crate::helpers::*;

/// What the clients saw, to hold the ledger against.
#[derive(Debug, Default)]
pub struct Tally {
    /// Accepted reports (201 or 502) without an external_call_id.
    pub unkeyed: usize,
    /// `(restaurant, external_call_id)` of accepted keyed reports.
    pub keys: HashSet<(String, String)>,
    /// Answers that tried a send: SENT, UNDELIVERABLE or 502 (never a replay).
    pub dispatches: usize,
}

impl Tally {
    /// Records one answer to a report `body` made for `restaurant`.
    pub fn record(&mut self, restaurant: &str, body: &Value, status: u16, answer: &Value) {
        if status != 201 && status != 502 {
            return;
        }
        match body["external_call_id"].as_str() {
            Some(key) => {
                self.keys.insert((restaurant.to_string(), key.to_string()));
            }
            None => self.unkeyed += 1,
        }
        let outcome = answer["data"]["outcome"].as_str().unwrap_or_default();
        if status == 502 || outcome == "SENT" || outcome == "UNDELIVERABLE" {
            self.dispatches += 1;
        }
    }
}

/// Checks the ledger against the tally: one row per accepted report, no two SENT to one
/// caller within the cooldown, a message id on every SENT row and only there, nothing left in
/// flight, one WhatsApp request per dispatch, and each kept balance equal to its start less the
/// cost of its sends.
pub fn check_invariants(
    app: &TestApp,
    tally: &Tally,
    starting_balances: &HashMap<String, (i64, i64)>,
    cooldown_minutes: i64,
) {
    let db = app.db();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(
        count("SELECT COUNT(*) FROM calls") as usize,
        tally.unkeyed + tally.keys.len(),
        "one ledger row per accepted report"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM calls WHERE outcome = 'DISPATCHING'"),
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM calls WHERE outcome = 'SENT' AND message_id IS NULL"),
        0,
        "every SENT row has a message id"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM calls WHERE outcome <> 'SENT' AND message_id IS NOT NULL"),
        0
    );
    // SENT rows of each caller in time order: neighbours must be a full cooldown apart.
    let mut sent = db
        .prepare(
            "SELECT restaurant_id, caller_e164, occurred_at FROM calls WHERE outcome = 'SENT'
             ORDER BY restaurant_id, caller_e164, occurred_at",
        )
        .expect("prepare");
    let sent: Vec<(String, Option<String>, i64)> = sent
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for pair in sent.windows(2) {
        let ((r1, c1, t1), (r2, c2, t2)) = (&pair[0], &pair[1]);
        if r1 == r2 && c1 == c2 {
            assert!(
                t2 - t1 >= cooldown_minutes * 60_000,
                "two SENT to {c1:?} within the cooldown"
            );
        }
    }
    assert_eq!(
        app.whatsapp.requests().len(),
        tally.dispatches,
        "one request per dispatch"
    );
    for (restaurant, (start, cost)) in starting_balances {
        let (balance, sent): (Option<i64>, i64) = db
            .query_row(
                "SELECT balance_cents, (SELECT COUNT(*) FROM calls
                                        WHERE restaurant_id = ?1 AND outcome = 'SENT')
                 FROM restaurants WHERE id = ?1",
                [restaurant],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("balance");
        assert_eq!(
            balance,
            Some(start - cost * sent),
            "balance of {restaurant}"
        );
    }
}

/// One report of a generated case: which caller, which key (if any), how long ago.
#[derive(Debug, Clone)]
struct Step {
    caller: usize,
    key: Option<u8>,
    minutes_ago: i64,
}

const CALLERS: [&str; 4] = ["+33612345678", "06 98 76 54 32", "+33781234567", "withheld"];

fn step() -> impl Strategy<Value = Step> {
    (0..CALLERS.len(), proptest::option::of(0u8..8), 0i64..1600).prop_map(
        |(caller, key, minutes_ago)| Step {
            caller,
            key,
            minutes_ago,
        },
    )
}

/// Batches of reports; each batch is sent at once, under one WhatsApp behaviour.
fn batches() -> impl Strategy<Value = Vec<(u8, Vec<Step>)>> {
    prop::collection::vec((0u8..4, prop::collection::vec(step(), 1..8)), 1..6)
}

fn behaviour(kind: u8) -> Behaviour {
    match kind {
        0 => Behaviour::Accept,
        1 => Behaviour::Reply(503, json!({"error": {"code": 2, "message": "down"}})),
        2 => Behaviour::Reply(400, json!({"error": {"code": 131026, "message": "no"}})),
        _ => Behaviour::Mixed,
    }
}

async fn run_case(batches: Vec<(u8, Vec<Step>)>, balance: i64) {
    let app = spawn_app().await;
    let cost = 7;
    app.update_restaurant(RestaurantChanges {
        balance_cents: Some(Some(balance)),
        message_cost_cents: Some(cost),
        ..Default::default()
    });
    let mut tally = Tally::default();
    for (kind, steps) in batches {
        app.whatsapp.set(behaviour(kind));
        let sends = steps.iter().map(|s| {
            let mut body = json!({
                "caller_phone_number": CALLERS[s.caller],
                "occurred_at": minutes_from_now(-s.minutes_ago),
            });
            if let Some(key) = s.key {
                body["external_call_id"] = json!(format!("k{key}"));
            }
            let app = &app;
            async move {
                let (status, answer) = app.report_json(body.clone()).await;
                (body, status, answer)
            }
        });
        for (body, status, answer) in futures_join_all(sends).await {
            assert!(
                [201, 409, 422, 502].contains(&status),
                "unexpected {status}: {answer}"
            );
            tally.record(&app.restaurant.id, &body, status, &answer);
        }
    }
    let balances = HashMap::from([(app.restaurant.id.clone(), (balance, cost))]);
    check_invariants(&app, &tally, &balances, 360);
}

/// Polls every future together on this task: real concurrent requests against the server.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out = Vec::with_capacity(set.len());
    let results = std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out.len() <= i {
                out.push(None);
            }
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(std::mem::take(&mut out))
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_interleavings_of_reports_replays_and_failures_keep_the_invariants(
        batches in batches(),
        balance in 0i64..60,
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(run_case(batches, balance));
    }
}
