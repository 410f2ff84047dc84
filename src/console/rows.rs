//! A log row as the console's API answers it: the call object of SPEC §2.2 and what the manager
//! reads beside it (SPEC §9), in the user's language.

use rusqlite::Connection;
use serde::Serialize;

use super::language::Words;
use super::queries::LogRow;
use super::words::{Limits, reason, status_label};
use crate::db::restaurants::Restaurant;
use crate::phone::display;
use crate::time::{format_local, format_utc};
use crate::views::CallView;

#[derive(Debug, Serialize)]
pub struct LogRowView {
    #[serde(flatten)]
    pub call: CallView,
    /// `null` for a caller without a name, or a hidden one.
    pub customer_name: Option<String>,
    /// The call created the customer.
    pub new_customer: bool,
    /// Who stopped messages to the customer, while they are stopped: `operator` (the
    /// restaurant), `reply` (the guest answered STOP) or `131050` (WhatsApp said the guest
    /// stopped marketing messages); `null` otherwise.
    pub customer_suppression: Option<String>,
    pub status_label: String,
    pub reason: Option<String>,
    pub clicked_at: Option<String>,
    pub clicks: i64,
    pub converted_reservation_id: Option<String>,
    pub converted_reservation_status: Option<String>,
    /// The times and number as the restaurant reads them.
    pub occurred_at_local: String,
    pub clicked_at_local: Option<String>,
    pub caller_display: String,
}

/// What turns a `LogRow` into words: the restaurant's zone and country, the rules quoted, the
/// user's language.
pub struct Shown<'a> {
    pub restaurant: &'a Restaurant,
    pub tz: jiff::tz::TimeZone,
    pub limits: Limits,
    pub words: &'static Words,
}

impl Shown<'_> {
    /// The caller as the restaurant writes numbers; a withheld id reads "Hidden number" (its raw
    /// form, `anonymous` or `private`, stays in `caller_phone_number`), an erased one "Forgotten
    /// caller".
    pub fn caller(&self, row: &LogRow) -> String {
        if row.call.is_forgotten() {
            return self.words.get("caller-forgotten");
        }
        match &row.call.caller_e164 {
            Some(number) => display(number, &self.restaurant.country),
            None => self.words.get("caller-hidden"),
        }
    }

    pub fn view(&self, conn: &Connection, row: LogRow) -> rusqlite::Result<LogRowView> {
        let reason = reason(conn, self.words, &row, &self.tz, self.limits)?;
        Ok(LogRowView {
            call: CallView::from_row(&row.call),
            status_label: status_label(self.words, row.call.outcome),
            reason,
            clicked_at: row.first_clicked_at.map(format_utc),
            clicked_at_local: row.first_clicked_at.map(|t| format_local(t, &self.tz)),
            clicks: row.clicks,
            occurred_at_local: format_local(row.call.occurred_at, &self.tz),
            caller_display: self.caller(&row),
            customer_name: row.customer_name,
            new_customer: row.new_customer,
            customer_suppression: row.suppression,
            converted_reservation_id: row.converted_reservation_id,
            converted_reservation_status: row.converted_status,
        })
    }
}
