//! The console's route table.

use axum::Router;
use axum::routing::{get, post};

use super::ConsoleApp;
use super::{acts, api, export, login, negotiate, origin, pages, redirect};

/// The console's routes (SPEC §9), with the own-origin rule for every state-changing request
/// and the security headers on every answer.
pub fn routes(state: ConsoleApp) -> Router<ConsoleApp> {
    use axum::http::{HeaderName, HeaderValue};
    use tower_http::set_header::SetResponseHeaderLayer;
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    Router::new()
        .route("/console", get(pages::redirect_to_console))
        .route("/console/", get(pages::get_console))
        .route("/console/login", get(pages::get_login).post(login::login))
        .route("/console/logout", post(login::logout))
        .route("/console/assets/{file}", get(pages::get_asset))
        .route(
            "/console/api/me",
            get(api::get_me).post(acts::set_my_language),
        )
        .route(
            "/console/api/restaurants",
            get(api::list_console_restaurants),
        )
        .route("/console/api/calls", get(api::list_calls))
        .route("/console/api/calls/{id}", get(acts::get_call))
        .route(
            "/console/api/customers/{id}/suppression",
            post(acts::set_suppression),
        )
        .route("/console/api/indicators", get(api::get_indicators))
        .route("/console/api/daily", get(api::get_daily))
        .route("/console/export.csv", get(export::export_calls))
        .route("/r/{token}", get(redirect::follow_link))
        .route(
            "/console/{*rest}",
            axum::routing::any(pages::console_not_found),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            origin::same_origin_only,
        ))
        // Outside the origin rule, so that its refusal is said in the user's language too.
        .layer(axum::middleware::from_fn_with_state(
            state,
            negotiate::speak,
        ))
        .layer(header(
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'",
        ))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("referrer-policy", "no-referrer"))
}
