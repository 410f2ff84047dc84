//! SPEC §9, the log and the indicators: rows with their labels and reasons, filters, cursor
//! paging, the indicators of a range and the 30-day chart, in the restaurant's days.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use crate::helpers::*;

/// A ledger row written straight into the database, for counts at chosen instants.
fn insert_call(app: &TestApp, n: usize, occurred_at: i64, outcome: &str, converted: bool) {
    let converted = converted.then(|| format!("res_seeded{n}"));
    app.db()
        .execute(
            "INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, occurred_at,
                                created_at, updated_at, outcome, sent_at, converted_reservation_id)
             VALUES (?1, ?2, ?3, ?3, ?4, ?4, ?4, ?5,
                     CASE WHEN ?5 = 'SENT' THEN ?4 END, ?6)",
            rusqlite::params![
                format!("call_seeded{n:06}"),
                app.restaurant.id,
                format!("+3361234{n:04}"),
                occurred_at,
                outcome,
                converted
            ],
        )
        .expect("insert call");
}

fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").expect("zone")
}

/// Milliseconds of a Paris wall-clock time (`2026-10-25T01:30`), with its offset spelled out
/// where the clock repeats.
fn at(text: &str) -> i64 {
    text.parse::<Timestamp>()
        .map(|t| t.as_millisecond())
        .unwrap_or_else(|_| {
            let civil: jiff::civil::DateTime = text.parse().expect("civil");
            civil
                .to_zoned(paris())
                .expect("zoned")
                .timestamp()
                .as_millisecond()
        })
}

async fn signed_in(app: &TestApp) -> String {
    app.add_console_user("marie", Some(&app.restaurant.id));
    app.console_session("marie").await
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn the_log_shows_each_call_newest_first_with_its_label_reason_and_customer() {
    let app = spawn_app().await;
    app.add_customer("+33698765432", Some("Camille Martin"));
    let cookie = signed_in(&app).await;
    // Calls of the last hours: older ones would be too old to answer (stale).
    let base = Timestamp::now().as_second() / 60 * 60 - 4 * 3600;
    let when = |minutes: i64| {
        Timestamp::from_second(base + minutes * 60)
            .expect("instant")
            .to_string()
    };
    let (_, first) = app
        .report_json(json!({"caller_phone_number": "06 12 34 56 78", "occurred_at": when(0)}))
        .await;
    let (_, second) = app
        .report_json(json!({"caller_phone_number": "+33612345678", "occurred_at": when(28)}))
        .await;
    let (_, named) = app
        .report_json(json!({"caller_phone_number": "+33698765432", "occurred_at": when(48)}))
        .await;
    let (_, hidden) = app
        .report_json(json!({"caller_phone_number": "anonymous", "occurred_at": when(58)}))
        .await;

    let (status, body) = app.console_get(&cookie, "/console/api/calls").await;

    assert_eq!(status, 200);
    let rows = body["data"].as_array().expect("rows");
    let expected: Vec<&Value> = vec![&hidden, &named, &second, &first];
    assert_eq!(
        ids(&body),
        expected
            .iter()
            .map(|b| b["data"]["id"].as_str().expect("id").to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(body["next_cursor"], Value::Null);
    let [hidden_row, named_row, cooldown_row, sent_row] = rows.as_slice() else {
        panic!("four rows: {body}");
    };
    assert_eq!(sent_row["status_label"], "Sent");
    assert_eq!(sent_row["outcome"], "SENT");
    assert_eq!(sent_row["reason"], Value::Null);
    assert_eq!(sent_row["new_customer"], true);
    assert_eq!(sent_row["customer_name"], Value::Null);
    assert_eq!(sent_row["caller_display"], "06 12 34 56 78");
    let local = Timestamp::from_second(base)
        .expect("instant")
        .to_zoned(paris())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    assert_eq!(sent_row["occurred_at_local"], local);
    assert_eq!(sent_row["delivery_state"], Value::Null);
    assert_eq!(sent_row["clicked_at"], Value::Null);
    assert_eq!(sent_row["converted_reservation_id"], Value::Null);
    assert_eq!(cooldown_row["status_label"], "Cooldown");
    assert_eq!(cooldown_row["new_customer"], false);
    let sent_at = sent_row["created_at"].as_str().expect("created");
    let sent_local = jiff::Timestamp::from_millisecond(at(sent_at))
        .expect("ts")
        .to_zoned(paris())
        .strftime("%H:%M")
        .to_string();
    let reason = cooldown_row["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("message sent")
            && reason.contains(&sent_local)
            && reason.ends_with("for an earlier call"),
        "{reason}"
    );
    assert_eq!(named_row["customer_name"], "Camille Martin");
    assert_eq!(named_row["new_customer"], false);
    assert_eq!(hidden_row["status_label"], "Hidden number");
    assert_eq!(hidden_row["caller_display"], "Hidden number");
    assert_eq!(hidden_row["caller_phone_number"], "anonymous");
    assert_eq!(hidden_row["customer_id"], Value::Null);
    assert!(
        hidden_row["reason"]
            .as_str()
            .expect("words")
            .contains("hidden")
    );
}

#[tokio::test]
async fn a_failed_call_says_why_in_words() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    app.whatsapp.set(Behaviour::Reply(
        400,
        json!({"error": {"code": 131050, "message": "Unable to deliver the message"}}),
    ));
    app.report_json(json!({"caller_phone_number": "+33612345678"}))
        .await;

    let (_, body) = app.console_get(&cookie, "/console/api/calls").await;

    let row = &body["data"][0];
    assert_eq!(row["status_label"], "Undeliverable");
    assert_eq!(
        row["reason"],
        "the customer has stopped marketing messages from the restaurant"
    );
}

#[tokio::test]
async fn the_log_pages_by_cursor_through_every_row_exactly_once() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    let base = at("2026-11-20T12:00");
    for n in 0..7 {
        // Two calls share each instant: the cursor must settle ties.
        insert_call(
            &app,
            n,
            base + (n as i64 / 2) * 60_000,
            "SKIPPED_STALE",
            false,
        );
    }

    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("/console/api/calls?limit=3&cursor={c}"),
            None => "/console/api/calls?limit=3".to_string(),
        };
        let (status, body) = app.console_get(&cookie, &query).await;
        assert_eq!(status, 200, "{body}");
        seen.extend(ids(&body));
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }

    assert_eq!(pages, 3);
    let mut expected: Vec<String> = (0..7).map(|n| format!("call_seeded{n:06}")).collect();
    expected.reverse();
    assert_eq!(
        seen, expected,
        "newest first, the later report first on a tie"
    );
}

