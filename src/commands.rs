//! Runs a parsed command line: the admin commands print what `admin` returns; `serve` and
//! `demo` start the server.

use std::io::Write;

use rusqlite::Connection;
use serde_json::Value;

use crate::admin::{self, AdminError, customers, reservations, restaurants, templates, tokens};
use crate::cli::*;
use crate::config::Config;
use crate::db::{self, restaurants::RestaurantChanges};
use crate::routes::partner::CallView;
use crate::time::format_utc;

/// How a command failed: the process exits with `exit_code` and `message` on stderr.
#[derive(Debug)]
pub struct CommandError {
    pub exit_code: i32,
    pub message: String,
}

impl From<AdminError> for CommandError {
    fn from(e: AdminError) -> Self {
        let exit_code = if matches!(e, AdminError::Usage(_)) {
            2
        } else {
            1
        };
        CommandError {
            exit_code,
            message: e.to_string(),
        }
    }
}

impl From<db::DbError> for CommandError {
    fn from(e: db::DbError) -> Self {
        AdminError::from(e).into()
    }
}

impl From<rusqlite::Error> for CommandError {
    fn from(e: rusqlite::Error) -> Self {
        AdminError::from(e).into()
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        CommandError {
            exit_code: 1,
            message: e.to_string(),
        }
    }
}

pub fn fail(message: impl Into<String>) -> CommandError {
    CommandError {
        exit_code: 1,
        message: message.into(),
    }
}

/// Runs an admin command (anything but `serve` and `demo`) against the configured database.
pub fn run_admin(command: Command, config: &Config) -> Result<(), CommandError> {
    let mut conn = db::open(&config.database.path)?;
    let mut out = std::io::stdout().lock();
    // One transaction per command: an import is all-or-nothing on a crash, and fast.
    let tx = conn.transaction()?;
    match command {
        Command::Migrate => {
            writeln!(out, "database schema version {}", db::schema_version(&tx)?)?;
        }
        Command::Restaurant(c) => restaurant(&tx, c, &mut out)?,
        Command::Token(c) => token(&tx, c, &mut out)?,
        Command::Template(c) => template(&tx, c, &mut out)?,
        Command::Customer(c) => customer(&tx, c, &mut out)?,
        Command::Reservation(c) => reservation(&tx, c, &mut out)?,
        Command::Calls(CallsCommand::List {
            restaurant,
            limit,
            json,
        }) => {
            if let Some(id) = &restaurant {
                admin::require_restaurant(&tx, id)?;
            }
            let rows = db::calls::list_calls(&tx, restaurant.as_deref(), limit)?;
            let views: Vec<CallView> = rows.iter().map(CallView::from_row).collect();
            if json.json {
                print_json(&mut out, serde_json::to_value(&views).unwrap_or_default())?;
            } else {
                for v in views {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        v.id,
                        v.occurred_at,
                        crate::phone::mask(&v.caller_phone_number),
                        v.outcome,
                        v.template_type.as_deref().unwrap_or("-")
                    )?;
                }
            }
        }
        Command::Serve { .. } | Command::Demo { .. } => {
            return Err(fail("serve and demo are not admin commands"));
        }
    }
    tx.commit()?;
    Ok(())
}

fn print_json(out: &mut impl Write, value: Value) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}

fn restaurant(
    conn: &Connection,
    c: RestaurantCommand,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    match c {
        RestaurantCommand::Add {
            name,
            country,
            timezone,
            booking_url,
        } => {
            let id = restaurants::add_restaurant(
                conn,
                &name,
                &country,
                &timezone,
                booking_url.as_deref(),
            )?;
            writeln!(out, "{id}")?;
        }
        RestaurantCommand::Update {
            id,
            name,
            country,
            timezone,
            booking_url,
            missed_calls,
            balance,
            message_cost,
        } => {
            let changes = RestaurantChanges {
                name,
                country,
                timezone,
                booking_url,
                missed_calls_enabled: missed_calls.map(|m| matches!(m, OnOff::On)),
                balance_cents: balance.map(|b| match b {
                    Balance::Unlimited => None,
                    Balance::Cents(c) => Some(c),
                }),
                message_cost_cents: message_cost,
            };
            restaurants::update_restaurant(conn, &id, changes)?;
        }
        RestaurantCommand::Whatsapp {
            id,
            phone_number_id,
            access_token,
            disable: _,
        } => {
            let account = phone_number_id.as_deref().zip(access_token.as_deref());
            restaurants::set_whatsapp(conn, &id, account)?;
        }
        RestaurantCommand::List(json) => {
            let list = restaurants::list_restaurants(conn)?;
            if json.json {
                print_json(out, list.iter().map(restaurants::restaurant_json).collect())?;
            } else {
                for r in list {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\tmissed_calls={}\twhatsapp={}",
                        r.id,
                        r.name,
                        r.country,
                        r.timezone,
                        if r.missed_calls_enabled { "on" } else { "off" },
                        if r.whatsapp.is_some() { "on" } else { "off" },
                    )?;
                }
            }
        }
    }
    Ok(())
}

