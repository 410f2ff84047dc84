//! `customer import` and `reservation import`: CSV files for a first load.

use std::io::{IsTerminal, Read, Write};

use rusqlite::Connection;

use super::error::{AdminError, CommandError, fail, failed, usage};
use super::output::Printed;
use super::restaurants::{phone_for, require_restaurant};
use crate::bookings::{
    self, BookingError, BookingPatch, BookingRequest, CustomerChange, CustomerRequest, NewBooking,
    rules,
};
use crate::db::customers::match_or_create_customer;
use crate::db::reservations::find_reservation_by_external_id;
use crate::db::restaurants::Restaurant;

// Customers come as `phone,name`, reservations as `external_id,phone,name,start,party_size,
// status`. A bad row is reported with its line and reason and skipped; the import never stops at
// it. Rows are committed in chunks, so a server running beside the import keeps answering. On a
// terminal, progress is shown.

/// How an import went: counts, and each rejected line with its reason.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub rejected: Vec<(u64, String)>,
}

/// Shows "N rows" on stderr every few thousand rows, when stderr is a terminal.
struct Progress {
    shown: bool,
    rows: usize,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            shown: std::io::stderr().is_terminal(),
            rows: 0,
        }
    }

    fn tick(&mut self) {
        self.rows += 1;
        if self.shown && self.rows.is_multiple_of(5_000) {
            eprint!("\r{} rows read…", self.rows);
            let _ = std::io::stderr().flush();
        }
    }

    fn done(&self) {
        if self.shown && self.rows >= 5_000 {
            eprintln!("\r{} rows read.  ", self.rows);
        }
    }
}

/// The CSV reader and the position of each named column (`None` when absent).
fn open_csv<R: Read>(
    input: R,
    columns: &[&str],
) -> Result<(csv::Reader<R>, Vec<Option<usize>>), AdminError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| failed(format!("cannot read the CSV header: {e}")))?
        .clone();
    let positions = columns
        .iter()
        .map(|name| headers.iter().position(|h| h.eq_ignore_ascii_case(name)))
        .collect();
    Ok((reader, positions))
}

/// What one imported row did.
enum Imported {
    Added,
    Updated,
}

/// Rows per transaction. A running server's writer waits for the import's write lock: small
/// chunks keep that wait to milliseconds, large enough ones keep the import fast.
const CHUNK: usize = 2_000;

/// Runs `row` on every record, each in its own savepoint: a row's error rejects that row and
/// undoes whatever it had written, and nothing else. Commits every `CHUNK` rows; `conn` must not
/// be inside a transaction.
fn each_row<R: Read>(
    conn: &Connection,
    mut reader: csv::Reader<R>,
    mut row: impl FnMut(&csv::StringRecord) -> Result<Imported, String>,
) -> Result<ImportReport, AdminError> {
    let mut report = ImportReport::default();
    let mut progress = Progress::new();
    conn.execute_batch("BEGIN IMMEDIATE")?;
    for (n, record) in reader.records().enumerate() {
        progress.tick();
        if n > 0 && n.is_multiple_of(CHUNK) {
            conn.execute_batch("COMMIT; BEGIN IMMEDIATE")?;
        }
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                conn.execute_batch("SAVEPOINT import_row")?;
                match row(&record) {
                    Ok(Imported::Added) => report.added += 1,
                    Ok(Imported::Updated) => report.updated += 1,
                    Err(reason) => {
                        conn.execute_batch("ROLLBACK TO import_row")?;
                        report.rejected.push((line, reason));
                    }
                }
                conn.execute_batch("RELEASE import_row")?;
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                report.rejected.push((line, e.to_string()));
            }
        }
    }
    conn.execute_batch("COMMIT")?;
    progress.done();
    Ok(report)
}

fn cell(record: &csv::StringRecord, column: Option<usize>) -> &str {
    column.and_then(|c| record.get(c)).unwrap_or_default()
}

fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// Imports `phone,name` rows (extra columns are ignored): a new number is added, a known one
/// has its name updated.
pub fn import_customers(
    conn: &Connection,
    restaurant_id: &str,
    input: impl Read,
) -> Result<ImportReport, AdminError> {
    let restaurant = require_restaurant(conn, restaurant_id)?;
    let (reader, columns) = open_csv(input, &["phone", "name"])?;
    if columns[0].is_none() {
        return Err(usage("the CSV header has no `phone` column"));
    }
    each_row(conn, reader, |record| {
        let number = phone_for(&restaurant, cell(record, columns[0])).map_err(|e| e.to_string())?;
        let name =
            rules::name(Some(cell(record, columns[1])), "name").map_err(|e| e.to_string())?;
        let (_, created) = match_or_create_customer(
            conn,
            restaurant_id,
            number.as_str(),
            name.as_deref(),
            "IMPORT",
        )
        .map_err(|e| e.to_string())?;
        Ok(if created {
            Imported::Added
        } else {
            Imported::Updated
        })
    })
}

const RESERVATION_COLUMNS: [&str; 7] = [
    "external_id",
    "phone",
    "name",
    "start",
    "party_size",
    "status",
    "ref",
];

/// Imports reservations. A row whose `external_id` is already known updates that reservation
/// (so the same export can be loaded twice); any other row adds one. An empty `phone` makes a
/// reservation without a customer; an empty `status` is `CONFIRMED`.
pub fn import_reservations(
    conn: &Connection,
    restaurant_id: &str,
    input: impl Read,
    conversion_window_days: i64,
) -> Result<ImportReport, AdminError> {
    let restaurant = require_restaurant(conn, restaurant_id)?;
    let (reader, columns) = open_csv(input, &RESERVATION_COLUMNS)?;
    for (name, column) in RESERVATION_COLUMNS.iter().zip(&columns) {
        if column.is_none() && !["name", "ref"].contains(name) {
            return Err(usage(format!("the CSV header has no `{name}` column")));
        }
    }
    each_row(conn, reader, |record| {
        let booking = parse_row(&restaurant, record, &columns)?;
        let existing = match &booking.external_id {
            Some(x) => find_reservation_by_external_id(conn, restaurant_id, x)
                .map_err(|e| e.to_string())?,
            None => None,
        };
        let imported = match existing {
            Some(existing) => {
                let patch = BookingPatch {
                    start_at: Some(booking.start_at),
                    party_size: Some(booking.party_size),
                    status: Some(booking.status.clone()),
                    customer: Some(match booking.customer {
                        Some(c) => CustomerChange::Fields {
                            name: c.name,
                            phone: Some(c.phone),
                        },
                        None => CustomerChange::Detach,
                    }),
                };
                bookings::patch_reservation(conn, restaurant_id, &existing.id, &patch)
                    .map(|_| Imported::Updated)
            }
            None => {
                bookings::create_reservation(conn, restaurant_id, &booking, conversion_window_days)
                    .map(|_| Imported::Added)
            }
        };
        imported.map_err(|e: BookingError| e.to_string())
    })
}

/// Where imported reservations come from: another system's export.
const SOURCE: &str = "OTHER";

/// A row read with the partner API's rules for a new reservation (`bookings::rules`): only the
/// party size is turned from text into a number here, and a status may be in lower case.
fn parse_row(
    restaurant: &Restaurant,
    record: &csv::StringRecord,
    columns: &[Option<usize>],
) -> Result<NewBooking, String> {
    let get = |i: usize| cell(record, columns[i]);
    let party_size = get(4)
        .parse::<i64>()
        .map_err(|_| format!("party_size {:?} is not a whole number", get(4)))?;
    let status = non_empty(get(5)).map(str::to_ascii_uppercase);
    let request = BookingRequest {
        customer: non_empty(get(1)).map(|phone| CustomerRequest {
            name: non_empty(get(2)),
            phone_number: Some(phone),
        }),
        start_at: get(3),
        party_size,
        status: status.as_deref(),
        source: Some(SOURCE),
        external_id: non_empty(get(0)),
        ref_token: non_empty(get(6)),
    };
    request.check(restaurant).map_err(|e| e.to_string())
}

/// The CSV file an import reads.
pub(super) fn open(file: &std::path::Path) -> Result<std::fs::File, CommandError> {
    std::fs::File::open(file).map_err(|e| fail(format!("cannot open {}: {e}", file.display())))
}

/// Each rejected row, then the counts, on stderr: an import creates no one id to print.
pub(super) fn print_import(report: &ImportReport, p: &mut Printed) {
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