#[tokio::test]
async fn the_log_filters_by_local_days_by_statuses_and_by_a_caller_in_any_form() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    // 23:30 in Paris on the 19th is 22:30 UTC: still the 19th for the restaurant.
    insert_call(&app, 1, at("2026-11-19T23:30"), "SENT", false);
    insert_call(&app, 2, at("2026-11-20T00:30"), "SKIPPED_COOLDOWN", false);
    insert_call(&app, 3, at("2026-11-20T23:59"), "FAILED", false);
    insert_call(&app, 4, at("2026-11-21T00:00"), "SENT", false);

    let (_, day) = app
        .console_get(&cookie, "/console/api/calls?from=2026-11-20&to=2026-11-20")
        .await;
    let (_, statuses) = app
        .console_get(&cookie, "/console/api/calls?status=SENT,FAILED")
        .await;
    let (_, caller) = app
        .console_get(&cookie, "/console/api/calls?caller=06%2012%2034%2000%2002")
        .await;
    let (_, international) = app
        .console_get(&cookie, "/console/api/calls?caller=0033612340004")
        .await;

    assert_eq!(ids(&day), ["call_seeded000003", "call_seeded000002"]);
    assert_eq!(
        ids(&statuses),
        [
            "call_seeded000004",
            "call_seeded000003",
            "call_seeded000001"
        ]
    );
    assert_eq!(ids(&caller), ["call_seeded000002"]);
    assert_eq!(ids(&international), ["call_seeded000004"]);
}

#[tokio::test]
async fn a_bad_filter_is_422_naming_its_field() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    let cases = [
        ("/console/api/calls?from=20-11-2026", "from"),
        ("/console/api/calls?from=2026-11-21&to=2026-11-20", "to"),
        ("/console/api/calls?status=SENT,NOPE", "status"),
        ("/console/api/calls?caller=12", "caller"),
        ("/console/api/calls?limit=0", "limit"),
        ("/console/api/calls?limit=201", "limit"),
        ("/console/api/calls?cursor=garbage", "cursor"),
        ("/console/api/indicators?to=tomorrow", "to"),
        ("/console/api/daily?days=0", "days"),
        ("/console/export.csv?status=WHATEVER", "status"),
    ];
    for (path, field) in cases {
        let (status, body) = app.console_get(&cookie, path).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{path}");
        assert_eq!(body["error"]["details"]["field"], field, "{path}");
    }
}

