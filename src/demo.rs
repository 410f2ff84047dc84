//! `ringback demo`: a French demo restaurant with the sandbox transport, ready to curl.

use std::path::PathBuf;

use jiff::{ToSpan, Zoned};
use rusqlite::Connection;

use crate::admin::{self, AdminError, customers, reservations, restaurants, templates, tokens};
use crate::config::{Config, TransportKind};
use crate::db::{self, restaurants::RestaurantChanges, templates::TemplateType};
use crate::vault::Vault;

pub const DEMO_DB: &str = "ringback-demo.db";
const NAME: &str = "Le Petit Ringback";
const TIMEZONE: &str = "Europe/Paris";
const CUSTOMER_PHONE: &str = "+33612345678";
const CUSTOMER_NAME: &str = "Camille Martin";
/// A caller the restaurant has never seen.
const UNKNOWN_PHONE: &str = "07 81 23 45 67";
/// The console's demo user. The demo database serves only the sandbox on this machine, so a
/// printed password is fine here and nowhere else.
pub const CONSOLE_USER: &str = "demo";
pub const CONSOLE_PASSWORD: &str = "ringback-demo";

pub struct DemoSeed {
    pub restaurant_id: String,
    pub token: String,
}

/// The demo's configuration: its own database (unless `--db` says otherwise), the sandbox.
pub fn demo_config(mut config: Config, db_flag: Option<PathBuf>) -> Config {
    config.database.path = db_flag.unwrap_or_else(|| PathBuf::from(DEMO_DB));
    config.whatsapp.transport = TransportKind::Sandbox;
    config
}

/// Seeds the demo restaurant the first time, and on every start makes sure the named customer
/// has an upcoming booking and that a fresh partner token exists (tokens are stored hashed, so
/// an old one cannot be shown again).
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
    let restaurant = admin::require_restaurant(conn, &restaurant_id)?;
    let customer =
        crate::db::customers::find_customer_by_phone(conn, &restaurant_id, CUSTOMER_PHONE)?;
    let now =
        Zoned::now().with_time_zone(crate::time::zone(TIMEZONE).unwrap_or(jiff::tz::TimeZone::UTC));
    let upcoming = match &customer {
        Some(c) => crate::db::reservations::find_upcoming_reservation(
            conn,
            &restaurant.id,
            &c.id,
            now.timestamp().as_millisecond(),
        )?,
        None => None,
    };
    if upcoming.is_none() {
        let tomorrow = now
            .checked_add(1.day())
            .map_err(|e| admin::AdminError::Failed(e.to_string()))?;
        let start = format!("{}T20:00:00", tomorrow.strftime("%Y-%m-%d"));
        reservations::add_reservation(
            conn,
            &reservations::ReservationSpec {
                restaurant_id: &restaurant_id,
                phone: CUSTOMER_PHONE,
                start: &start,
                party_size: 2,
                status: "CONFIRMED",
                name: Some(CUSTOMER_NAME),
                external_id: None,
            },
            crate::config::MissedCallsConfig::default().conversion_window_days,
        )?;
    }
    if crate::db::users::find_login(conn, CONSOLE_USER)?.is_none() {
        let hash = crate::console::password::hash_password(CONSOLE_PASSWORD)
            .map_err(|e| AdminError::Failed(e.to_string()))?;
        crate::db::users::insert_user(
            conn,
            CONSOLE_USER,
            &hash,
            Some(&restaurant_id),
            crate::time::now_ms(),
        )?;
    }
    let (_, token) = tokens::create_token(conn, &restaurant_id, Some("demo"))?;
    Ok(DemoSeed {
        restaurant_id,
        token,
    })
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
    customers::add_customer(conn, &id, CUSTOMER_PHONE, Some(CUSTOMER_NAME))?;
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

/// What the demo prints before it serves.
pub fn banner(seed: &DemoSeed, base_url: &str, database: &std::path::Path) -> String {
    // Fresh call ids per start, so the printed commands are not replays of an earlier run.
    let run = crate::secret::random_alphanumeric(6).to_lowercase();
    let curl = |phone: &str, call_id: &str| {
        format!(
            "curl -s -X POST {base_url}/api/partner/v1/missed-calls \\\n  \
             -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\\n  \
             -d '{{\"caller_phone_number\": \"{phone}\", \"external_call_id\": \"{call_id}\"}}'",
            seed.token
        )
    };
    format!(
        "ringback demo: restaurant {NAME} ({}), sandbox transport, database {}\n\
         Partner token: {}\n\n\
         # A caller the restaurant does not know yet:\n{}\n\n\
         # {CUSTOMER_NAME}, who has a booking tomorrow at 20:00:\n{}\n\n\
         Console: {base_url}/console/ (user {CONSOLE_USER}, password {CONSOLE_PASSWORD})\n",
        seed.restaurant_id,
        database.display(),
        seed.token,
        curl(UNKNOWN_PHONE, &format!("demo-{run}-1")),
        curl(CUSTOMER_PHONE, &format!("demo-{run}-2")),
    )
}
