//! The guest commands: customers and reservations.

use std::io::Write;

use rusqlite::Connection;
use serde_json::Value;

use super::{CommandError, Printed, count, fail, print_json, write_table};
use crate::cli::import::{self, ImportReport};
use crate::cli::{CustomerCommand, ReservationCommand};
use crate::cli::{customers, reservations};
use crate::db::reservations::find_restaurant_reservation;

pub(super) fn customer(
    conn: &Connection,
    c: CustomerCommand,
    p: &mut Printed,
) -> Result<(), CommandError> {
    match c {
        CustomerCommand::Add {
            restaurant,
            phone,
            name,
        } => {
            let (customer, created) =
                customers::add_or_rename_customer(conn, &restaurant, &phone, name.as_deref())?;
            writeln!(p.out, "{}", customer.id)?;
            let number = &customer.phone_e164;
            p.say(match (created, &customer.name) {
                (true, Some(n)) => format!("customer {} added: {number}, named {n:?}", customer.id),
                (true, None) => format!("customer {} added: {number}", customer.id),
                (false, Some(n)) if name.is_some() => {
                    format!(
                        "customer {} ({number}) already exists; its name is now {n:?}",
                        customer.id
                    )
                }
                (false, _) => format!(
                    "customer {} ({number}) already exists; nothing changed",
                    customer.id
                ),
            });
        }
        CustomerCommand::Import { restaurant, file } => {
            let report = import::import_customers(conn, &restaurant, open(&file)?)?;
            print_import(&report, p);
        }
        CustomerCommand::Suppress { restaurant, phone } => {
            let c = customers::set_suppression(conn, &restaurant, &phone, true)?;
            p.say(format!(
                "customer {} ({}) suppressed: no WhatsApp messages",
                c.id, c.phone_e164
            ));
        }
        CustomerCommand::Unsuppress { restaurant, phone } => {
            let c = customers::set_suppression(conn, &restaurant, &phone, false)?;
            p.say(format!(
                "customer {} ({}) unsuppressed: WhatsApp messages allowed again",
                c.id, c.phone_e164
            ));
        }
        CustomerCommand::Forget { .. } => {
            return Err(super::fail("customer forget runs on its own connection"));
        }
        CustomerCommand::List { restaurant, json } => {
            let list = customers::list_customers(conn, &restaurant)?;
            if json.json {
                print_json(
                    &mut p.out,
                    list.iter().map(crate::views::customer_json).collect(),
                )?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|c| {
                        let suppressed = match (c.whatsapp_suppressed, &c.suppression_reason) {
                            (false, _) => "-".to_string(),
                            (true, Some(reason)) => format!("suppressed ({})", reason.as_str()),
                            (true, None) => "suppressed".into(),
                        };
                        vec![
                            c.id.clone(),
                            c.phone_e164.clone(),
                            c.name.clone().unwrap_or_else(|| "-".into()),
                            suppressed,
                        ]
                    })
                    .collect();
                write_table(&mut p.out, &["ID", "PHONE", "NAME", "WHATSAPP"], &rows)?;
                p.say(count(list.len() as i64, "customer"));
            }
        }
    }
    Ok(())
}

/// `window_days`: `missed_calls.conversion_window_days`, for the conversion a new reservation
/// may be.
pub(super) fn reservation(
    conn: &Connection,
    c: ReservationCommand,
    window_days: i64,
    p: &mut Printed,
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
                window_days,
            )?;
            writeln!(p.out, "{id}")?;
            if let Some(r) = find_restaurant_reservation(conn, &restaurant, &id)? {
                let v = reservations::reservation_json(conn, &r)?;
                p.say(format!(
                    "reservation {id} added: {}, party of {}, {}, for {}",
                    v["start_at"].as_str().unwrap_or_default(),
                    v["party_size"],
                    v["status"].as_str().unwrap_or_default(),
                    v["customer"]["phone_number"].as_str().unwrap_or("-"),
                ));
            }
        }
        ReservationCommand::Import { restaurant, file } => {
            let report = import::import_reservations(conn, &restaurant, open(&file)?, window_days)?;
            print_import(&report, p);
        }
        ReservationCommand::Update { id, status } => {
            reservations::update_reservation(conn, &id, &status)?;
            p.say(format!("reservation {id}: status {status}"));
        }
        ReservationCommand::List { restaurant, json } => {
            let list = reservations::list_reservations(conn, &restaurant)?;
            let views = list
                .iter()
                .map(|r| reservations::reservation_json(conn, r))
                .collect::<Result<Vec<_>, _>>()?;
            if json.json {
                print_json(&mut p.out, Value::Array(views))?;
            } else {
                let rows: Vec<Vec<String>> = views
                    .iter()
                    .map(|v| {
                        vec![
                            v["id"].as_str().unwrap_or_default().to_string(),
                            v["start_at"].as_str().unwrap_or_default().to_string(),
                            v["party_size"].to_string(),
                            v["status"].as_str().unwrap_or_default().to_string(),
                            v["customer"]["phone_number"]
                                .as_str()
                                .unwrap_or("-")
                                .to_string(),
                        ]
                    })
                    .collect();
                write_table(
                    &mut p.out,
                    &["ID", "START_AT", "PARTY", "STATUS", "PHONE"],
                    &rows,
                )?;
                p.say(count(views.len() as i64, "reservation"));
            }
        }
    }
    Ok(())
}

fn open(file: &std::path::Path) -> Result<std::fs::File, CommandError> {
    std::fs::File::open(file).map_err(|e| fail(format!("cannot open {}: {e}", file.display())))
}

/// Each rejected row, then the counts, on stderr: an import creates no one id to print.
fn print_import(report: &ImportReport, p: &mut Printed) {
    for (line, reason) in &report.rejected {
        p.say(format!("line {line}: rejected: {reason}"));
    }
    p.say(format!(
        "added {}, updated {}, rejected {}",
        report.added,
        report.updated,
        report.rejected.len()
    ));
}
