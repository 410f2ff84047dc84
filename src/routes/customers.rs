//! The customer endpoints (SPEC §7): look a customer up by number, change name or suppression.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;

use super::bodies::CustomerPatchRequest;
use super::input::{bool_field, path_id, query_pairs, read_object, string_field};
use super::reservation_input::phone;
use crate::auth::Authenticated;
use crate::bookings::{self, rules};
use crate::db::customers::find_customer_by_phone;
use crate::error::ApiError;
use crate::error::responses;
use crate::state::AppState;
use crate::views::{CustomerView, Data};

/// Find a customer by number
///
/// The number is normalised with the restaurant's country; at most one customer matches.
#[utoipa::path(
    get,
    path = "/api/partner/v1/customers",
    tag = "customers",
    security(("bearer" = [])),
    params(("phone_number" = String, Query, description = "E.164, or national for the restaurant's country")),
    responses(
        (status = 200, description = "The customer with that number, or none", body = Data<Vec<CustomerView>>),
        responses::Partner,
        responses::QueryString,
    ),
)]
pub async fn find_customers(
    State(state): State<AppState>,
    auth: Authenticated,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Data<Vec<CustomerView>>>, ApiError> {
    let params = query_pairs(query)?;
    let raw = params
        .iter()
        .find(|(k, _)| k == "phone_number")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| ApiError::malformed(Some("phone_number"), "phone_number is required"))?;
    let number = phone(raw, &auth.restaurant, "phone_number")?;
    let rid = auth.restaurant.id.clone();
    let found = crate::db::read(&state.reads, move |conn| {
        find_customer_by_phone(conn, &rid, number.as_str()).map_err(ApiError::from)
    })
    .await?;
    let data = found.iter().map(CustomerView::new).collect();
    Ok(Json(Data { data }))
}

/// Change a customer
///
/// Its name, or whether WhatsApp messages to it are suppressed.
#[utoipa::path(
    patch,
    path = "/api/partner/v1/customers/{id}",
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's id, `cus_…`")),
    request_body = CustomerPatchRequest,
    responses(
        (status = 200, description = "The customer as changed", body = Data<CustomerView>),
        responses::Partner,
        responses::JsonBody,
        responses::PathId,
    ),
)]
pub async fn update_customer(
    State(state): State<AppState>,
    auth: Authenticated,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Data<CustomerView>>, ApiError> {
    let id = path_id(id, "customer")?;
    let body = read_object(&headers, body, state.config.server.max_body_bytes).await?;
    // `"name": null` clears the name; an absent name leaves it.
    let name = if body.contains_key("name") {
        Some(rules::name(string_field(&body, "name")?, "name")?)
    } else {
        None
    };
    let suppressed = bool_field(&body, "whatsapp_suppressed")?;
    let rid = auth.restaurant.id.clone();
    let customer = state
        .writer
        .run(move |conn| {
            bookings::patch_customer(
                conn,
                &rid,
                &id,
                name.as_ref().map(|n| n.as_deref()),
                suppressed,
            )
        })
        .await?;
    Ok(Json(Data {
        data: CustomerView::new(&customer),
    }))
}
