//! The setup commands: partner tokens and templates.

use std::io::Write;

use rusqlite::Connection;

use super::{CommandError, Printed, count, print_json, write_table};
use crate::cli::tokens::Revoked;
use crate::cli::{TemplateCommand, TokenCommand};
use crate::cli::{templates, tokens};
use crate::time::format_utc;

pub(super) fn token(
    conn: &Connection,
    c: TokenCommand,
    p: &mut Printed,
) -> Result<(), CommandError> {
    match c {
        TokenCommand::Create { restaurant, name } => {
            let (id, token) = tokens::create_token(conn, &restaurant, name.as_deref())?;
            writeln!(p.out, "{token}")?;
            p.say(format!(
                "token {id} created for restaurant {restaurant}; it is shown only this once"
            ));
        }
        TokenCommand::List { restaurant, json } => {
            let list = tokens::list_tokens(conn, restaurant.as_deref())?;
            if json.json {
                print_json(&mut p.out, list.iter().map(tokens::token_json).collect())?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.clone(),
                            t.restaurant_id.clone(),
                            t.name.clone().unwrap_or_else(|| "-".into()),
                            format_utc(t.created_at),
                            // Minute-grained: written at most once a minute (SPEC §6.2).
                            t.last_used_at.map_or_else(|| "never".into(), format_utc),
                            t.revoked_at.map_or_else(
                                || "active".to_string(),
                                |at| format!("revoked {}", format_utc(at)),
                            ),
                        ]
                    })
                    .collect();
                write_table(
                    &mut p.out,
                    &[
                        "ID",
                        "RESTAURANT",
                        "NAME",
                        "CREATED_AT",
                        "LAST_USED_AT",
                        "STATE",
                    ],
                    &rows,
                )?;
                p.say(count(list.len() as i64, "token"));
            }
        }
        TokenCommand::Revoke { token_id } => match tokens::revoke_token(conn, &token_id)? {
            Revoked::Now => p.say(format!(
                "token {token_id} revoked: its reports are refused from now on"
            )),
            Revoked::Already(at) => p.say(format!(
                "token {token_id} was already revoked at {}; nothing changed",
                format_utc(at)
            )),
        },
    }
    Ok(())
}

pub(super) fn template(
    conn: &Connection,
    c: TemplateCommand,
    p: &mut Printed,
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
        } => {
            let spec = templates::TemplateSpec {
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
            let replaced = templates::set_template(conn, &spec)?;
            p.say(format!(
                "{template_type} template of restaurant {} {}: {} ({}), {}, {}",
                spec.restaurant_id,
                if replaced { "replaced" } else { "created" },
                spec.name.trim(),
                spec.language.trim(),
                spec.status,
                if spec.active { "active" } else { "inactive" },
            ));
        }
        TemplateCommand::List { restaurant, json } => {
            let list = templates::list_templates(conn, &restaurant)?;
            if json.json {
                print_json(
                    &mut p.out,
                    list.iter().map(templates::template_json).collect(),
                )?;
            } else {
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
            }
        }
    }
    Ok(())
}
