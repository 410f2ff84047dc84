//! `calls show`: one call whole, and what its message was sent with.

use std::io::Write;

use rusqlite::Connection;

use super::caller;
use crate::cli::error::{CommandError, fail};
use crate::cli::output::{Printed, print_json};
use crate::db::calls::{CallRow, find_call_by_id};
use crate::db::restaurants::{Restaurant, find_restaurant};
use crate::time::{format_local, format_utc};
use crate::views::{CallView, call_reason};

pub(super) fn show(
    conn: &Connection,
    id: &str,
    json: bool,
    p: &mut Printed,
) -> Result<(), CommandError> {
    let row = find_call_by_id(conn, id)?.ok_or_else(|| fail(format!("no call with id {id}")))?;
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
    Ok(())
}

/// Every field of a call, one a line, and what its message was sent with.
fn print_call(
    row: &CallRow,
    restaurant: Option<&Restaurant>,
    sent_with: Option<&str>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    for (name, value) in call_fields(row, restaurant)
        .into_iter()
        .chain(message_fields(sent_with))
    {
        writeln!(out, "{name:<21}{value}")?;
    }
    Ok(())
}

/// The call's own fields, its times in its restaurant's zone and in UTC.
fn call_fields(row: &CallRow, restaurant: Option<&Restaurant>) -> [(&'static str, String); 19] {
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
    [
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
    ]
}

/// What the message was sent with.
fn message_fields(sent_with: Option<&str>) -> [(&'static str, String); 4] {
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
    [
        ("template", text("template")),
        ("template_language", text("language")),
        ("parameters", parameters),
        ("booking_link", text("booking_link")),
    ]
}
