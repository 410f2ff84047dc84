//! The setup commands: restaurants, partner tokens and templates.

use std::io::Write;

use rusqlite::Connection;

use super::{CommandError, print_json};
use crate::admin::{restaurants, templates, tokens};
use crate::cli::{Balance, OnOff, RestaurantCommand, TemplateCommand, TokenCommand};
use crate::db::restaurants::RestaurantChanges;
use crate::time::format_utc;

pub(super) fn restaurant(
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

pub(super) fn token(
    conn: &Connection,
    c: TokenCommand,
    out: &mut impl Write,
) -> Result<(), CommandError> {
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

pub(super) fn template(
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
