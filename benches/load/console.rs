//! The console at a million ledger rows over 200 restaurants (SPEC §9): the log's first page, a
//! call's detail, the indicators of the last 30 days and the 30-day chart, each asked for by 4
//! clients at once;
//! then the CSV export of a restaurant with 100 000 calls, in rows per second.

use std::time::{Duration, Instant};

use rusqlite::params;

use crate::drive::closed_loop_get;
use crate::seed;
use crate::server::{ServerProcess, config};

const CLIENTS: usize = 4;
const PASSWORD: &str = "benchmark password";

pub struct ConsoleResult {
    pub log_p95_ms: f64,
    pub detail_p95_ms: f64,
    pub indicators_p95_ms: f64,
    pub daily_p95_ms: f64,
    pub csv_rows_per_second: f64,
    pub peak_rss_kb: u64,
}

/// `own` calls at the measured restaurant and `rows - own` over 199 others, over the last 400
/// days, with the mix of outcomes, customers, clicks and conversions a live box has.
fn prefill(db: &std::path::Path, restaurant_id: &str, own: usize, rows: usize) {
    let mut conn = ringback::db::open(db).expect("db");
    let tx = conn.transaction().expect("tx");
    let others = seed::history_restaurants(&tx, 199, 11);
    tx.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999)
         INSERT INTO customers (id, restaurant_id, phone_e164, name, source, created_at)
         SELECT printf('cus_b%06d', i), ?1, printf('+3376%07d', i),
                CASE WHEN i % 3 = 0 THEN NULL ELSE printf('Guest %d', i) END, 'MISSED_CALL', 0
         FROM n",
        [restaurant_id],
    )
    .expect("customers");
    let now = jiff::Timestamp::now().as_millisecond();
    let insert = |restaurant: &str, from: usize, count: usize| {
        tx.execute(
            "WITH RECURSIVE n(i) AS (SELECT ?3 UNION ALL SELECT i + 1 FROM n WHERE i < ?3 + ?4 - 1),
             r AS (SELECT i, abs(random()) % 20 AS kind, ?5 - abs(random()) % 34560000000 AS at
                   FROM n)
             INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, customer_id,
                                template_type, occurred_at, created_at, updated_at, outcome,
                                error_code, error_message, sent_at, link_token, new_customer,
                                first_clicked_at, clicks, converted_reservation_id, message)
             SELECT printf('call_b%08d', i), ?1, printf('+3376%07d', i % 20000),
                    printf('+3376%07d', i % 20000),
                    CASE WHEN ?2 THEN printf('cus_b%06d', i % 20000) END, 'MISSED_CALL', at,
                    at, at,
                    CASE WHEN kind < 12 THEN 'SENT' WHEN kind < 15 THEN 'SKIPPED_COOLDOWN'
                         WHEN kind = 15 THEN 'SKIPPED_HIDDEN_NUMBER'
                         WHEN kind = 16 THEN 'UNDELIVERABLE' WHEN kind = 17 THEN 'FAILED'
                         WHEN kind = 18 THEN 'SKIPPED_STALE' ELSE 'SKIPPED_NO_TEMPLATE' END,
                    CASE kind WHEN 16 THEN '131026' WHEN 17 THEN 'timeout' END,
                    CASE kind WHEN 16 THEN 'Message undeliverable' WHEN 17 THEN 'timed out' END,
                    CASE WHEN kind < 12 THEN at END,
                    CASE WHEN kind < 12 THEN printf('tok%021d', i) END,
                    i % 7 = 0,
                    CASE WHEN kind < 12 AND i % 9 = 0 THEN at + 60000 END,
                    CASE WHEN kind < 12 AND i % 9 = 0 THEN 1 ELSE 0 END,
                    CASE WHEN kind < 12 AND i % 27 = 0 THEN printf('res_b%08d', i) END,
                    CASE WHEN kind < 12 OR kind IN (16, 17) THEN json_object(
                        'template', 'missed_call', 'language', 'fr',
                        'parameters', json_array(printf('Guest %d', i % 20000), 'Bench',
                                                 printf('tok%021d', i)),
                        'booking_link', printf('https://book.example/b?rb_ref=tok%021d', i)) END
             FROM r",
            params![restaurant, restaurant == restaurant_id, from as i64, count as i64, now],
        )
        .expect("calls");
    };
    insert(restaurant_id, 0, own);
    let per_other = (rows - own) / others.len();
    for (k, other) in others.iter().enumerate() {
        insert(other, own + k * per_other, per_other);
    }
    tx.commit().expect("commit");
}

