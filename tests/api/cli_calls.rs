//! SPEC §6.2: `calls list` (a header, local times, newest first, reasons, filters) and
//! `calls show`.

use crate::cli_harness::{Cli, stderr, stdout};

/// A ledger row, as the pipeline leaves it.
struct Call<'a> {
    id: &'a str,
    restaurant: &'a str,
    occurred_at: &'a str,
    outcome: &'a str,
    error: Option<(&'a str, &'a str)>,
}

fn insert(cli: &Cli, call: Call<'_>) {
    let at = call
        .occurred_at
        .parse::<jiff::Timestamp>()
        .expect("instant")
        .as_millisecond();
    let (code, message) = call.error.unzip();
    cli.db()
        .execute(
            "INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, template_type,
                                occurred_at, created_at, updated_at, outcome, error_code,
                                error_message)
             VALUES (?1, ?2, '06 12 34 56 78', '+33612345678', 'MISSED_CALL', ?3, ?3, ?3, ?4,
                     ?5, ?6)",
            rusqlite::params![call.id, call.restaurant, at, call.outcome, code, message],
        )
        .expect("call");
}

fn add_restaurant(cli: &Cli, timezone: &str) -> String {
    cli.new_id(&[
        "restaurant",
        "add",
        "--name",
        "Chez Ledger",
        "--country",
        "FR",
        "--timezone",
        timezone,
    ])
}

/// Three calls in Paris: the evening of 1 July (UTC and local alike), then just before and just
/// after local midnight, which UTC still counts as 1 July.
fn paris_ledger(cli: &Cli) -> String {
    let rid = add_restaurant(cli, "Europe/Paris");
    for (id, occurred_at, outcome, error) in [
        ("call_evening", "2030-07-01T18:00:00Z", "SENT", None),
        (
            "call_late",
            "2030-07-01T21:30:00Z",
            "FAILED",
            Some(("131000", "Something went wrong")),
        ),
        (
            "call_night",
            "2030-07-01T22:30:00Z",
            "SKIPPED_COOLDOWN",
            None,
        ),
    ] {
        insert(
            cli,
            Call {
                id,
                restaurant: &rid,
                occurred_at,
                outcome,
                error,
            },
        );
    }
    rid
}

fn ids(json: &[serde_json::Value]) -> Vec<&str> {
    json.iter().map(|c| c["id"].as_str().expect("id")).collect()
}

#[test]
fn calls_list_prints_newest_first_with_a_header_and_local_times() {
    let cli = Cli::new();
    let rid = paris_ledger(&cli);

    let printed = cli.ok(&["calls", "list", "--restaurant", &rid]);

    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 4, "{printed}");
    for column in ["ID", "OCCURRED_AT", "CALLER", "OUTCOME", "REASON"] {
        assert!(lines[0].contains(column), "{column} in {}", lines[0]);
    }
    assert!(lines[1].starts_with("call_night"), "{printed}");
    assert!(lines[1].contains("2030-07-02T00:30:00+02:00"), "{printed}");
    assert!(lines[2].starts_with("call_late"), "{printed}");
    assert!(lines[2].contains("2030-07-01T23:30:00+02:00"), "{printed}");
    assert!(lines[3].starts_with("call_evening"), "{printed}");
    let json = cli.json(&["calls", "list", "--restaurant", &rid, "--json"]);
    assert_eq!(ids(&json), ["call_night", "call_late", "call_evening"]);
    assert_eq!(json[0]["occurred_at"], "2030-07-01T22:30:00.000Z");
}

#[test]
fn calls_list_gives_the_reason_of_each_skip_or_failure() {
    let cli = Cli::new();
    let rid = paris_ledger(&cli);

    let printed = cli.ok(&["calls", "list", "--restaurant", &rid]);

    let line = |id: &str| {
        printed
            .lines()
            .find(|l| l.starts_with(id))
            .expect("listed")
            .to_string()
    };
    assert!(line("call_late").ends_with("131000: Something went wrong"));
    assert!(
        line("call_night").contains("a message went to this number"),
        "{printed}"
    );
    assert!(line("call_evening").ends_with('-'), "{printed}");
}

#[test]
fn calls_list_filters_by_outcome_and_local_day() {
    let cli = Cli::new();
    let rid = paris_ledger(&cli);
    let list = |extra: &[&str]| {
        let mut args = vec!["calls", "list", "--restaurant", rid.as_str(), "--json"];
        args.extend_from_slice(extra);
        cli.json(&args)
    };

    let july_1 = list(&["--since", "2030-07-01", "--until", "2030-07-01"]);
    let july_2 = list(&["--since", "2030-07-02"]);
    let failed_or_sent = list(&["--outcome", "FAILED,SENT"]);
    let instants = list(&[
        "--since",
        "2030-07-01T21:30:00Z",
        "--until",
        "2030-07-01T22:30:00Z",
    ]);
    let unknown = cli.run(&["calls", "list", "--outcome", "SENT,LOST"]);

    assert_eq!(ids(&july_1), ["call_late", "call_evening"]);
    assert_eq!(ids(&july_2), ["call_night"]);
    assert_eq!(ids(&failed_or_sent), ["call_late", "call_evening"]);
    assert_eq!(
        ids(&instants),
        ["call_night", "call_late"],
        "both bounds count"
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("LOST"), "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("SKIPPED_COOLDOWN"),
        "names the outcomes"
    );
}

#[test]
fn without_a_restaurant_a_local_date_is_each_calls_restaurants_day() {
    let cli = Cli::new();
    let paris = add_restaurant(&cli, "Europe/Paris");
    let new_york = add_restaurant(&cli, "America/New_York");
    // 2 July 04:00 in Paris; 1 July 22:00 in New York.
    for (id, restaurant) in [("call_paris", &paris), ("call_new_york", &new_york)] {
        insert(
            &cli,
            Call {
                id,
                restaurant,
                occurred_at: "2030-07-02T02:00:00Z",
                outcome: "SENT",
                error: None,
            },
        );
    }

    let july_2 = cli.json(&["calls", "list", "--since", "2030-07-02", "--json"]);
    let july_1 = cli.json(&["calls", "list", "--until", "2030-07-01", "--json"]);
    let table = cli.ok(&["calls", "list"]);

    assert_eq!(ids(&july_2), ["call_paris"]);
    assert_eq!(ids(&july_1), ["call_new_york"]);
    assert!(table.lines().next().expect("header").contains("RESTAURANT"));
    assert!(table.contains("2030-07-01T22:00:00-04:00"), "{table}");
    assert!(table.contains("2030-07-02T04:00:00+02:00"), "{table}");
}

#[test]
fn calls_show_prints_one_call_whole_and_an_unknown_id_exits_1() {
    let cli = Cli::new();
    let rid = paris_ledger(&cli);

    let shown = cli.ok(&["calls", "show", "call_late"]);
    let json = cli.ok(&["calls", "show", "call_late", "--json"]);
    let unknown = cli.run(&["calls", "show", "call_nope"]);

    for expected in [
        "call_late",
        &rid,
        "Chez Ledger",
        "FAILED",
        "2030-07-01T23:30:00+02:00",
        "2030-07-01T21:30:00.000Z",
        "+33612345678",
        "06 12 34 56 78",
        "MISSED_CALL",
        "131000: Something went wrong",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }
    let json: serde_json::Value = serde_json::from_str(&json).expect("one JSON object");
    assert_eq!(json["id"], "call_late");
    assert_eq!(json["error"]["code"], 131000);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stdout(&unknown).is_empty());
    assert!(stderr(&unknown).contains("call_nope"));
}
