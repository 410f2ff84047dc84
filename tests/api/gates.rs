//! SPEC §1 step 7: each gate, their order, and the reservation lookup of §4.3.

use ringback::cli::customers::set_suppression;
use ringback::cli::restaurants::set_whatsapp;
use ringback::db::restaurants::RestaurantChanges;
use ringback::domain::TemplateType;
use serde_json::{Value, json};

use crate::helpers::*;

const CALLER: &str = "+33612345678";

/// Opens the gate before the one a step expects to close.
type OpenGate<'a> = Box<dyn Fn() + 'a>;

async fn outcome_of(app: &TestApp, body: Value) -> Value {
    let (status, body) = app.report_json(body).await;
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn a_restaurant_with_the_feature_off_skips_with_feature_disabled() {
    let app = spawn_app().await;
    app.update_restaurant(RestaurantChanges {
        missed_calls_enabled: Some(false),
        ..Default::default()
    });

    let data = outcome_of(&app, json!({"caller_phone_number": CALLER})).await;

    assert_eq!(data["outcome"], "SKIPPED_FEATURE_DISABLED");
    assert_eq!(data["template_type"], "MISSED_CALL");
    assert!(app.whatsapp.requests().is_empty());
}

#[tokio::test]
async fn a_restaurant_without_whatsapp_skips_with_no_whatsapp() {
    let app = spawn_app().await;
    set_whatsapp(&app.db(), &app.restaurant.id, None, &vault_of(&app.db())).expect("disable");

    let data = outcome_of(&app, json!({"caller_phone_number": CALLER})).await;

    assert_eq!(data["outcome"], "SKIPPED_NO_WHATSAPP");
}

#[tokio::test]
async fn a_hidden_caller_skips_without_a_customer_or_template_type() {
    let app = spawn_app().await;

    let data = outcome_of(&app, json!({"caller_phone_number": " Anonymous "})).await;

    assert_eq!(data["outcome"], "SKIPPED_HIDDEN_NUMBER");
    assert_eq!(data["caller_phone_number"], " Anonymous ");
    assert_eq!(data["customer_id"], json!(null));
    assert_eq!(data["template_type"], json!(null));
    let customers: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM customers", [], |r| r.get(0))
        .expect("count");
    assert_eq!(customers, 0);
}

#[tokio::test]
async fn every_hidden_caller_encoding_of_the_spec_is_hidden() {
    let app = spawn_app().await;
    for raw in [
        "private",
        "RESTRICTED",
        "unknown",
        "unavailable",
        "withheld",
        "blocked",
        "hidden",
        "anonymous@anonymous.invalid",
        "sip:anonymous@anonymous.invalid",
        "000",
        "+0000",
        "+266696687",
        "+7378742833",
        "+86282452253",
        "+2562533",
        "+8656696",
    ] {
        let data = outcome_of(&app, json!({"caller_phone_number": raw})).await;
        assert_eq!(data["outcome"], "SKIPPED_HIDDEN_NUMBER", "{raw}");
    }
}

#[tokio::test]
async fn a_suppressed_customer_skips_with_suppressed() {
    let app = spawn_app().await;
    set_suppression(&app.db(), &app.restaurant.id, CALLER, true).expect("suppress");

    let data = outcome_of(&app, json!({"caller_phone_number": CALLER})).await;

    assert_eq!(data["outcome"], "SKIPPED_SUPPRESSED");
}

#[tokio::test]
async fn a_missing_reservation_template_skips_with_no_template_and_never_falls_back() {
    let app = spawn_app().await;
    app.add_reservation(CALLER, 60, "CONFIRMED");
    set_template(
        &app.db(),
        &app.restaurant.id,
        TemplateType::MissedCallWithReservation,
        "APPROVED",
        false,
    );

    let data = outcome_of(&app, json!({"caller_phone_number": CALLER})).await;

    assert_eq!(data["outcome"], "SKIPPED_NO_TEMPLATE");
    assert_eq!(data["template_type"], "MISSED_CALL_WITH_RESERVATION");
    assert!(app.whatsapp.requests().is_empty());
}

#[tokio::test]
async fn a_call_older_than_the_stale_limit_skips_with_stale() {
    let app = spawn_app().await;

    let data = outcome_of(
        &app,
        json!({"caller_phone_number": CALLER, "occurred_at": minutes_from_now(-1441)}),
    )
    .await;

    assert_eq!(data["outcome"], "SKIPPED_STALE");
}

#[tokio::test]
async fn the_cooldown_holds_before_and_after_a_sent_call() {
    let app = spawn_app().await;
    let sent = outcome_of(
        &app,
        json!({"caller_phone_number": CALLER, "occurred_at": minutes_from_now(-720)}),
    )
    .await;
    assert_eq!(sent["outcome"], "SENT");

    let later = outcome_of(
        &app,
        json!({"caller_phone_number": "06 12 34 56 78", "occurred_at": minutes_from_now(-720 + 359)}),
    )
    .await;
    let earlier = outcome_of(
        &app,
        json!({"caller_phone_number": CALLER, "occurred_at": minutes_from_now(-720 - 359)}),
    )
    .await;

    assert_eq!(later["outcome"], "SKIPPED_COOLDOWN");
    assert_eq!(earlier["outcome"], "SKIPPED_COOLDOWN");
    assert_eq!(app.whatsapp.requests().len(), 1);
}

#[tokio::test]
async fn a_call_six_hours_after_a_sent_call_is_sent_again() {
    let app = spawn_app().await;
    let first = outcome_of(
        &app,
        json!({"caller_phone_number": CALLER, "occurred_at": minutes_from_now(-400)}),
    )
    .await;
    assert_eq!(first["outcome"], "SENT");

    let second = outcome_of(
        &app,
        json!({"caller_phone_number": CALLER, "occurred_at": minutes_from_now(-40)}),
    )
    .await;

    assert_eq!(second["outcome"], "SENT");
}

#[tokio::test]
async fn a_skipped_call_does_not_start_a_cooldown() {
    let app = spawn_app().await;
    app.update_restaurant(RestaurantChanges {
        missed_calls_enabled: Some(false),
        ..Default::default()
    });
    outcome_of(&app, json!({"caller_phone_number": CALLER})).await;
    app.update_restaurant(RestaurantChanges {
        missed_calls_enabled: Some(true),
        ..Default::default()
    });

    let data = outcome_of(&app, json!({"caller_phone_number": CALLER})).await;

    assert_eq!(data["outcome"], "SENT");
}

#[tokio::test]
async fn a_balance_below_the_message_cost_skips_with_low_balance() {
    let app = spawn_app().await;
    app.update_restaurant(RestaurantChanges {
        balance_cents: Some(Some(4)),
        message_cost_cents: Some(5),
        ..Default::default()
    });

    let data = outcome_of(&app, json!({"caller_phone_number": CALLER})).await;

    assert_eq!(data["outcome"], "SKIPPED_LOW_BALANCE");
    assert_eq!(app.balance(), Some(4));
}

/// Closes every gate, then opens them one by one from the first: each report must name the
/// first gate still closed.
#[tokio::test]
async fn the_first_closed_gate_decides_in_the_order_of_the_spec() {
    let app = spawn_app().await;
    let db = app.db();
    let rid = app.restaurant.id.clone();
    // An earlier SENT call for the cooldown gate, 1 hour ago.
    let earlier = outcome_of(
        &app,
        json!({"caller_phone_number": CALLER, "occurred_at": minutes_from_now(-60)}),
    )
    .await;
    assert_eq!(earlier["outcome"], "SENT");
    app.update_restaurant(RestaurantChanges {
        missed_calls_enabled: Some(false),
        balance_cents: Some(Some(0)),
        message_cost_cents: Some(1),
        ..Default::default()
    });
    set_whatsapp(&db, &rid, None, &vault_of(&db)).expect("wa off");
    set_suppression(&db, &rid, CALLER, true).expect("suppressed");
    set_template(&db, &rid, TemplateType::MissedCall, "REJECTED", true);

    // Hidden callers are checked at gate 3; the rest use CALLER, 30 minutes after the first
    // call, within its cooldown and (from gate 6 on) more than a day old... which the stale
    // gate needs: so a separate stale time is used for gates up to 6.
    let stale_time = minutes_from_now(-1500);
    let gate = |caller: &str, at: &str| json!({"caller_phone_number": caller, "occurred_at": at});

    let steps: Vec<(&str, OpenGate<'_>)> = vec![
        ("SKIPPED_FEATURE_DISABLED", Box::new(|| {})),
        (
            "SKIPPED_NO_WHATSAPP",
            Box::new(|| {
                app.update_restaurant(RestaurantChanges {
                    missed_calls_enabled: Some(true),
                    ..Default::default()
                })
            }),
        ),
        (
            "SKIPPED_SUPPRESSED",
            Box::new(|| {
                set_whatsapp(
                    &app.db(),
                    &rid,
                    Some((PHONE_NUMBER_ID, ACCESS_TOKEN)),
                    &vault_of(&app.db()),
                )
                .expect("wa")
            }),
        ),
        (
            "SKIPPED_NO_TEMPLATE",
            Box::new(|| {
                set_suppression(&app.db(), &rid, CALLER, false).expect("unsuppress");
            }),
        ),
        (
            "SKIPPED_STALE",
            Box::new(|| set_template(&app.db(), &rid, TemplateType::MissedCall, "APPROVED", true)),
        ),
    ];
    for (expected, open_previous_gate) in steps {
        open_previous_gate();
        let data = outcome_of(&app, gate(CALLER, &stale_time)).await;
        assert_eq!(data["outcome"], expected);
    }
    // Gate 3 sits between 2 and 4: a hidden caller with gates 1-2 open.
    let hidden = outcome_of(&app, gate("withheld", &stale_time)).await;
    assert_eq!(hidden["outcome"], "SKIPPED_HIDDEN_NUMBER");
    // Gate 7 before 8: in the cooldown and short of balance.
    let cooldown = outcome_of(&app, gate(CALLER, &minutes_from_now(-30))).await;
    assert_eq!(cooldown["outcome"], "SKIPPED_COOLDOWN");
    let low = outcome_of(&app, gate("+33698765432", &minutes_from_now(-30))).await;
    assert_eq!(low["outcome"], "SKIPPED_LOW_BALANCE");
    assert_eq!(app.whatsapp.requests().len(), 1);
}

#[tokio::test]
async fn a_reservation_that_started_within_the_grace_period_still_counts() {
    let app = spawn_app().await;
    let reservation = app.add_reservation(CALLER, -100, "CONFIRMED");

    let data = outcome_of(&app, json!({"caller_phone_number": CALLER})).await;

    assert_eq!(data["reservation_id"], reservation.as_str());
    assert_eq!(data["template_type"], "MISSED_CALL_WITH_RESERVATION");
}

#[tokio::test]
async fn a_reservation_that_started_before_the_grace_period_does_not_count() {
    let app = spawn_app().await;
    app.add_reservation(CALLER, -130, "CONFIRMED");

    let data = outcome_of(&app, json!({"caller_phone_number": CALLER})).await;

    assert_eq!(data["reservation_id"], json!(null));
    assert_eq!(data["template_type"], "MISSED_CALL");
}

#[tokio::test]
async fn closed_reservation_statuses_are_not_upcoming() {
    let app = spawn_app().await;
    for status in [
        "REJECTED",
        "CANCELED",
        "NO_SHOW",
        "SHOWED_UP",
        "SEATED",
        "PARTIALLY_SEATED",
        "SEATED_FOR_DRINKS",
        "DONE",
    ] {
        app.add_reservation(CALLER, 60, status);
    }

    let data = outcome_of(&app, json!({"caller_phone_number": CALLER})).await;

    assert_eq!(data["reservation_id"], json!(null));
}

#[tokio::test]
async fn the_earliest_upcoming_reservation_of_any_open_status_is_chosen() {
    let app = spawn_app().await;
    app.add_reservation(CALLER, 600, "CONFIRMED");
    let earliest = app.add_reservation(CALLER, 120, "PENDING_PAYMENT");
    app.add_reservation(CALLER, 60, "CANCELED");

    let data = outcome_of(&app, json!({"caller_phone_number": CALLER})).await;

    assert_eq!(data["reservation_id"], earliest.as_str());
}
