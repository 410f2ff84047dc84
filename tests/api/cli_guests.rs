//! SPEC §6.2: the customer, reservation and calls commands.

use crate::cli::{Cli, restaurant};

#[test]
fn customer_commands_add_import_suppress_and_list() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    let id = cli.new_id(&[
        "customer",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "06 12 34 56 78",
    ]);
    let same = cli.new_id(&[
        "customer",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "+33612345678",
        "--name",
        "Camille",
    ]);
    assert_eq!(id, same, "adding an existing number updates it");
    let csv = cli.path("customers.csv");
    std::fs::write(
        &csv,
        "phone,name,notes\n0698765432,Lou,vip\nnot-a-phone,Bad,\n+33612345678,Camille M,\n",
    )
    .expect("csv");

    let out = cli.run(&[
        "customer",
        "import",
        "--restaurant",
        &rid,
        csv.to_str().expect("path"),
    ]);

    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "an import creates no one id to print"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().last(),
        Some("added 1, updated 1, rejected 1")
    );
    assert!(stderr.contains("line 3"));
    cli.ok(&[
        "customer",
        "suppress",
        "--restaurant",
        &rid,
        "--phone",
        "0698765432",
    ]);
    let list = cli.json(&["customer", "list", "--restaurant", &rid, "--json"]);
    assert_eq!(list.len(), 2);
    let lou = list
        .iter()
        .find(|c| c["phone_number"] == "+33698765432")
        .expect("Lou");
    assert_eq!(lou["name"], "Lou");
    assert_eq!(lou["whatsapp_suppressed"], true);
    let camille = list
        .iter()
        .find(|c| c["id"] == id.as_str())
        .expect("Camille");
    assert_eq!(camille["name"], "Camille M");
    cli.ok(&[
        "customer",
        "unsuppress",
        "--restaurant",
        &rid,
        "--phone",
        "+33698765432",
    ]);
    let list = cli.json(&["customer", "list", "--restaurant", &rid, "--json"]);
    assert!(list.iter().all(|c| c["whatsapp_suppressed"] == false));
}

#[test]
fn reservation_commands_add_update_and_list_in_restaurant_time() {
    let cli = Cli::new();
    let rid = restaurant(&cli);

    let id = cli.new_id(&[
        "reservation",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "0612345678",
        "--start",
        "2099-07-14T20:30",
        "--party-size",
        "4",
        "--name",
        "Camille",
        "--external-id",
        "bk-1",
    ]);
    cli.ok(&["reservation", "update", &id, "--status", "CANCELED"]);
    let list = cli.json(&["reservation", "list", "--restaurant", &rid, "--json"]);

    assert_eq!(list.len(), 1);
    let r = &list[0];
    assert_eq!(r["id"], id.as_str());
    assert_eq!(r["start_at"], "2099-07-14T20:30:00+02:00");
    assert_eq!(r["party_size"], 4);
    assert_eq!(r["status"], "CANCELED");
    assert_eq!(r["external_id"], "bk-1");
    assert_eq!(r["customer"]["phone_number"], "+33612345678");
    assert_eq!(r["customer"]["name"], "Camille");
    let again = cli.run(&[
        "reservation",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "0612345678",
        "--start",
        "2099-07-15T20:30",
        "--party-size",
        "2",
        "--external-id",
        "bk-1",
    ]);
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn calls_list_shows_the_ledger_with_api_field_names() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    let conn = ringback::db::open(&cli.db).expect("db");
    conn.execute(
        "INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, occurred_at, created_at,
                            updated_at, outcome)
         VALUES ('call_1', ?1, '+33612345678', '+33612345678', 0, 0, 0, 'SKIPPED_STALE')",
        [&rid],
    )
    .expect("row");

    let list = cli.json(&[
        "calls",
        "list",
        "--restaurant",
        &rid,
        "--limit",
        "10",
        "--json",
    ]);

    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], "call_1");
    assert_eq!(list[0]["outcome"], "SKIPPED_STALE");
    assert_eq!(list[0]["caller_phone_number"], "+33612345678");
    assert_eq!(list[0]["occurred_at"], "1970-01-01T00:00:00.000Z");
}

#[test]
fn reservation_import_adds_updates_by_external_id_and_reports_rejected_lines() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    let csv = cli.path("reservations.csv");
    let header = "external_id,phone,name,start,party_size,status\n";
    std::fs::write(
        &csv,
        format!(
            "{header}bk-1,0612345678,Camille,2099-07-14T20:30,4,\n\
             bk-2,+33698765432,Lou,2099-07-15T20:00,2,pending\n\
             ,0781234567,,2099-07-16T19:00,3,CONFIRMED\n\
             bk-3,123,Bad,2099-07-16T19:00,3,\n\
             bk-4,0612345678,,not a date,2,\n\
             bk-5,0612345678,,2099-07-16T19:00,0,\n\
             bk-6,0612345678,,2099-07-16T19:00,2,LATE\n\
             ,,,2099-07-17T19:00,2,\n"
        ),
    )
    .expect("csv");
    let file = csv.to_str().expect("path");

    let first = cli.run(&["reservation", "import", "--restaurant", &rid, file]);
    std::fs::write(
        &csv,
        format!("{header}bk-1,0612345678,Camille M,2099-07-14T21:00,6,DOUBLE_CONFIRMED\n"),
    )
    .expect("csv");
    let second = cli.run(&["reservation", "import", "--restaurant", &rid, file]);

    assert!(first.status.success());
    assert!(first.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(
        stderr.lines().last(),
        Some("added 4, updated 0, rejected 4")
    );
    for line in ["line 5:", "line 6:", "line 7:", "line 8:"] {
        assert!(stderr.contains(line), "{line} in {stderr}");
    }
    assert!(
        stderr.contains("LATE") && stderr.contains("not a date"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&second.stderr).trim(),
        "added 0, updated 1, rejected 0"
    );
    let list = cli.json(&["reservation", "list", "--restaurant", &rid, "--json"]);
    assert_eq!(list.len(), 4);
    let bk1 = list
        .iter()
        .find(|r| r["external_id"] == "bk-1")
        .expect("bk-1");
    assert_eq!(bk1["start_at"], "2099-07-14T21:00:00+02:00");
    assert_eq!(bk1["party_size"], 6);
    assert_eq!(bk1["status"], "DOUBLE_CONFIRMED");
    assert_eq!(bk1["customer"]["name"], "Camille M");
    let bk2 = list
        .iter()
        .find(|r| r["external_id"] == "bk-2")
        .expect("bk-2");
    assert_eq!(bk2["status"], "PENDING");
    assert!(list.iter().any(|r| r["customer"].is_null()));
}

#[test]
fn a_reservation_file_without_its_columns_is_a_usage_error() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    let csv = cli.path("bad.csv");
    std::fs::write(&csv, "phone,when\n0612345678,tomorrow\n").expect("csv");

    let out = cli.run(&[
        "reservation",
        "import",
        "--restaurant",
        &rid,
        csv.to_str().expect("p"),
    ]);

    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("external_id"));
}
