//! The call ledger on the command line: `calls list` (a table in each restaurant's time, or
//! JSON) and `calls show`.

use std::cmp::Reverse;
use std::io::Write;

use jiff::tz::TimeZone;
use rusqlite::Connection;

use super::{CommandError, Printed, count, fail, print_json, write_table};
use crate::cli::CallsCommand;
use crate::cli::restaurants::require_restaurant;
use crate::cli::usage;
use crate::db::calls::{
    CallFilter, CallRow, count_restaurant_calls, find_call_by_id, list_restaurant_calls,
};
use crate::db::restaurants::{Restaurant, find_restaurant, list_restaurants};
use crate::time::{When, format_local, format_utc};
use crate::views::{CallView, call_reason};

pub(super) fn calls(
    conn: &Connection,
    c: CallsCommand,
    p: &mut Printed,
) -> Result<(), CommandError> {
    match c {
        CallsCommand::List {
            restaurant,
            outcome,
            since,
            until,
            limit,
            json,
        } => {
            let restaurants = match &restaurant {
                Some(id) => vec![require_restaurant(conn, id)?],
                None => list_restaurants(conn)?,
            };
            // Each restaurant's calls are walked along its index with the bounds in its own
            // zone; the newest of them all are kept.
            let mut rows: Vec<(CallRow, &Restaurant)> = Vec::new();
            let mut total = 0i64;
            for r in &restaurants {
                let tz = r.time_zone();
                let bound = |when: Option<When>, ms: fn(When, &TimeZone) -> Option<i64>| {
                    when.map(|w| {
                        ms(w, &tz).ok_or_else(|| usage("--since or --until is out of range"))
                    })
                    .transpose()
                };
                let filter = CallFilter {
                    outcomes: outcome.clone(),
                    from: bound(since, When::first_ms)?,
                    to: bound(until, When::last_ms)?,
                };
                // One more than shown says whether this restaurant's calls are cut; the rest of
                // them are only counted.
                let found = list_restaurant_calls(conn, &r.id, &filter, limit + 1)?;
                if found.len() > limit as usize {
                    total += count_restaurant_calls(conn, &r.id, &filter)?;
                } else {
                    total += found.len() as i64;
                }
                rows.extend(found.into_iter().map(|row| (row, r)));
            }
            // Stable: calls of the same instant keep their restaurant's newest-first order.
            rows.sort_by_key(|(row, _)| Reverse(row.occurred_at));
            rows.truncate(limit as usize);
            let shown = rows.len() as i64;
            if total > shown {
                // --limit goes up to 100 000: past that, only narrowing shows the rest.
                let see_all = if total <= 100_000 {
                    format!("pass --limit {total} to see them all, or ")
                } else {
                    String::new()
                };
                p.say(format!(
                    "the {shown} newest of {} shown; {} more: {see_all}narrow with --since, \
                     --until or --outcome",
                    count(total, "call"),
                    total - shown
                ));
            } else if !json.json {
                p.say(count(shown, "call"));
            }
            if json.json {
                let views: Vec<CallView> = rows
                    .iter()
                    .map(|(row, _)| CallView::from_row(row))
                    .collect();
                print_json(&mut p.out, serde_json::to_value(&views).unwrap_or_default())?;
            } else {
                print_table(&rows, restaurant.is_none(), &mut p.out)?;
            }
        }
        CallsCommand::Show { id, json } => {
            let row =
                find_call_by_id(conn, &id)?.ok_or_else(|| fail(format!("no call with id {id}")))?;
            if json {
                print_json(
                    &mut p.out,
                    serde_json::to_value(CallView::from_row(&row)).unwrap_or_default(),
                )?;
            } else {
                let restaurant = find_restaurant(conn, &row.restaurant_id)?;
                let sent_with = crate::db::calls::sent_with(conn, &row.id)?;
                print_call(&row, restaurant.as_ref(), sent_with.as_deref(), &mut p.out)?;
            }
        }
    }
    Ok(())
}

/// One row a call, under a header, its time in its restaurant's zone, the reason last.
fn print_table(
    rows: &[(CallRow, &Restaurant)],
    with_restaurant: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut header = vec![
        "ID",
        "OCCURRED_AT",
        "RESTAURANT",
        "CALLER",
        "OUTCOME",
        "TEMPLATE",
        "REASON",
    ];
    let mut table: Vec<Vec<String>> = rows
        .iter()
        .map(|(row, restaurant)| {
            vec![
                row.id.clone(),
                format_local(row.occurred_at, &restaurant.time_zone()),
                restaurant.id.clone(),
                caller(row).to_string(),
                row.outcome.to_string(),
                row.template_type.map_or("-", |t| t.as_str()).to_string(),
                call_reason(row).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    if !with_restaurant {
        header.remove(2);
        for line in &mut table {
            line.remove(2);
        }
    }
    write_table(out, &header, &table)
}

/// Every field of a call, one a line, and what its message was sent with.
fn print_call(
    row: &CallRow,
    restaurant: Option<&Restaurant>,
    sent_with: Option<&str>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let both_times = |ms: i64| match restaurant {
        Some(r) => format!("{} ({})", format_local(ms, &r.time_zone()), format_utc(ms)),
        None => format_utc(ms),
    };
    let error = row
        .error_code
        .as_ref()
        .map(|code| match &row.error_message {
            Some(message) => format!("{code}: {message}"),
            None => code.clone(),
        });
    let fields = [
        ("id", row.id.clone()),
        (
            "restaurant",
            match restaurant {
                Some(r) => format!("{} ({})", r.id, r.name),
                None => row.restaurant_id.clone(),
            },
        ),
        ("outcome", row.outcome.to_string()),
        ("reason", call_reason(row).unwrap_or_else(|| "-".into())),
        ("occurred_at", both_times(row.occurred_at)),
        ("received_at", both_times(row.created_at)),
        ("caller_phone_number", caller(row).to_string()),
        ("caller_as_received", row.caller_raw.clone()),
        ("customer_id", dash(&row.customer_id)),
        ("reservation_id", dash(&row.reservation_id)),
        (
            "template_type",
            row.template_type.map_or("-", |t| t.as_str()).to_string(),
        ),
        ("external_call_id", dash(&row.external_call_id)),
        ("source", row.source.as_str().to_string()),
        ("message_id", dash(&row.message_id)),
        (
            "delivery_state",
            row.delivery_state.map_or("-", |d| d.as_str()).to_string(),
        ),
        ("error", dash(&error)),
        ("attempts", row.attempts.to_string()),
        (
            "next_attempt_at",
            row.next_attempt_at.map_or_else(|| "-".into(), both_times),
        ),
        ("debited_cents", row.debited_cents.to_string()),
    ];
    for (name, value) in fields {
        writeln!(out, "{name:<21}{value}")?;
    }
    // As the claim stored it: rows from before this was kept, or a forgotten caller's, have none.
    let message: serde_json::Value = sent_with
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    let text = |key: &str| message[key].as_str().unwrap_or("-").to_string();
    let parameters = message["parameters"].as_array().map_or_else(
        || "-".to_string(),
        |values| {
            values
                .iter()
                .map(|v| format!("{:?}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    for (name, value) in [
        ("template", text("template")),
        ("template_language", text("language")),
        ("parameters", parameters),
        ("booking_link", text("booking_link")),
    ] {
        writeln!(out, "{name:<21}{value}")?;
    }
    Ok(())
}

/// The number as E.164, or as received for a hidden caller.
fn caller(row: &CallRow) -> &str {
    row.caller_e164.as_deref().unwrap_or(&row.caller_raw)
}
