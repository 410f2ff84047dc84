//! `calls list`: the ledger's calls, newest first, as a table in each restaurant's time or JSON.

use std::cmp::Reverse;
use std::io::Write;

use clap::Args;
use jiff::tz::TimeZone;
use rusqlite::Connection;

use super::{caller, parse_outcome, parse_when};
use crate::cli::error::{CommandError, usage};
use crate::cli::output::{JsonFlag, Printed, count, print_json, write_table};
use crate::cli::restaurants::require_restaurant;
use crate::db::calls::{CallFilter, CallRow, count_restaurant_calls, list_restaurant_calls};
use crate::db::restaurants::{Restaurant, list_restaurants};
use crate::domain::Outcome;
use crate::time::{When, format_local};
use crate::views::{CallView, call_reason};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this restaurant's calls (rst_…); else every restaurant's.
    #[arg(long, value_name = "ID")]
    pub restaurant: Option<String>,
    /// Only calls with one of these outcomes, like SENT or SKIPPED_COOLDOWN.
    #[arg(long, value_delimiter = ',', value_parser = parse_outcome, value_name = "O[,O…]")]
    pub outcome: Vec<Outcome>,
    /// Only calls at or after this: an RFC 3339 instant, or a date or time in the restaurant's
    /// zone (without --restaurant, each call's own).
    #[arg(long, value_parser = parse_when, value_name = "WHEN")]
    pub since: Option<When>,
    /// Only calls at or before this, read as --since; a date counts to its end.
    #[arg(long, value_parser = parse_when, value_name = "WHEN")]
    pub until: Option<When>,
    /// At most this many calls.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// A call as the list shows it: with its restaurant, whose zone its time is written in.
type Listed<'a> = (CallRow, &'a Restaurant);

pub(super) fn list(conn: &Connection, args: ListArgs, p: &mut Printed) -> Result<(), CommandError> {
    let restaurants = match &args.restaurant {
        Some(id) => vec![require_restaurant(conn, id)?],
        None => list_restaurants(conn)?,
    };
    let (rows, total) = newest_calls(conn, &restaurants, &args)?;
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
    } else if !args.json.json {
        p.say(count(shown, "call"));
    }
    if args.json.json {
        let views: Vec<CallView> = rows
            .iter()
            .map(|(row, _)| CallView::from_row(row))
            .collect();
        print_json(&mut p.out, serde_json::to_value(&views).unwrap_or_default())?;
    } else {
        print_table(&rows, args.restaurant.is_none(), &mut p.out)?;
    }
    Ok(())
}

/// The newest calls of `restaurants` that the filters keep, `--limit` of them at most, and how
/// many the filters keep in all. Each restaurant's calls are walked along its index with the
/// bounds in its own zone; the newest of them all are kept.
fn newest_calls<'a>(
    conn: &Connection,
    restaurants: &'a [Restaurant],
    args: &ListArgs,
) -> Result<(Vec<Listed<'a>>, i64), CommandError> {
    let limit = args.limit;
    let mut rows: Vec<Listed> = Vec::new();
    let mut total = 0i64;
    for r in restaurants {
        let tz = r.time_zone();
        let bound = |when: Option<When>, ms: fn(When, &TimeZone) -> Option<i64>| {
            when.map(|w| ms(w, &tz).ok_or_else(|| usage("--since or --until is out of range")))
                .transpose()
        };
        let filter = CallFilter {
            outcomes: args.outcome.clone(),
            from: bound(args.since, When::first_ms)?,
            to: bound(args.until, When::last_ms)?,
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
    Ok((rows, total))
}

/// One row a call, under a header, its time in its restaurant's zone, the reason last.
fn print_table(
    rows: &[Listed],
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
