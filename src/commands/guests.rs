//! The guest commands: customers and reservations.

use std::io::Write;

use rusqlite::Connection;
use serde_json::Value;

use super::{CommandError, fail, print_json};
use crate::admin::import::{self, ImportReport};
use crate::admin::{customers, reservations};
use crate::cli::{CustomerCommand, ReservationCommand};

pub(super) fn customer(
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
            let report = import::import_customers(conn, &restaurant, open(&file)?)?;
            print_import(&report, out)?;
        }
        CustomerCommand::Suppress { restaurant, phone } => {
            customers::set_suppression(conn, &restaurant, &phone, true)?;
        }
        CustomerCommand::Unsuppress { restaurant, phone } => {
            customers::set_suppression(conn, &restaurant, &phone, false)?;
        }
        CustomerCommand::Forget { .. } => {
            return Err(super::fail("customer forget runs on its own connection"));
        }
        CustomerCommand::List { restaurant, json } => {
            let list = customers::list_customers(conn, &restaurant)?;
            if json.json {
                print_json(out, list.iter().map(crate::views::customer_json).collect())?;
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

pub(super) fn reservation(
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
        ReservationCommand::Import { restaurant, file } => {
            let report = import::import_reservations(conn, &restaurant, open(&file)?)?;
            print_import(&report, out)?;
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

fn open(file: &std::path::Path) -> Result<std::fs::File, CommandError> {
    std::fs::File::open(file).map_err(|e| fail(format!("cannot open {}: {e}", file.display())))
}

/// Each rejected row on stderr, the counts on stdout.
fn print_import(report: &ImportReport, out: &mut impl Write) -> Result<(), CommandError> {
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
    Ok(())
}
