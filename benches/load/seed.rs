//! Arranging the database before a phase: restaurants, tokens, a pre-filled ledger and
//! pre-filled reservations.

use std::path::Path;

use ringback::cli::{restaurants, templates, tokens};
use ringback::db::restaurants::RestaurantChanges;
use ringback::domain::TemplateType;
use rusqlite::{Connection, params};

/// The WhatsApp phone number id every seeded restaurant sends from; Meta's webhooks name it.
pub const PHONE_NUMBER_ID: &str = "1065403522";

pub struct Restaurant {
    pub id: String,
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
    let key = db.with_file_name(ringback::config::KEY_FILE_NAME);
    ringback::vault::Vault::create_if_missing(&key).expect("key file");
    let vault = ringback::vault::Vault::load(&key);
    restaurants::set_whatsapp(&conn, &id, Some((PHONE_NUMBER_ID, "EAAGbench")), &vault)
        .expect("wa");
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
    Restaurant { id, token }
}

/// Valid French mobile numbers, `count` of them, starting at `from` in a numbering of our own.
pub fn numbers(from: u64, count: usize) -> Vec<String> {
    (from..)
        .map(|k| format!("+336{:08}", k % 100_000_000))
        .filter(|n| ringback::phone::normalise(n, "FR").is_ok())
        .take(count)
        .collect()
}

/// `count` extra restaurants, named after `seed`.
pub fn history_restaurants(conn: &Connection, count: usize, seed: u64) -> Vec<String> {
    (0..count)
        .map(|i| {
            restaurants::add_restaurant(
                conn,
                &format!("History {seed}-{i}"),
                "FR",
                "Europe/Paris",
                None,
            )
            .expect("restaurant")
        })
        .collect()
}

/// A small LCG: reproducible spread without another dependency.
fn next(x: &mut u64) -> u64 {
    *x = x
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *x
}

/// Adds `rows` ledger rows spread over `restaurants` extra restaurants and 100 000 callers, with
/// times over the last 60 days, in one transaction: the history a busy box accumulates.
pub fn prefill_ledger(db: &Path, rows: usize, restaurants: usize, seed: u64) {
    let mut conn = ringback::db::open(db).expect("db");
    let tx = conn.transaction().expect("tx");
    let ids = history_restaurants(&tx, restaurants, seed);
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
        let mut x = seed;
        next(&mut x);
        for i in 0..rows {
            next(&mut x);
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

/// Adds `own` reservations to `restaurant_id`, each with one of 20 000 customers of its own, and
/// `rows - own` more spread over `restaurants` extra restaurants, in one transaction. Start times
/// fall on quarter hours over the next two years, so several share a start and the id orders
/// them; statuses are mostly upcoming, as on a live book.
pub fn prefill_reservations(
    db: &Path,
    restaurant_id: &str,
    own: usize,
    rows: usize,
    restaurants: usize,
    seed: u64,
) {
    const CUSTOMERS: usize = 20_000;
    const QUARTER_HOUR: i64 = 15 * 60_000;
    const STATUSES: [&str; 6] = [
        "CONFIRMED",
        "CONFIRMED",
        "CONFIRMED",
        "PENDING",
        "CANCELED",
        "DONE",
    ];
    let mut conn = ringback::db::open(db).expect("db");
    // The seeding's own page cache, so that index inserts in random order stay in memory.
    conn.pragma_update(None, "cache_size", -262_144)
        .expect("cache size");
    let tx = conn.transaction().expect("tx");
    let others = history_restaurants(&tx, restaurants, seed);
    let now = jiff::Timestamp::now().as_millisecond();
    let customers: Vec<String> = (0..CUSTOMERS)
        .map(|k| format!("cus_b{seed}_{k:08}"))
        .collect();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO customers (id, restaurant_id, phone_e164, name, source, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'RESERVATION', ?5)",
            )
            .expect("prepare");
        for (k, id) in customers.iter().enumerate() {
            insert
                .execute(params![
                    id,
                    restaurant_id,
                    format!("+3377{k:07}"),
                    format!("Guest {k}"),
                    now
                ])
                .expect("customer");
        }
    }
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO reservations (id, restaurant_id, customer_id, start_at, party_size,
                                           status, source, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'WEBSITE', ?7, ?7)",
            )
            .expect("prepare");
        let mut x = seed;
        next(&mut x);
        for i in 0..rows {
            next(&mut x);
            let (restaurant, customer) = if i < own {
                (
                    restaurant_id,
                    Some(&customers[(x >> 20) as usize % CUSTOMERS]),
                )
            } else {
                (others[(x >> 33) as usize % others.len()].as_str(), None)
            };
            let slot = ((x >> 7) % (2 * 365 * 96)) as i64;
            insert
                .execute(params![
                    format!("res_{seed:04}{i:016}"),
                    restaurant,
                    customer,
                    now - now % QUARTER_HOUR + slot * QUARTER_HOUR,
                    1 + ((x >> 45) % 8) as i64,
                    STATUSES[(x >> 50) as usize % STATUSES.len()],
                    now
                ])
                .expect("reservation");
        }
    }
    tx.commit().expect("commit");
}
