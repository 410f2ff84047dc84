//! `ringback template …`: the WhatsApp templates a restaurant sends, one per type.

use clap::{Args, Subcommand, ValueEnum};
use rusqlite::Connection;
use serde_json::{Value, json};

use super::error::{AdminError, CommandError, usage};
use super::output::{Printed, RestaurantList, count, print_json, write_table};
use super::restaurants::require_restaurant;
use crate::db::templates::{self as table, Template};
use crate::domain::TemplateType;
use crate::time::format_utc;
use crate::whatsapp::template::check_variable;

fn parse_template_type(text: &str) -> Result<TemplateType, String> {
    text.parse()
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateStatus {
    Approved,
    Pending,
    Rejected,
}

impl TemplateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateStatus::Approved => "APPROVED",
            TemplateStatus::Pending => "PENDING",
            TemplateStatus::Rejected => "REJECTED",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Create or replace the restaurant's template of a type.
    Set(SetArgs),
    /// List the restaurant's templates.
    List(RestaurantList),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The restaurant's id (rst_…).
    #[arg(long, value_name = "ID")]
    pub restaurant: String,
    /// Which calls the template answers: without or with an upcoming reservation.
    #[arg(long = "type", value_parser = parse_template_type, value_name = "MISSED_CALL|MISSED_CALL_WITH_RESERVATION")]
    pub template_type: TemplateType,
    /// The template's name at Meta.
    #[arg(long, value_name = "META_NAME")]
    pub name: String,
    /// The template's language code at Meta, like fr or en_US.
    #[arg(long, value_name = "CODE")]
    pub language: String,
    /// The template's review status at Meta; only APPROVED templates are sent.
    #[arg(long, value_enum, default_value = "APPROVED")]
    pub status: TemplateStatus,
    /// Variables of the body parameters, in order.
    #[arg(long, value_delimiter = ',', value_name = "VAR,VAR,…")]
    pub body_params: Vec<String>,
    /// Variable of the URL button.
    #[arg(long, value_name = "VAR")]
    pub button_param: Option<String>,
    /// Used for customer_name when the customer has no name (default "there").
    #[arg(long, value_name = "TEXT")]
    pub name_fallback: Option<String>,
    /// Whether the template is used; an inactive one is kept but not sent.
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set, default_value_t = true)]
    pub active: bool,
}

pub(super) fn run(
    conn: &Connection,
    c: TemplateCommand,
    p: &mut Printed,
) -> Result<(), CommandError> {
    match c {
        TemplateCommand::Set(args) => set(conn, args, p),
        TemplateCommand::List(args) => list(conn, args, p),
    }
}

fn set(conn: &Connection, args: SetArgs, p: &mut Printed) -> Result<(), CommandError> {
    let SetArgs {
        restaurant,
        template_type,
        name,
        language,
        status,
        body_params,
        button_param,
        name_fallback,
        active,
    } = args;
    let spec = TemplateSpec {
        restaurant_id: restaurant,
        template_type,
        name,
        language,
        status: status.as_str().into(),
        body_params: body_params
            .into_iter()
            .map(|v| v.trim().to_string())
            .collect(),
        button_param,
        name_fallback,
        active,
    };
    let replaced = set_template(conn, &spec)?;
    p.say(format!(
        "{template_type} template of restaurant {} {}: {} ({}), {}, {}",
        spec.restaurant_id,
        if replaced { "replaced" } else { "created" },
        spec.name.trim(),
        spec.language.trim(),
        spec.status,
        if spec.active { "active" } else { "inactive" },
    ));
    Ok(())
}

fn list(conn: &Connection, args: RestaurantList, p: &mut Printed) -> Result<(), CommandError> {
    let list = list_templates(conn, &args.restaurant)?;
    if args.json.json {
        print_json(&mut p.out, list.iter().map(template_json).collect())?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|t| {
            vec![
                t.template_type.to_string(),
                t.name.clone(),
                t.language.clone(),
                t.status.clone(),
                if t.active { "active" } else { "inactive" }.to_string(),
                t.body_params.join(","),
                t.button_param.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    write_table(
        &mut p.out,
        &[
            "TYPE", "NAME", "LANGUAGE", "STATUS", "ACTIVE", "BODY", "BUTTON",
        ],
        &rows,
    )?;
    p.say(count(list.len() as i64, "template"));
    Ok(())
}

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
