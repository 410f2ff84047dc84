//! WhatsApp templates: one per restaurant and type, created or replaced by `template set`.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::{AdminError, require_restaurant, usage};
use crate::db::templates::{self as table, Template};
use crate::domain::TemplateType;
use crate::time::format_utc;
use crate::whatsapp::template::check_variable;

/// What `template set` was told.
#[derive(Debug, Clone)]
pub struct TemplateSpec {
    pub restaurant_id: String,
    pub template_type: TemplateType,
    pub name: String,
    pub language: String,
    pub status: String,
    pub body_params: Vec<String>,
    pub button_param: Option<String>,
    pub name_fallback: Option<String>,
    pub active: bool,
}

const STATUSES: [&str; 3] = ["APPROVED", "PENDING", "REJECTED"];

/// Creates or replaces the template; returns true when it replaced one.
pub fn set_template(conn: &Connection, spec: &TemplateSpec) -> Result<bool, AdminError> {
    let restaurant = require_restaurant(conn, &spec.restaurant_id)?;
    if spec.name.trim().is_empty() {
        return Err(usage("--name must not be empty"));
    }
    if spec.language.trim().is_empty() {
        return Err(usage("--language must not be empty (like fr or en_US)"));
    }
    if !STATUSES.contains(&spec.status.as_str()) {
        return Err(usage(format!(
            "--status must be one of {}",
            STATUSES.join(", ")
        )));
    }
    let variables = spec.body_params.iter().chain(spec.button_param.iter());
    for variable in variables.clone() {
        check_variable(spec.template_type, variable).map_err(usage)?;
    }
    // A message must never go out with an empty link: ask for the URL now, not at 11 pm.
    if variables.clone().any(|v| v == "booking_link") && restaurant.booking_url.is_none() {
        return Err(usage(
            "the template uses booking_link but the restaurant has no booking URL; \
             set one with `ringback restaurant update ID --booking-url URL` first",
        ));
    }
    let fallback = spec.name_fallback.clone().unwrap_or_else(|| "there".into());
    if fallback.trim().is_empty() {
        return Err(usage("--name-fallback must not be empty"));
    }
    let replaced = table::find_template(conn, &spec.restaurant_id, spec.template_type)?.is_some();
    table::upsert_template(
        conn,
        &Template {
            restaurant_id: spec.restaurant_id.clone(),
            template_type: spec.template_type,
            name: spec.name.trim().to_string(),
            language: spec.language.trim().to_string(),
            status: spec.status.clone(),
            body_params: spec.body_params.clone(),
            button_param: spec.button_param.clone(),
            name_fallback: fallback,
            active: spec.active,
            updated_at: 0,
        },
    )?;
    Ok(replaced)
}

pub fn list_templates(conn: &Connection, restaurant_id: &str) -> Result<Vec<Template>, AdminError> {
    require_restaurant(conn, restaurant_id)?;
    Ok(table::list_templates(conn, restaurant_id)?)
}

pub fn template_json(t: &Template) -> Value {
    json!({
        "restaurant_id": t.restaurant_id,
        "type": t.template_type.as_str(),
        "name": t.name,
        "language": t.language,
        "status": t.status,
        "body_params": t.body_params,
        "button_param": t.button_param,
        "name_fallback": t.name_fallback,
        "active": t.active,
        "updated_at": format_utc(t.updated_at),
    })
}