fn token(conn: &Connection, c: TokenCommand, out: &mut impl Write) -> Result<(), CommandError> {
    match c {
        TokenCommand::Create { restaurant, name } => {
            let (id, token) = tokens::create_token(conn, &restaurant, name.as_deref())?;
            eprintln!("token {id} created; it is shown only this once");
            writeln!(out, "{token}")?;
        }
        TokenCommand::List { restaurant, json } => {
            let list = tokens::list_tokens(conn, restaurant.as_deref())?;
            if json.json {
                print_json(out, list.iter().map(tokens::token_json).collect())?;
            } else {
                for t in list {
                    let state = t.revoked_at.map_or("active".to_string(), |at| {
                        format!("revoked {}", format_utc(at))
                    });
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        t.id,
                        t.restaurant_id,
                        t.name.as_deref().unwrap_or("-"),
                        format_utc(t.created_at),
                        state
                    )?;
                }
            }
        }
        TokenCommand::Revoke { token_id } => tokens::revoke_token(conn, &token_id)?,
    }
    Ok(())
}

fn template(
    conn: &Connection,
    c: TemplateCommand,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    match c {
        TemplateCommand::Set {
            restaurant,
            template_type,
            name,
            language,
            status,
            body_params,
            button_param,
            name_fallback,
            active,
        } => templates::set_template(
            conn,
            &templates::TemplateSpec {
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
            },
        )?,
        TemplateCommand::List { restaurant, json } => {
            let list = templates::list_templates(conn, &restaurant)?;
            if json.json {
                print_json(out, list.iter().map(templates::template_json).collect())?;
            } else {
                for t in list {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\tbody={}\tbutton={}",
                        t.template_type,
                        t.name,
                        t.language,
                        t.status,
                        if t.active { "active" } else { "inactive" },
                        t.body_params.join(","),
                        t.button_param.as_deref().unwrap_or("-"),
                    )?;
                }
            }
        }
    }
    Ok(())
}

fn customer(
    conn: &Connection,
    c: CustomerCommand,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    match c {
        CustomerCommand::Add {
            restaurant,
            phone,
            name,
        } => {
            let id = customers::add_customer(conn, &restaurant, &phone, name.as_deref())?;
            writeln!(out, "{id}")?;
        }
        CustomerCommand::Import { restaurant, file } => {
            let input = std::fs::File::open(&file)
                .map_err(|e| fail(format!("cannot open {}: {e}", file.display())))?;
            let report = customers::import_customers(conn, &restaurant, input)?;
            for (line, reason) in &report.rejected {
                eprintln!("line {line}: rejected: {reason}");
            }
            writeln!(
                out,
                "added {}, updated {}, rejected {}",
                report.added,
                report.updated,
                report.rejected.len()
            )?;
        }
        CustomerCommand::Suppress { restaurant, phone } => {
            customers::set_suppression(conn, &restaurant, &phone, true)?;
        }
        CustomerCommand::Unsuppress { restaurant, phone } => {
            customers::set_suppression(conn, &restaurant, &phone, false)?;
        }
        CustomerCommand::List { restaurant, json } => {
            let list = customers::list_customers(conn, &restaurant)?;
            if json.json {
                print_json(out, list.iter().map(customers::customer_json).collect())?;
            } else {
                for c in list {
                    writeln!(
                        out,
                        "{}\t{}\t{}{}",
                        c.id,
                        c.phone_e164,
                        c.name.as_deref().unwrap_or("-"),
                        if c.whatsapp_suppressed {
                            "\tsuppressed"
                        } else {
                            ""
                        }
                    )?;
                }
            }
        }
    }
    Ok(())
}

fn reservation(
    conn: &Connection,
    c: ReservationCommand,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    match c {
        ReservationCommand::Add {
            restaurant,
            phone,
            start,
            party_size,
            status,
            name,
            external_id,
        } => {
            let id = reservations::add_reservation(
                conn,
                &reservations::ReservationSpec {
                    restaurant_id: &restaurant,
                    phone: &phone,
                    start: &start,
                    party_size,
                    status: &status,
                    name: name.as_deref(),
                    external_id: external_id.as_deref(),
                },
            )?;
            writeln!(out, "{id}")?;
        }
        ReservationCommand::Update { id, status } => {
            reservations::update_reservation(conn, &id, &status)?;
        }
        ReservationCommand::List { restaurant, json } => {
            let list = reservations::list_reservations(conn, &restaurant)?;
            let views = list
                .iter()
                .map(|r| reservations::reservation_json(conn, r))
                .collect::<Result<Vec<_>, _>>()?;
            if json.json {
                print_json(out, Value::Array(views))?;
            } else {
                for v in views {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        v["id"].as_str().unwrap_or_default(),
                        v["start_at"].as_str().unwrap_or_default(),
                        v["party_size"],
                        v["status"].as_str().unwrap_or_default(),
                        v["customer"]["phone_number"].as_str().unwrap_or("-"),
                    )?;
                }
            }
        }
    }
    Ok(())
}
