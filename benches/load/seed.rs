//! Arranging the database before a phase: restaurants, tokens, and a pre-filled ledger.

use std::path::Path;

use ringback::admin::{restaurants, templates, tokens};
use ringback::db::restaurants::RestaurantChanges;
use ringback::db::templates::TemplateType;
use rusqlite::params;

pub struct Restaurant {
    pub token: String,
}

/// A French restaurant with WhatsApp connected and both templates; the feature on or off.
pub fn restaurant(db: &Path, name: &str, feature_on: bool) -> Restaurant {
    let conn = ringback::db::open(db).expect("db");
    let id =
        restaurants::add_restaurant(&conn, name, "FR", "Europe/Paris", Some("https://b.example"))
            .expect("restaurant");
    restaurants::update_restaurant(
        &conn,
        &id,
        RestaurantChanges {
            missed_calls_enabled: Some(feature_on),
            ..Default::default()
        },
    )
    .expect("feature");
    restaurants::set_whatsapp(&conn, &id, Some(("1065403522", "EAAGbench"))).expect("wa");
    for (template_type, name) in [
        (TemplateType::MissedCall, "mc"),
        (TemplateType::MissedCallWithReservation, "mcr"),
    ] {
        templates::set_template(
            &conn,
            &templates::TemplateSpec {
                restaurant_id: id.clone(),
                template_type,
                name: name.into(),
                language: "fr".into(),
                status: "APPROVED".into(),
                body_params: vec!["customer_name".into(), "restaurant_name".into()],
                button_param: Some("booking_token".into()),
                name_fallback: None,
                active: true,
            },
        )
        .expect("template");
    }
    let (_, token) = tokens::create_token(&conn, &id, Some("bench")).expect("token");
    Restaurant { token }
}

/// Valid French mobile numbers, `count` of them, starting at `from` in a numbering of our own.
pub fn numbers(from: u64, count: usize) -> Vec<String> {
    (from..)
        .map(|k| format!("+336{:08}", k % 100_000_000))
        .filter(|n| ringback::phone::normalise(n, "FR").is_ok())
        .take(count)
        .collect()
}

/// Adds `rows` ledger rows spread over `restaurants` extra restaurants and 100 000 callers, with
/// times over the last 60 days, in one transaction: the history a busy box accumulates.
pub fn prefill_ledger(db: &Path, rows: usize, restaurants: usize, seed: u64) {
    let mut conn = ringback::db::open(db).expect("db");
    let tx = conn.transaction().expect("tx");
    let ids: Vec<String> = (0..restaurants)
        .map(|i| {
            restaurants::add_restaurant(
                &tx,
                &format!("History {seed}-{i}"),
                "FR",
                "Europe/Paris",
                None,
            )
            .expect("restaurant")
        })
        .collect();
    let now = jiff::Timestamp::now().as_millisecond();
    let outcomes = [
        "SENT",
        "SKIPPED_COOLDOWN",
        "SKIPPED_HIDDEN_NUMBER",
        "UNDELIVERABLE",
        "FAILED",
    ];
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO calls (id, restaurant_id, external_call_id, caller_raw, caller_e164,
                                    occurred_at, created_at, updated_at, outcome, message_id)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?5, ?5, ?6, ?7)",
            )
            .expect("prepare");
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        for i in 0..rows {
            // A small LCG: reproducible spread without another dependency.
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let restaurant = &ids[(x >> 33) as usize % ids.len()];
            let caller = format!("+3375{:07}", (x >> 20) % 100_000);
            let at = now - ((x >> 7) % (60 * 24 * 3_600_000)) as i64;
            let outcome = outcomes[(x >> 45) as usize % outcomes.len()];
            let message = (outcome == "SENT").then(|| format!("wamid.h{seed}-{i}"));
            insert
                .execute(params![
                    format!("call_h{seed}_{i}"),
                    restaurant,
                    format!("hist-{seed}-{i}"),
                    caller,
                    at,
                    outcome,
                    message
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
}
