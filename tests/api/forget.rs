//! SPEC §8 erasure: `customer forget` leaves nothing of the number or the name in any table,
//! nor in the bytes of the database and its `-wal`, even while a server runs.

use std::path::Path;
use std::process::{Command, Output};

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) const NUMBER: &str = "+33612345678";
const NAME: &str = "Jeanne Oubliee";
/// The national significant digits: what is left of the number in any way of writing it.
const DIGITS: &str = "612345678";

pub(crate) fn forget(db: &Path, restaurant: &str, phone: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ringback"))
        .arg("--db")
        .arg(db)
        .args([
            "customer",
            "forget",
            "--restaurant",
            restaurant,
            "--phone",
            phone,
        ])
        .env_remove("RUST_LOG")
        .output()
        .expect("run ringback")
}

/// Whether `needle` appears anywhere in the database file or its `-wal`.
fn on_disk(db: &Path, needle: &str) -> bool {
    ["", "-wal"].iter().any(|suffix| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        std::fs::read(&name)
            .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or(false)
    })
}

/// Every `table.column` holding a text value that mentions the number, written in any format
/// (its digits alone are compared), or the name, in any case. Every column of every table is
/// read, whatever its declared type.
pub(crate) fn mentions(conn: &Connection) -> Vec<String> {
    let names = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("names")
    };
    let mut found = Vec::new();
    for table in names("SELECT name FROM sqlite_master WHERE type = 'table'") {
        for column in names(&format!(
            "SELECT name FROM pragma_table_info('{}')",
            table.replace('\'', "''")
        )) {
            let values = names(&format!(
                "SELECT \"{column}\" FROM \"{table}\" WHERE typeof(\"{column}\") = 'text'"
            ));
            let digits = |v: &str| v.chars().filter(char::is_ascii_digit).collect::<String>();
            if values.iter().any(|v| {
                digits(v).contains(DIGITS) || v.to_lowercase().contains(&NAME.to_lowercase())
            }) {
                found.push(format!("{table}.{column}"));
            }
        }
    }
    found.sort();
    found
}

pub(crate) fn count(app: &TestApp, sql: &str) -> i64 {
    app.db().query_row(sql, [], |r| r.get(0)).expect("count")
}

