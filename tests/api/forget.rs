//! SPEC §8 erasure: `customer forget` leaves nothing of the number or the name in any table,
//! nor in the bytes of the database and its `-wal`, even while a server runs.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

use crate::helpers::*;

fn forget(db: &Path, restaurant: &str, phone: &str) -> Output {
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

fn count(app: &TestApp, sql: &str) -> i64 {
    app.db().query_row(sql, [], |r| r.get(0)).expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_erases_the_number_and_name_everywhere_keeps_the_counts_and_is_safe_to_repeat() {
    let app = spawn_app().await;
    let number = "+33612345678";
    let name = "Jeanne Oubliee";
    let (status, _) = app
        .call(
            reqwest::Method::POST,
            "/reservations",
            &app.restaurant.token,
            Some(json!({
                "customer": {"name": name, "phone_number": number},
                "start_at": "2099-06-01T20:00:00+02:00",
                "party_size": 2
            })),
        )
        .await;
    assert_eq!(status, 201);
    for id in ["a", "b"] {
        let (status, _) = app
            .report_json(json!({"caller_phone_number": "06 12 34 56 78", "external_call_id": id}))
            .await;
        assert_eq!(status, 201);
    }
    let (status, _) = app
        .report_json(json!({"caller_phone_number": "+33698765432"}))
        .await;
    assert_eq!(status, 201);
    let outcomes_before: Vec<(String, String, i64)> = outcomes(&app);
    assert!(
        on_disk(&app.db_path, number),
        "the test would prove nothing"
    );

    let out = forget(&app.db_path, &app.restaurant.id, "06 12 34 56 78");

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(said.contains("2 calls"), "{said}");
    assert!(said.contains("1 reservations detached"), "{said}");
    assert!(
        !said.contains(number),
        "the confirmation masks the number: {said}"
    );
    for needle in [number, "612345678", name] {
        assert!(!on_disk(&app.db_path, needle), "{needle} is still on disk");
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM customers WHERE name IS NOT NULL AND name = 'Jeanne Oubliee'"
        ),
        0
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM reservations"),
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
        2
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM calls WHERE caller_e164 = '+33698765432'"
        ),
        1,
        "another caller is untouched"
    );

    let again = forget(&app.db_path, &app.restaurant.id, number);

    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to forget"));
    let (status, body) = app
        .report_json(json!({"caller_phone_number": "+33698765432", "external_call_id": "c"}))
        .await;
    assert_eq!(status, 201, "the server goes on: {body}");
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
