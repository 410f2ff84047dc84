//! `GET /console/export.csv` (SPEC §9): exactly the rows the log's filters select, streamed a
//! page at a time so that a million rows take as little memory as fifty. Each page is its own
//! short read, so a slow download never holds a read transaction (and with it the WAL) open.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::ConsoleApp;
use super::api::{Query, limits, log_filter, scope};
use super::language::{Lang, Words};
use super::queries::{Cursor, LogFilter, LogRow, log_page};
use super::rows::Shown;
use super::session::ConsoleUser;
use super::words::{reason, status_label, template_label};
use crate::db::{self, ReadPool};
use crate::domain::{Outcome, TemplateType};
use crate::error::ApiError;
use crate::time::format_local;

/// Rows read per page; a page's CSV is sent as one chunk.
const PAGE: u32 = 1000;
/// Chunks buffered ahead of a slow client.
const CHUNKS_AHEAD: usize = 4;

pub const HEADER: [&str; 10] = [
    "occurred_at",
    "caller",
    "customer",
    "status",
    "reason",
    "template",
    "delivery",
    "clicked",
    "booked",
    "call_id",
];

/// A cell a spreadsheet would read as a formula gets a leading `'` (OWASP's CSV injection rule).
pub fn defused(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The CSV's separator: `;` in French (what French Excel splits on when the file is opened by a
/// double-click), `,` in English; `?sep=comma|semicolon` overrides (SPEC §9).
fn separator(q: &Query, lang: Lang) -> Result<u8, ApiError> {
    match q.get("sep") {
        None => Ok(match lang {
            Lang::Fr => b';',
            Lang::En => b',',
        }),
        Some("comma") => Ok(b','),
        Some("semicolon") => Ok(b';'),
        Some(_) => Err(ApiError::validation(
            "sep",
            "sep must be \"comma\" or \"semicolon\"",
        )),
    }
}

pub async fn export_calls(
    State(state): State<ConsoleApp>,
    user: ConsoleUser,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw);
    let delimiter = separator(&q, lang)?;
    // Checked before the first byte goes out: a bad filter is a 4xx, not a broken file.
    let (restaurant, filter) = db::read(&state.reads, move |conn| {
        let restaurant = scope(conn, &user, q.get("restaurant"))?;
        let filter = log_filter(&q, &restaurant)?;
        Ok::<_, ApiError>((restaurant, filter))
    })
    .await?;
    let filename = format!(
        "attachment; filename=\"ringback-calls-{}.csv\"",
        restaurant.id
    );
    let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
    let (reads, limits) = (state.reads.clone(), limits(&state));
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let shown = Shown {
            tz: restaurant.time_zone(),
            restaurant: &restaurant,
            limits,
            words: lang.words(),
        };
        if let Err(e) = stream_rows(&reads, &shown, &filter, delimiter, &tx) {
            // The status line is gone already: the transfer is aborted, so that the browser
            // reports a failed download instead of keeping a file that ends short.
            tracing::error!(error = %e, "the CSV export stopped early");
            let _ = tx.blocking_send(Err(std::io::Error::other("the export stopped early")));
        }
    });
    let mut response = Body::new(ChannelBody(rx)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Writes every selected row, a page at a time; stops early when the client has gone.
fn stream_rows(
    reads: &ReadPool,
    shown: &Shown<'_>,
    filter: &LogFilter,
    delimiter: u8,
    tx: &mpsc::Sender<Chunk>,
) -> Result<(), ApiError> {
    let restaurant = shown.restaurant;
    // Labels repeat: each said once per export.
    let labels = Labels::new(shown.words);
    // Numbers repeat: one formatting per number, within bounds.
    let mut callers: HashMap<String, String> = HashMap::new();
    // A byte-order mark, so that a spreadsheet opened by double-click reads the names as UTF-8.
    let mut out = csv_writer(b"\xEF\xBB\xBF".to_vec(), delimiter);
    out.write_record(HEADER)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut cursor = None;
    loop {
        let conn = reads.get().map_err(db::DbError::from)?;
        let rows = log_page(&conn, &restaurant.id, filter, cursor, PAGE)?;
        let last = rows.last().map(|r| Cursor {
            occurred_at: r.call.occurred_at,
            seq: r.seq,
        });
        for row in &rows {
            write_row(&mut out, &conn, shown, &labels, row, &mut callers)?;
        }
        drop(conn);
        let chunk = out
            .into_inner()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        if tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
            return Ok(());
        }
        if rows.len() < PAGE as usize {
            return Ok(());
        }
        if callers.len() > 50_000 {
            callers.clear();
        }
        out = csv_writer(Vec::with_capacity(256 * 1024), delimiter);
        cursor = last;
    }
}

fn csv_writer(buffer: Vec<u8>, delimiter: u8) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(buffer)
}

/// The words every row repeats, in the export's language.
struct Labels {
    status: HashMap<Outcome, String>,
    template: HashMap<Option<TemplateType>, String>,
    new_customer: String,
}

impl Labels {
    fn new(words: &Words) -> Labels {
        Labels {
            status: Outcome::ALL
                .iter()
                .map(|o| (*o, status_label(words, *o)))
                .collect(),
            template: TemplateType::ALL
                .iter()
                .map(|t| Some(*t))
                .chain([None])
                .map(|t| (t, template_label(words, t)))
                .collect(),
            new_customer: words.get("customer-new"),
        }
    }
}

fn write_row(
    out: &mut csv::Writer<Vec<u8>>,
    conn: &rusqlite::Connection,
    shown: &Shown<'_>,
    labels: &Labels,
    row: &LogRow,
    callers: &mut HashMap<String, String>,
) -> Result<(), ApiError> {
    let call = &row.call;
    let caller = callers
        .entry(
            call.caller_e164
                .clone()
                .unwrap_or_else(|| call.caller_raw.clone()),
        )
        .or_insert_with(|| shown.caller(row))
        .clone();
    let customer = match (&row.customer_name, row.new_customer) {
        (Some(name), _) => name.clone(),
        (None, true) => labels.new_customer.clone(),
        (None, false) => String::new(),
    };
    let reason = reason(conn, shown.words, row, &shown.tz, shown.limits)?.unwrap_or_default();
    let clicked = row
        .first_clicked_at
        .map(|t| format_local(t, &shown.tz))
        .unwrap_or_default();
    let cells = [
        format_local(call.occurred_at, &shown.tz),
        caller,
        customer,
        labels
            .status
            .get(&call.outcome)
            .cloned()
            .unwrap_or_default(),
        reason,
        labels
            .template
            .get(&call.template_type)
            .cloned()
            .unwrap_or_default(),
        call.delivery_state
            .map_or("", crate::domain::DeliveryState::as_str)
            .to_string(),
        clicked,
        row.converted_reservation_id.clone().unwrap_or_default(),
        call.id.clone(),
    ];
    out.write_record(cells.iter().map(|c| defused(c).into_owned()))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// A piece of the file, or the error that cut it short.
type Chunk = Result<Bytes, std::io::Error>;

/// A response body fed chunk by chunk from the blocking thread that reads the rows.
struct ChannelBody(mpsc::Receiver<Chunk>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| c.map(http_body::Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_prefixed_and_others_are_not() {
        for cell in ["=SUM(A1)", "+33 6 12", "-1", "@cmd"] {
            assert_eq!(defused(cell), format!("'{cell}"));
        }
        assert_eq!(defused("06 12 34 56 78"), "06 12 34 56 78");
    }
}
