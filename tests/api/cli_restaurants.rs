//! SPEC §6.2: a restaurant's WhatsApp secret off the command line, its removal with everything it
//! owns, and its country code.

use crate::cli_harness::{Cli, restaurant, stderr, stdout};

fn stored_access_token(cli: &Cli, rid: &str) -> Option<String> {
    cli.access_token(rid)
}

#[test]
fn an_access_token_can_be_read_from_stdin() {
    let cli = Cli::new();
    let rid = restaurant(&cli);

    let out = cli.run_with(
        &[
            "restaurant",
            "whatsapp",
            &rid,
            "--phone-number-id",
            "106540352242922",
            "--access-token",
            "-",
        ],
        &[],
        Some("EAAGfromstdin123\n"),
    );

    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stored_access_token(&cli, &rid).as_deref(),
        Some("EAAGfromstdin123")
    );
}

#[test]
fn an_access_token_is_read_from_ringback_access_token_when_the_flag_is_absent() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    // Also proves the variable is not taken for an unknown configuration key.
    let env = [("RINGBACK_ACCESS_TOKEN", "EAAGfromenv456")];

    let out = cli.run_with(
        &[
            "restaurant",
            "whatsapp",
            &rid,
            "--phone-number-id",
            "106540352242922",
        ],
        &env,
        None,
    );

    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stored_access_token(&cli, &rid).as_deref(),
        Some("EAAGfromenv456")
    );
}

#[test]
fn a_phone_number_id_that_is_not_digits_is_a_usage_error_and_nothing_is_stored() {
    let cli = Cli::new();
    let rid = restaurant(&cli);

    for id in ["../../me", "1065 40", "PHONE_NUMBER_ID"] {
        let out = cli.run(&[
            "restaurant",
            "whatsapp",
            &rid,
            "--phone-number-id",
            id,
            "--access-token",
            "EAAGgood123",
        ]);

        assert_eq!(out.status.code(), Some(2), "{id}: {}", stderr(&out));
        assert!(stderr(&out).contains("digits only"), "{}", stderr(&out));
    }
    assert_eq!(stored_access_token(&cli, &rid), None);
}

#[test]
fn a_phone_number_id_without_an_access_token_anywhere_is_a_usage_error() {
    let cli = Cli::new();
    let rid = restaurant(&cli);

    let out = cli.run(&["restaurant", "whatsapp", &rid, "--phone-number-id", "1065"]);

    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("RINGBACK_ACCESS_TOKEN"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stored_access_token(&cli, &rid), None);
}

#[test]
fn a_placeholder_or_blank_access_token_is_refused() {
    let cli = Cli::new();
    let rid = restaurant(&cli);
    let whatsapp = |token: &str| {
        cli.run_with(
            &[
                "restaurant",
                "whatsapp",
                &rid,
                "--phone-number-id",
                "1065",
                "--access-token",
                "-",
            ],
            &[],
            Some(token),
        )
    };

    let placeholder = whatsapp("EAAG…\n");
    let spaced = whatsapp("EAAG abc\n");
    let empty = whatsapp("\n");

    for out in [&placeholder, &spaced, &empty] {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
        assert!(stderr(out).contains("access token"), "{}", stderr(out));
    }
    assert!(stderr(&placeholder).contains("placeholder"));
    assert_eq!(stored_access_token(&cli, &rid), None);
}

/// A restaurant with a row in every table scoped to restaurants.
fn furnished_restaurant(cli: &Cli, name: &str) -> String {
    let rid = cli.new_id(&[
        "restaurant",
        "add",
        "--name",
        name,
        "--country",
        "FR",
        "--timezone",
        "Europe/Paris",
    ]);
    cli.new_id(&["token", "create", "--restaurant", &rid]);
    cli.ok(&[
        "template",
        "set",
        "--restaurant",
        &rid,
        "--type",
        "MISSED_CALL",
        "--name",
        "mc",
        "--language",
        "fr",
    ]);
    let customer = cli.new_id(&[
        "customer",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "0612345678",
    ]);
    let reservation = cli.new_id(&[
        "reservation",
        "add",
        "--restaurant",
        &rid,
        "--phone",
        "0612345678",
        "--start",
        "2099-07-14T20:30",
        "--party-size",
        "2",
    ]);
    cli.db()
        .execute(
            "INSERT INTO calls (id, restaurant_id, caller_raw, caller_e164, customer_id,
                                reservation_id, occurred_at, created_at, updated_at, outcome)
             VALUES (?1, ?2, '0612345678', '+33612345678', ?3, ?4, 0, 0, 0, 'SKIPPED_STALE')",
            [format!("call_{name}"), rid.clone(), customer, reservation],
        )
        .expect("call");
    rid
}

fn rows_of(cli: &Cli, rid: &str) -> i64 {
    let conn = cli.db();
    [
        "restaurants WHERE id",
        "partner_tokens WHERE restaurant_id",
        "templates WHERE restaurant_id",
        "customers WHERE restaurant_id",
        "reservations WHERE restaurant_id",
        "calls WHERE restaurant_id",
    ]
    .iter()
    .map(|from| {
        conn.query_row(&format!("SELECT COUNT(*) FROM {from} = ?1"), [rid], |r| {
            r.get::<_, i64>(0)
        })
        .expect("count")
    })
    .sum()
}