pub(crate) fn forgot(app: &TestApp, phone: &str) -> String {
    let out = forget(&app.db_path, &app.restaurant.id, phone);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{said}");
    said
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_erases_the_number_and_name_everywhere_keeps_the_counts_and_is_safe_to_repeat() {
    let app = spawn_app().await;
    let token = app.restaurant.token.clone();
    let (status, booking) = app
        .call(
            reqwest::Method::POST,
            "/reservations",
            &token,
            Some(json!({
                "customer": {"name": NAME, "phone_number": NUMBER},
                "start_at": "2099-06-01T20:00:00+02:00",
                "party_size": 2
            })),
        )
        .await;
    assert_eq!(status, 201);
    let cancel = format!(
        "/reservations/{}/cancel",
        booking["data"]["id"].as_str().expect("id")
    );
    let reason = json!({"reason": "Jeanne Oubliee called from 06 12 34 56 78: flu"});
    let (status, _) = app
        .call(reqwest::Method::POST, &cancel, &token, Some(reason))
        .await;
    assert_eq!(status, 200);
    for (raw, id) in [
        ("06 12 34 56 78", "a"),
        ("06 12 34 56 78", "b"),
        ("0612345678", "c"),
    ] {
        let (status, _) = app
            .report_json(json!({"caller_phone_number": raw, "external_call_id": id}))
            .await;
        assert_eq!(status, 201);
    }
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33698765432"}))
        .await;
    assert_eq!(status, 201);
    let outcomes_before: Vec<(String, String, i64)> = outcomes(&app);
    // The ledger stores the E.164 form, not the raw one; the cancel reason quotes the raw form.
    for needle in [NUMBER, "06 12 34 56 78", NAME] {
        assert!(
            on_disk(&app.db_path, needle),
            "{needle}: the test would prove nothing"
        );
    }
    let before = mentions(&app.db());
    for place in [
        "calls.caller_raw",
        "customers.name",
        "reservations.cancel_reason",
    ] {
        assert!(
            before.contains(&place.to_string()),
            "{place} not in {before:?}"
        );
    }

    let said = forgot(&app, "06 12 34 56 78");

    assert!(said.contains("3 calls"), "{said}");
    assert!(said.contains("1 reservation detached"), "{said}");
    assert!(
        !said.contains(NUMBER),
        "the confirmation masks the number: {said}"
    );
    assert_eq!(
        mentions(&app.db()),
        Vec::<String>::new(),
        "left in the tables"
    );
    for needle in [NUMBER, "06 12 34 56 78", "0612345678", DIGITS, NAME] {
        assert!(!on_disk(&app.db_path, needle), "{needle} is still on disk");
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM reservations WHERE status = 'CANCELED'"
        ),
        1,
        "the booking stays"
    );
    let after = outcomes(&app);
    assert_eq!(
        after.len(),
        outcomes_before.len(),
        "the ledger keeps every row"
    );
    for ((_, outcome_a, at_a), (_, outcome_b, at_b)) in outcomes_before.iter().zip(&after) {
        assert_eq!((outcome_a, at_a), (outcome_b, at_b));
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM calls WHERE caller_e164 = 'forgotten'"
        ),
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM calls WHERE caller_e164 = '+33698765432'"
        ),
        1,
        "another caller is untouched"
    );

    let again = forgot(&app, NUMBER);

    assert!(again.contains("nothing to forget"), "{again}");
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33698765432", "external_call_id": "d"}))
        .await;
    assert_eq!(status, 201, "the server goes on: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_erases_a_whatsapp_error_that_quotes_the_number_and_keeps_the_outcome() {
    let app = spawn_app().await;
    let token = app.restaurant.token.clone();
    let refusal = |status: u16, code: i64, message: &str| {
        Behaviour::Reply(status, json!({"error": {"code": code, "message": message}}))
    };
    app.whatsapp.set(refusal(
        400,
        131026,
        "Message undeliverable to +33612345678",
    ));
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "06 12 34 56 78", "external_call_id": "u"}))
        .await;
    assert_eq!(
        (status, body["data"]["outcome"].as_str()),
        (201, Some("UNDELIVERABLE"))
    );
    let undeliverable = body["data"]["id"].as_str().expect("id").to_string();
    app.whatsapp.set(refusal(
        500,
        131000,
        "Could not reach +33 6 12 34 56 78, try later",
    ));
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "06 12 34 56 78", "external_call_id": "f"}))
        .await;
    assert_eq!(status, 502, "{body}");
    let failed = body["error"]["details"]["call_id"]
        .as_str()
        .expect("call id")
        .to_string();
    let read = |id: String| {
        let (app, token) = (&app, &token);
        async move {
            let (status, body) = app.get_call(token, &id).await;
            assert_eq!(status, 200);
            body["data"].clone()
        }
    };
    let stored = [
        read(undeliverable.clone()).await,
        read(failed.clone()).await,
    ];
    assert_eq!(
        stored[0]["error"]["message"],
        "Message undeliverable to +33612345678"
    );
    assert_eq!(stored[1]["outcome"], "FAILED");
    assert!(mentions(&app.db()).contains(&"calls.error_message".to_string()));

    let said = forgot(&app, NUMBER);

    assert!(said.contains("2 calls"), "{said}");
    assert_eq!(
        mentions(&app.db()),
        Vec::<String>::new(),
        "left in the tables"
    );
    for needle in [NUMBER, "+33 6 12 34 56 78", DIGITS] {
        assert!(!on_disk(&app.db_path, needle), "{needle} is still on disk");
    }
    for (before, id) in stored.iter().zip([undeliverable, failed]) {
        let after: Value = read(id).await;
        assert_eq!(after["outcome"], before["outcome"], "the outcome stays");
        assert_eq!(
            after["error"]["code"], before["error"]["code"],
            "the code stays"
        );
        assert_eq!(after["occurred_at"], before["occurred_at"]);
        assert_ne!(after["error"]["message"], before["error"]["message"]);
        assert_eq!(after["caller_phone_number"], "forgotten");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_forgotten_while_its_message_is_on_the_way_stays_forgotten_when_the_answer_lands()
{
    // WhatsApp holds the send until the erasure is done, however long the CLI takes.
    let app = spawn_app_with(|c| c.whatsapp.timeout_ms = 30_000).await;
    app.whatsapp.set(Behaviour::Hold);
    let report = app.report_in_background(
        json!({"caller_phone_number": NUMBER, "external_call_id": "on-the-way"}),
    );
    app.whatsapp.wait_for_requests(1).await;
    forgot(&app, NUMBER);
    // WhatsApp's refusal, quoting the number, arrives after the erasure.
    app.whatsapp.set(Behaviour::Reply(
        400,
        json!({"error": {"code": 131026, "message": "Message undeliverable to +33612345678"}}),
    ));
    app.whatsapp.release();

    let (status, body) = report.await.expect("join");

    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["outcome"], "UNDELIVERABLE");
    assert_eq!(
        mentions(&app.db()),
        Vec::<String>::new(),
        "the answer put the number back"
    );
}

fn outcomes(app: &TestApp) -> Vec<(String, String, i64)> {
    let conn = app.db();
    let mut stmt = conn
        .prepare("SELECT id, outcome, occurred_at FROM calls ORDER BY seq")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}
