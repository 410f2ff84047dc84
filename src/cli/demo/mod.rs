//! `ringback demo`: a French demo restaurant with the sandbox transport, ready to curl.

mod banner;

use std::path::PathBuf;

use jiff::{ToSpan, Zoned};
use rusqlite::Connection;

pub use banner::banner;

use super::error::{AdminError, CommandError};
use super::{reservations, restaurants, serve, templates};
use crate::config::{Config, TransportKind};
use crate::db::{self, restaurants::RestaurantChanges};
use crate::domain::TemplateType;
use crate::vault::Vault;

pub const DEMO_DB: &str = "ringback-demo.db";
const NAME: &str = "Le Petit Ringback";
const TIMEZONE: &str = "Europe/Paris";
/// The console's demo user. The demo database serves only the sandbox on this machine, so a
/// printed password is fine here and nowhere else.
pub const CONSOLE_USER: &str = "demo";
pub const CONSOLE_PASSWORD: &str = "ringback-demo";

/// The guests a demo run books for tomorrow evening, one per run, so that the printed command
/// for "a guest with a booking" is never in the cooldown of an earlier run's.
const GUESTS: [&str; 8] = [
    "Camille Martin",
    "Léa Dubois",
    "Hugo Bernard",
    "Chloé Petit",
    "Louis Moreau",
    "Manon Laurent",
    "Jules Lefèvre",
    "Inès Girard",
];

pub struct DemoSeed {
    pub restaurant_id: String,
    pub token: String,
    /// A number the restaurant has never seen, for the first printed command.
    pub unknown_caller: String,
    /// The guest booked for tomorrow at 20:00, and their number, for the second.
    pub guest_name: String,
    pub guest_phone: String,
}

/// The demo's configuration: its own database (unless `--db` says otherwise), the sandbox.
pub fn demo_config(mut config: Config, db_flag: Option<PathBuf>) -> Config {
    config.database.path = db_flag.unwrap_or_else(|| PathBuf::from(DEMO_DB));
    config.whatsapp.transport = TransportKind::Sandbox;
    config
}

/// Seeds the demo restaurant the first time; on every start, reuses it and its partner token,
/// and books a new guest for tomorrow evening on a number never used before.
pub fn seed(conn: &Connection, vault: &Vault) -> Result<DemoSeed, AdminError> {
    let existing = restaurants::list_restaurants(conn)?
        .into_iter()
        .find(|r| r.name == NAME);
    let restaurant_id = match existing {
        Some(r) => {
            // A demo database kept while its key file was deleted: its sandbox token is sealed
            // again under the key there is now, so the demo still "sends".
            let opens = r
                .whatsapp
                .as_ref()
                .is_some_and(|w| vault.open(&r.id, &w.access_token).is_ok());
            if !opens {
                connect_sandbox_whatsapp(conn, &r.id, vault)?;
            }
            r.id
        }
        None => create_restaurant(conn, vault)?,
    };
    let token = partner_token(conn, &restaurant_id, vault)?;
    let (guest_name, guest_phone) = book_guest(conn, &restaurant_id)?;
    add_console_user(conn, &restaurant_id)?;
    let unknown_caller = fresh_number(conn, &restaurant_id, "07 8")?;
    Ok(DemoSeed {
        restaurant_id,
        token,
        unknown_caller,
        guest_name,
        guest_phone,
    })
}

/// Books the next of `GUESTS` for tomorrow at 20:00, on a number the restaurant has never seen;
/// returns the guest's name and number.
fn book_guest(conn: &Connection, restaurant_id: &str) -> Result<(String, String), AdminError> {
    let guests = crate::db::customers::list_customers(conn, restaurant_id)?.len();
    let guest_name = GUESTS[guests % GUESTS.len()].to_string();
    let guest_phone = fresh_number(conn, restaurant_id, "06 4")?;
    let now =
        Zoned::now().with_time_zone(crate::time::zone(TIMEZONE).unwrap_or(jiff::tz::TimeZone::UTC));
    let tomorrow = now
        .checked_add(1.day())
        .map_err(|e| AdminError::Failed(e.to_string()))?;
    let start = format!("{}T20:00:00", tomorrow.strftime("%Y-%m-%d"));
    reservations::add_reservation(
        conn,
        &reservations::ReservationSpec {
            restaurant_id,
            phone: &guest_phone,
            start: &start,
            party_size: 2,
            status: "CONFIRMED",
            name: Some(&guest_name),
            external_id: None,
        },
        crate::config::MissedCallsConfig::default().conversion_window_days,
    )?;
    Ok((guest_name, guest_phone))
}

/// The console's demo user, the first time.
fn add_console_user(conn: &Connection, restaurant_id: &str) -> Result<(), AdminError> {
    if crate::db::users::find_login(conn, CONSOLE_USER)?.is_none() {
        let hash = crate::console::password::hash_password(CONSOLE_PASSWORD)
            .map_err(|e| AdminError::Failed(e.to_string()))?;
        crate::db::users::insert_user(
            conn,
            CONSOLE_USER,
            &hash,
            Some(restaurant_id),
            None,
            crate::time::now_ms(),
        )?;
    }
    Ok(())
}

