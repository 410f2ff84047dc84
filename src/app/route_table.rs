//! The one route table: every path the server answers, and the layers around them.

use axum::Router;
use axum::routing::{get, post};

use crate::console::ConsoleState;
use crate::ops::health::{self, Readiness};
use crate::ops::openapi;
use crate::routes::{self, customers, partner, reservations};
use crate::state::{AppState, RoomState};
use crate::webhooks::{self, Webhooks};

/// The one route table. The console, the webhooks and operations each answer with their own
/// state beside the shared handles (`RoomState`); the partner API with the shared handles alone.
pub(super) fn routes(state: AppState, rooms: Rooms) -> Router {
    let operations = Router::new()
        .route("/api/partner/v1/openapi.json", get(openapi::get_openapi))
        .route("/healthz", get(health::get_health))
        .route("/readyz", get(health::get_readiness))
        .route("/metrics", get(health::get_metrics))
        .with_state(RoomState::new(state.clone(), rooms.readiness));
    let webhooks = Router::new()
        .route("/webhooks/telnyx", post(webhooks::telnyx::receive))
        .route(
            "/webhooks/whatsapp",
            get(webhooks::whatsapp::handshake).post(webhooks::whatsapp::receive),
        )
        .with_state(RoomState::new(state.clone(), rooms.webhooks));
    let console = RoomState::new(state.clone(), rooms.console);
    Router::new()
        .route(
            "/api/partner/v1/missed-calls",
            post(partner::report_missed_call),
        )
        .route(
            "/api/partner/v1/missed-calls/{id}",
            get(partner::get_missed_call),
        )
        .route("/api/partner/v1/me", get(partner::get_me))
        .route(
            "/api/partner/v1/reservations",
            post(reservations::create_reservation).get(reservations::list_reservations),
        )
        .route(
            "/api/partner/v1/reservations/{id}",
            get(reservations::get_reservation).patch(reservations::update_reservation),
        )
        .route(
            "/api/partner/v1/reservations/{id}/cancel",
            post(reservations::cancel_reservation),
        )
        .route("/api/partner/v1/customers", get(customers::find_customers))
        .route(
            "/api/partner/v1/customers/{id}",
            axum::routing::patch(customers::update_customer),
        )
        .merge(operations)
        .merge(webhooks)
        .merge(crate::console::routes(console.clone()).with_state(console))
        .merge(routes::test_routes())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        // Inside the request layer, so that a panic's 500 gets the envelope and the request id.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            routes::panicked,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            routes::request_layer,
        ))
        .with_state(state)
}

/// Each room's own state, made at start-up.
pub(super) struct Rooms {
    pub(super) readiness: Readiness,
    pub(super) webhooks: Webhooks,
    pub(super) console: ConsoleState,
}