#[test]
fn restaurant_remove_without_yes_refuses_and_says_what_would_go() {
    let cli = Cli::new();
    let rid = furnished_restaurant(&cli, "Chez Reste");

    let out = cli.run(&["restaurant", "remove", &rid]);

    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let said = stderr(&out);
    for what in [
        "1 call",
        "1 reservation",
        "1 customer",
        "1 template",
        "1 token",
        "--yes",
    ] {
        assert!(said.contains(what), "{what} in {said}");
    }
    assert_eq!(rows_of(&cli, &rid), 6, "nothing was deleted");
}

#[test]
fn restaurant_remove_with_yes_deletes_it_and_everything_scoped_to_it_and_nothing_else() {
    let cli = Cli::new();
    let gone = furnished_restaurant(&cli, "Chez Parti");
    let kept = furnished_restaurant(&cli, "Chez Reste");

    let out = cli.run(&["restaurant", "remove", &gone, "--yes"]);
    let unknown = cli.run(&["restaurant", "remove", &gone, "--yes"]);

    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(stderr(&out).lines().count(), 1);
    assert!(stderr(&out).contains("removed"));
    assert_eq!(rows_of(&cli, &gone), 0);
    assert_eq!(rows_of(&cli, &kept), 6);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stdout(&unknown).is_empty());
}

#[test]
fn a_country_written_uk_is_refused_with_did_you_mean_gb() {
    let cli = Cli::new();

    let out = cli.run(&[
        "restaurant",
        "add",
        "--name",
        "The Missed Call",
        "--country",
        "UK",
        "--timezone",
        "Europe/London",
    ]);

    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean GB?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_telnyx_number_is_tied_in_e164_and_one_another_restaurant_holds_is_refused() {
    let cli = Cli::new();
    let first = restaurant(&cli);
    let second = restaurant(&cli);

    let tied = cli.run(&[
        "restaurant",
        "update",
        &first,
        "--telnyx-number",
        "01 87 65 43 21",
    ]);
    let taken = cli.run(&[
        "restaurant",
        "update",
        &second,
        "--telnyx-number",
        "+33187654321",
    ]);
    let invalid = cli.run(&["restaurant", "update", &second, "--telnyx-number", "12"]);
    let listed = cli.json(&["restaurant", "list", "--json"]);

    assert!(tied.status.success(), "{}", stderr(&tied));
    assert!(stderr(&tied).contains("Telnyx number"), "{}", stderr(&tied));
    assert_eq!(taken.status.code(), Some(1));
    assert!(
        stderr(&taken).contains(&format!("already tied to restaurant {first}")),
        "{}",
        stderr(&taken)
    );
    assert_eq!(invalid.status.code(), Some(2), "{}", stderr(&invalid));
    let number_of = |id: &str| {
        listed
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["telnyx_number"].clone())
    };
    assert_eq!(number_of(&first), Some(serde_json::json!("+33187654321")));
    assert_eq!(number_of(&second), Some(serde_json::Value::Null));

    let untied = cli.run(&["restaurant", "update", &first, "--telnyx-number", "none"]);
    let now_free = cli.run(&[
        "restaurant",
        "update",
        &second,
        "--telnyx-number",
        "+33187654321",
    ]);
    assert!(untied.status.success(), "{}", stderr(&untied));
    assert!(now_free.status.success(), "{}", stderr(&now_free));
}

#[test]
fn a_large_restaurant_is_removed_in_short_transactions_and_every_row_is_counted() {
    let cli = Cli::new();
    let gone = furnished_restaurant(&cli, "Chez Beaucoup");
    let kept = furnished_restaurant(&cli, "Chez Reste");
    // Thousands of customers, each with a reservation and two calls: several chunks of each.
    cli.db()
        .execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4500)
             INSERT INTO customers (id, restaurant_id, phone_e164, source, created_at)
             SELECT printf('cus_big%06d', i), '{gone}', printf('+336%08d', i), 'IMPORT', 0 FROM n;
             INSERT INTO reservations (id, restaurant_id, customer_id, start_at, party_size,
                                       status, source, created_at, updated_at)
             SELECT 'res_' || substr(id, 5), '{gone}', id, 0, 2, 'CONFIRMED', 'OTHER', 0, 0
             FROM customers WHERE id LIKE 'cus_big%';
             INSERT INTO calls (id, restaurant_id, customer_id, caller_raw, caller_e164,
                                occurred_at, created_at, updated_at, outcome)
             SELECT 'call_' || k || substr(c.id, 5), '{gone}', c.id, c.phone_e164, c.phone_e164,
                    0, 0, 0, 'SENT'
             FROM customers c, (SELECT 'a' AS k UNION ALL SELECT 'b')
             WHERE c.id LIKE 'cus_big%';"
        ))
        .expect("a large restaurant");

    let out = cli.run(&["restaurant", "remove", &gone, "--yes"]);

    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    for counted in ["9001 calls", "4501 reservations", "4501 customers"] {
        assert!(said.contains(counted), "{counted} in {said}");
    }
    assert_eq!(rows_of(&cli, &gone), 0);
    assert_eq!(rows_of(&cli, &kept), 6);
}