/// The demo's partner token: derived from its key file, so that every run prints the same one
/// while the database keeps only its hash. A derived token someone revoked is passed over for
/// the next one (`… 1`, `… 2`), so revoking it is how a leaked demo token is replaced. Other
/// `demo` tokens (from a key file since replaced, or from releases that made one per run) are
/// revoked: one demo token at a time.
fn partner_token(
    conn: &Connection,
    restaurant_id: &str,
    vault: &Vault,
) -> Result<String, AdminError> {
    let mut chosen = None;
    for generation in 0..1000 {
        let Ok(bytes) = vault.derive(&format!("demo partner token {restaurant_id} {generation}"))
        else {
            break;
        };
        let token = format!("rbk_{}", hex::encode(&bytes[..20]));
        let hash = crate::auth::hash_token(&token);
        match crate::db::tokens::find_token_by_hash(conn, &hash)? {
            Some(t) if t.revoked_at.is_some() => continue,
            Some(t) => chosen = Some((token, Some(t.id))),
            None => chosen = Some((token, None)),
        }
        break;
    }
    // Without a usable key file there is nothing to derive from: a token of this run only.
    let (token, current) = chosen.unwrap_or_else(|| (crate::auth::generate_token(), None));
    for t in crate::db::tokens::list_tokens(conn, Some(restaurant_id))? {
        if t.revoked_at.is_none()
            && t.name.as_deref() == Some("demo")
            && Some(&t.id) != current.as_ref()
        {
            crate::db::tokens::revoke_token(conn, &t.id)?;
        }
    }
    if current.is_none() {
        crate::db::tokens::insert_token(
            conn,
            restaurant_id,
            Some("demo"),
            &crate::auth::hash_token(&token),
        )?;
    }
    Ok(token)
}

/// A French mobile number starting `prefix` that neither a customer nor a call of the
/// restaurant has used, written as a person types it (`07 81 52 33 90`).
fn fresh_number(
    conn: &Connection,
    restaurant_id: &str,
    prefix: &str,
) -> Result<String, AdminError> {
    for _ in 0..100 {
        let digits: u32 = rand::random_range(0..10_000_000);
        let d = format!("{digits:07}");
        let typed = format!(
            "{prefix}{} {} {} {}",
            &d[0..1],
            &d[1..3],
            &d[3..5],
            &d[5..7]
        );
        let e164 = format!("+33{}", typed[1..].replace(' ', ""));
        if !crate::db::customers::number_known(conn, restaurant_id, &e164)? {
            return Ok(typed);
        }
    }
    Err(AdminError::Failed(
        "no unused demo number found; start from a new demo database".into(),
    ))
}

fn connect_sandbox_whatsapp(conn: &Connection, id: &str, vault: &Vault) -> Result<(), AdminError> {
    restaurants::set_whatsapp(
        conn,
        id,
        // The sandbox sends nothing: any id in Meta's shape (digits) will do.
        Some(("100000000000000", "demo-access-token")),
        vault,
    )
}

fn create_restaurant(conn: &Connection, vault: &Vault) -> Result<String, AdminError> {
    let id = restaurants::add_restaurant(
        conn,
        NAME,
        "FR",
        TIMEZONE,
        Some("https://book.example.com/le-petit-ringback"),
    )?;
    restaurants::update_restaurant(
        conn,
        &id,
        RestaurantChanges {
            missed_calls_enabled: Some(true),
            ..Default::default()
        },
    )?;
    connect_sandbox_whatsapp(conn, &id, vault)?;
    for (template_type, name, body) in [
        (
            TemplateType::MissedCall,
            "missed_call",
            vec!["customer_name", "restaurant_name", "booking_link"],
        ),
        (
            TemplateType::MissedCallWithReservation,
            "missed_call_with_reservation",
            vec![
                "customer_name",
                "restaurant_name",
                "reservation_date",
                "reservation_time",
                "party_size",
            ],
        ),
    ] {
        templates::set_template(
            conn,
            &templates::TemplateSpec {
                restaurant_id: id.clone(),
                template_type,
                name: name.into(),
                language: "fr".into(),
                status: "APPROVED".into(),
                body_params: body.into_iter().map(str::to_string).collect(),
                button_param: None,
                name_fallback: None,
                active: true,
            },
        )?;
    }
    Ok(id)
}

/// Opens (or creates) the demo database and seeds it.
pub fn prepare(config: &Config) -> Result<DemoSeed, AdminError> {
    let mut conn = db::open(&config.database.path)?;
    let key_path = config.database.key_path();
    Vault::create_if_missing(&key_path).map_err(|e| {
        AdminError::Failed(format!(
            "cannot create the key file {}: {e}",
            key_path.display()
        ))
    })?;
    let vault = Vault::load(&key_path);
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let seed = seed(&tx, &vault)?;
    tx.commit()?;
    Ok(seed)
}

/// Seeds the demo database, prints the token and two curl commands, and serves.
pub fn serve_demo(config: Config) -> Result<(), CommandError> {
    let seed = prepare(&config)?;
    let database = config.database.path.clone();
    serve::serve(
        config,
        Some(Box::new(move |scheme, addr| {
            banner(&seed, scheme, addr, &database)
        })),
    )
}