/// The restaurant-local dates of the last 30 days, for the indicators' range.
fn last_30_days() -> (String, String) {
    let tz = jiff::tz::TimeZone::get("Europe/Paris").expect("zone");
    let today = jiff::Timestamp::now().to_zoned(tz).date();
    let from = today.checked_sub(jiff::Span::new().days(29)).expect("date");
    (from.to_string(), today.to_string())
}

pub async fn run(rows: usize, duration: Duration) -> ConsoleResult {
    let dir = tempfile::tempdir_in(std::env::temp_dir()).expect("tempdir");
    let db = dir.path().join("ringback.db");
    let restaurant = seed::restaurant(&db, "Bench", true);
    let own = (rows / 10).max(1000);
    let started = Instant::now();
    prefill(&db, &restaurant.id, own, rows);
    let hash = ringback::console::password::hash_password(PASSWORD).expect("hash");
    ringback::db::users::insert_user(
        &ringback::db::open(&db).expect("db"),
        "bench",
        &hash,
        Some(&restaurant.id),
        None,
        0,
    )
    .expect("user");
    println!(
        "\n[console] {rows} calls pre-filled in {:.1} s: {own} at the measured restaurant, the \
         rest over 199 others",
        started.elapsed().as_secs_f64()
    );
    let server = ServerProcess::start(dir.path(), &config(&db, "sandbox", "http://127.0.0.1:9"));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS * 2)
        .build()
        .expect("client");
    let login = client
        .post(format!("{}/console/login", server.base))
        .json(&serde_json::json!({"username": "bench", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    let (from, to) = last_30_days();
    let base = &server.base;
    let phases = [
        ("log page (50 rows)", format!("{base}/console/api/calls")),
        // A call opened: the row, what its message was sent with, its delivery times.
        (
            "call detail",
            format!("{base}/console/api/calls/call_b{:08}", own / 2),
        ),
        (
            "indicators, 30 days",
            format!("{base}/console/api/indicators?from={from}&to={to}"),
        ),
        ("30-day chart", format!("{base}/console/api/daily?days=30")),
        // Not targets: what a search costs at the largest restaurant.
        (
            "log, one caller",
            format!("{base}/console/api/calls?caller=%2B33760000042"),
        ),
        (
            "log, in progress only",
            format!("{base}/console/api/calls?status=DISPATCHING"),
        ),
        (
            "indicators, all time",
            format!("{base}/console/api/indicators"),
        ),
        (
            "log page in French",
            format!("{base}/console/api/calls?lang=fr"),
        ),
    ];
    let mut p95 = Vec::new();
    for (name, url) in &phases {
        let session = ("cookie", cookie.clone());
        let warm_up = Duration::from_millis(500);
        closed_loop_get(&client, url, session.clone(), CLIENTS, warm_up).await;
        let stats = closed_loop_get(&client, url, session, CLIENTS, duration).await;
        println!(
            "      {name:<20} {CLIENTS} clients: {}",
            stats.summary_in("answers")
        );
        p95.push(stats.percentile_ms(95.0));
    }
    let mut rates = Vec::new();
    for _ in 0..3 {
        let asked = Instant::now();
        let mut response = client
            .get(format!("{base}/console/export.csv"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("export");
        let mut lines = 0usize;
        while let Some(chunk) = response.chunk().await.expect("chunk") {
            lines += chunk.iter().filter(|b| **b == b'\n').count();
        }
        assert_eq!(
            lines,
            own + 1,
            "every row of the restaurant, and the header"
        );
        rates.push(own as f64 / asked.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "      CSV export of {own} rows: {:.0} rows/s (median of 3; {:.0} to {:.0})",
        rates[1], rates[0], rates[2]
    );
    let result = ConsoleResult {
        log_p95_ms: p95[0],
        detail_p95_ms: p95[1],
        indicators_p95_ms: p95[2],
        daily_p95_ms: p95[3],
        csv_rows_per_second: rates[1],
        peak_rss_kb: server.peak_rss_kb(),
    };
    server.stop();
    result
}
