//! Any request body: parsing a missed-call report never panics; it gives a report or an error
//! with a 4xx status.
#![no_main]

use axum::response::IntoResponse;
use libfuzzer_sys::fuzz_target;
use ringback::db::restaurants::Restaurant;
use ringback::routes::partner::parse_report;

fuzz_target!(|data: &[u8]| {
    let restaurant = Restaurant {
        id: "rst_fuzz".into(),
        name: "Fuzz".into(),
        country: "FR".into(),
        timezone: "Europe/Paris".into(),
        booking_url: None,
        missed_calls_enabled: true,
        balance_cents: None,
        message_cost_cents: 0,
        whatsapp: None,
        created_at: 0,
    };
    let now = 1_780_000_000_000;
    if let Err(e) = parse_report(data, &restaurant, 300, now) {
        let status = e.into_response().status();
        assert!(status.is_client_error(), "{status}");
    }
});