#[tokio::test]
async fn indicators_count_calls_sends_and_conversions_of_the_restaurants_days_across_dst() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    // 25 October 2026 in Paris has 25 hours: the clocks go back at 03:00 (+02:00 → +01:00).
    insert_call(&app, 1, at("2026-10-24T23:59"), "SENT", true);
    insert_call(&app, 2, at("2026-10-25T00:00"), "SENT", true);
    insert_call(&app, 3, at("2026-10-25T02:30:00+02:00"), "SENT", false);
    insert_call(
        &app,
        4,
        at("2026-10-25T02:30:00+01:00"),
        "SKIPPED_COOLDOWN",
        false,
    );
    insert_call(&app, 5, at("2026-10-25T23:59"), "SENT", false);
    insert_call(&app, 6, at("2026-10-26T00:00"), "SENT", true);

    let (status, day) = app
        .console_get(
            &cookie,
            "/console/api/indicators?from=2026-10-25&to=2026-10-25",
        )
        .await;
    let (_, none) = app
        .console_get(
            &cookie,
            "/console/api/indicators?from=2026-10-27&to=2026-10-30",
        )
        .await;
    let (_, all) = app.console_get(&cookie, "/console/api/indicators").await;

    assert_eq!(status, 200);
    assert_eq!(
        day["data"],
        json!({"missed_calls": 4, "messages_sent": 3, "booking_conversions": 1,
               "conversion_rate": 1.0 / 3.0})
    );
    assert_eq!(
        none["data"],
        json!({"missed_calls": 0, "messages_sent": 0, "booking_conversions": 0,
               "conversion_rate": null})
    );
    assert_eq!(all["data"]["missed_calls"], 6);
    assert_eq!(all["data"]["conversion_rate"], 0.6);
}

#[tokio::test]
async fn the_daily_chart_has_one_entry_per_local_day_ending_today_and_a_dst_day_is_one_day() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    let tz = paris();
    let now = Timestamp::now();
    let today = now.to_zoned(tz.clone()).date();
    // The last change of the clocks in Paris, whenever the test runs.
    let change = tz.preceding(now).next().expect("a past transition");
    let change_day: Date = change.timestamp().to_zoned(tz.clone()).date();
    let days = (today - change_day).get_days() as i64 + 2;
    let local = |day: Date, time: &str| at(&format!("{day}T{time}"));
    insert_call(&app, 1, local(change_day, "00:00"), "SENT", false);
    insert_call(&app, 2, local(change_day, "23:59"), "SENT", true);
    let before = change_day.yesterday().expect("day");
    insert_call(&app, 3, local(before, "23:59"), "SKIPPED_STALE", false);

    let (status, chart) = app.console_get(&cookie, "/console/api/daily").await;
    let (_, long) = app
        .console_get(&cookie, &format!("/console/api/daily?days={days}"))
        .await;

    assert_eq!(status, 200);
    let entries = chart["data"].as_array().expect("days");
    assert_eq!(entries.len(), 30);
    assert_eq!(entries[29]["date"], today.to_string());
    assert_eq!(
        entries[0]["date"],
        today
            .checked_sub(jiff::Span::new().days(29))
            .expect("day")
            .to_string()
    );
    let long = long["data"].as_array().expect("days");
    assert_eq!(long.len() as i64, days);
    let entry = |day: Date| {
        long.iter()
            .find(|e| e["date"] == day.to_string())
            .cloned()
            .expect("the day is listed")
    };
    assert_eq!(
        entry(change_day),
        json!({"date": change_day.to_string(), "missed_calls": 2, "messages_sent": 2,
               "booking_conversions": 1})
    );
    assert_eq!(entry(before)["missed_calls"], 1);
    let empty = long
        .iter()
        .filter(|e| e["missed_calls"] == 0 && e["messages_sent"] == 0)
        .count() as i64;
    assert_eq!(empty, days - 2, "empty days are listed as zero");
}
