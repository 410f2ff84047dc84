//! The customer endpoints (SPEC §7): look a customer up by number, change name or suppression.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::input::{bool_field, path_id, query_pairs, read_object, string_field};
use super::reservation_input::phone;
use crate::auth::Authenticated;
use crate::bookings::{self, rules};
use crate::db::customers::find_customer_by_phone;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::customer_json;

pub async fn find_customers(
    State(state): State<AppState>,
    auth: Authenticated,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
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
    let data: Vec<Value> = found.iter().map(customer_json).collect();
    Ok(Json(json!({"data": data})))
}

pub async fn update_customer(
    State(state): State<AppState>,
    auth: Authenticated,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({"data": customer_json(&customer)})))
}
