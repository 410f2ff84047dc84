//! SPEC §9, the CSV export: exactly the filtered rows, RFC 4180, formulas defused, streamed in
//! constant memory for a million rows.

use serde_json::json;

use crate::helpers::*;
use crate::process::Server;

const HEADER: &str =
    "occurred_at,caller,customer,status,reason,template,delivery,clicked,booked,call_id";

async fn download(
    app: &TestApp,
    cookie: &str,
    query: &str,
) -> (reqwest::header::HeaderMap, String) {
    let response = app
        .client
        .get(format!("{}/console/export.csv{query}", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    (headers, response.text().await.expect("csv"))
}

#[tokio::test]
async fn the_csv_has_a_header_crlf_lines_rfc_4180_quoting_and_defused_formulas() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    app.add_customer("+33612345601", Some("=HYPERLINK(\"http://evil.example\")"));
    app.add_customer("+33612345602", Some("Dupont, \"Jean\""));
    app.add_customer("+33612345603", Some("Zoë Lefèvre"));
    app.add_customer("+33612345604", Some("@SUM(1+1)"));
    let base = jiff::Timestamp::now().as_second() / 60 * 60 - 3600;
    let when = |n: i64| jiff::Timestamp::from_second(base + n * 60).expect("instant");
    for (n, caller) in [
        "+33612345601",
        "+33612345602",
        "+33612345603",
        "+33612345604",
        "+447911123456",
    ]
    .iter()
    .enumerate()
    {
        app.report_json(json!({"caller_phone_number": caller,
                               "occurred_at": when(n as i64).to_string()}))
            .await;
    }

    let (headers, csv) = download(&app, &cookie, "").await;

    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        headers["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment; filename=")
    );
    let body = csv
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte-order mark first");
    assert!(body.starts_with(&format!("{HEADER}\r\n")));
    assert!(body.ends_with("\r\n"));
    assert_eq!(body.matches("\r\n").count(), 6, "a header and five rows");
    assert!(
        body.contains(",\"Dupont, \"\"Jean\"\"\","),
        "a comma and quotes are quoted and doubled: {body}"
    );
    assert!(
        body.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\")\","),
        "{body}"
    );
    assert!(body.contains(",'@SUM(1+1),"), "{body}");
    assert!(
        body.contains(",'+44 7911 123456,"),
        "an international number: {body}"
    );
    assert!(body.contains(",Zoë Lefèvre,"));
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 5);
    let newest = &rows[0];
    let paris = jiff::tz::TimeZone::get("Europe/Paris").expect("zone");
    let local = when(4)
        .to_zoned(paris)
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    assert_eq!(&newest[0], local.as_str());
    assert_eq!(&newest[3], "Sent");
    assert_eq!(&newest[5], "Missed call");
    assert!(newest[9].starts_with("call_"));
}

#[tokio::test]
async fn the_csv_holds_exactly_the_rows_the_filters_select() {
    let app = spawn_app().await;
    app.add_console_user("marie", Some(&app.restaurant.id));
    let cookie = app.console_session("marie").await;
    for (n, when) in ["2026-11-19T12:00:00+01:00", "2026-11-20T12:00:00+01:00"]
        .iter()
        .enumerate()
    {
        app.report_json(json!({"caller_phone_number": format!("+3361234560{n}"),
                               "occurred_at": when}))
            .await;
    }
    app.report_json(json!({"caller_phone_number": "anonymous",
                           "occurred_at": "2026-11-20T13:00:00+01:00"}))
        .await;

    let (_, csv) = download(
        &app,
        &cookie,
        "?from=2026-11-20&to=2026-11-20&status=SENT,SKIPPED_STALE",
    )
    .await;
    let (_, (api_status, api)) = (
        (),
        app.console_get(
            &cookie,
            "/console/api/calls?from=2026-11-20&to=2026-11-20&status=SENT,SKIPPED_STALE",
        )
        .await,
    );

    assert_eq!(api_status, 200);
    let ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next())
        .collect();
    let api_ids: Vec<&str> = api["data"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, api_ids);
    assert_eq!(ids.len(), 1);
}

/// Kilobytes of resident memory of a process, from `/proc`.
fn resident_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

#[tokio::test]
async fn a_million_row_export_streams_in_constant_memory() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("ringback.db");
    let restaurant = {
        let conn = ringback::db::open(&db).expect("db");
        let seeded = seed_restaurant(&conn, "Chez Million", "FR", "Europe/Paris");
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
             INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, occurred_at,
                                created_at, updated_at, outcome, sent_at)
             SELECT printf('call_m%08d', i), ?1, printf('+336%08d', i % 5000),
                    printf('+336%08d', i % 5000), 1763000000000 + i * 1000,
                    1763000000000 + i * 1000, 1763000000000 + i * 1000, 'SENT',
                    1763000000000 + i * 1000
             FROM n",
            [&seeded.id],
        )
        .expect("a million rows");
        seeded
    };
    let server = Server::start(dir.path(), &db, "http://127.0.0.1:9").await;
    let hash = ringback::console::password::hash_password(CONSOLE_PASSWORD).expect("hash");
    ringback::db::users::insert_user(
        &ringback::db::open(&db).expect("db"),
        "marie",
        &hash,
        Some(&restaurant.id),
        None,
        0,
    )
    .expect("user");
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{}/console/login", server.address))
        .json(&json!({"username": "marie", "password": CONSOLE_PASSWORD}))
        .send()
        .await
        .expect("login");
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    let before = resident_kb(server.pid());

    let mut response = client
        .get(format!("{}/console/export.csv", server.address))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("export");
    let (mut bytes, mut lines, mut peak) = (0usize, 0usize, before);
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        peak = peak.max(resident_kb(server.pid()));
    }

    assert_eq!(lines, 1_000_001, "a header and a million rows");
    assert!(bytes > 60_000_000, "{bytes} bytes");
    let grown_mb = (peak.saturating_sub(before)) / 1024;
    eprintln!("exported {bytes} bytes; the server grew by {grown_mb} MB");
    // Held whole, the file alone would take more than 60 MB.
    assert!(
        grown_mb < 32,
        "the server grew by {grown_mb} MB while streaming {} MB",
        bytes / 1_000_000
    );
}
