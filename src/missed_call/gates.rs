//! The gates of SPEC §1 step 7, in their order: the first that closes decides the outcome.

use rusqlite::Connection;

use crate::config::MissedCallsConfig;
use crate::db::calls::message_within;
use crate::db::customers::Customer;
use crate::db::reservations::Reservation;
use crate::db::restaurants::{Restaurant, debit_balance};
use crate::db::templates::{Template, find_template};
use crate::domain::{Outcome, TemplateType};
use crate::phone::E164;
use crate::secret::Secret;
use crate::vault::{KeyProblem, Vault};

const MINUTE_MS: i64 = 60_000;

/// Steps 4 to 6 for a caller whose number is known: who they are and which template fits.
#[derive(Debug, Clone)]
pub struct Guest {
    pub number: E164,
    pub customer: Customer,
    /// This call created the customer.
    pub new_customer: bool,
    pub reservation: Option<Reservation>,
    pub template_type: TemplateType,
}

/// Everything the gates look at for one call.
pub struct GateInput<'a> {
    pub restaurant: &'a Restaurant,
    /// `None` for a hidden caller id.
    pub guest: Option<&'a Guest>,
    pub call_id: &'a str,
    pub occurred_at: i64,
    pub now: i64,
    pub rules: &'a MissedCallsConfig,
    /// Opens the restaurant's access token.
    pub vault: &'a Vault,
}

/// The restaurant's WhatsApp number with its access token opened, for one send.
#[derive(Debug, Clone)]
pub struct Sender {
    pub phone_number_id: String,
    pub access_token: Secret,
}

/// What an open gate hands to the dispatch: everything a send needs, so that "open but
/// nothing to send" cannot be written.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub template: Template,
    pub account: Sender,
    pub to: E164,
    /// What the claim debited from the restaurant's balance, refunded if the send fails.
    pub debited: i64,
}

pub enum Gate {
    /// A gate closed: record this outcome and send nothing.
    Skip(Outcome),
    /// The restaurant's access token does not open with the key file: it has no usable WhatsApp
    /// integration (`SKIPPED_NO_WHATSAPP`), and the row records why (SPEC §8.2).
    Sealed(KeyProblem),
    /// Every gate is open and the cost is debited.
    Open(Box<Outbound>),
}

/// Runs the gates in order. The last one also claims the balance, so it must run in the
/// writer's job that records the claim.
pub fn evaluate(conn: &Connection, input: &GateInput<'_>) -> rusqlite::Result<Gate> {
    let r = input.restaurant;
    if !r.missed_calls_enabled {
        return Ok(Gate::Skip(Outcome::SkippedFeatureDisabled));
    }
    let Some(account) = &r.whatsapp else {
        return Ok(Gate::Skip(Outcome::SkippedNoWhatsapp));
    };
    let access_token = match input.vault.open(&r.id, &account.access_token) {
        Ok(token) => token,
        Err(problem) => return Ok(Gate::Sealed(problem)),
    };
    let Some(guest) = input.guest else {
        return Ok(Gate::Skip(Outcome::SkippedHiddenNumber));
    };
    if guest.customer.whatsapp_suppressed {
        return Ok(Gate::Skip(Outcome::SkippedSuppressed));
    }
    // No fallback to the other type: a booking reminder sent as a generic "book here" (or the
    // reverse) would read wrong to the guest.
    let template = match find_template(conn, &r.id, guest.template_type)? {
        Some(t) if t.is_sendable() => t,
        _ => return Ok(Gate::Skip(Outcome::SkippedNoTemplate)),
    };
    if input.occurred_at < input.now - input.rules.stale_after_minutes * MINUTE_MS {
        return Ok(Gate::Skip(Outcome::SkippedStale));
    }
    let cooldown = input.rules.cooldown_minutes * MINUTE_MS;
    if cooldown > 0
        && message_within(
            conn,
            &r.id,
            guest.number.as_str(),
            input.occurred_at,
            cooldown,
            input.call_id,
            input.now,
        )?
    {
        return Ok(Gate::Skip(Outcome::SkippedCooldown));
    }
    // Only a kept balance and a non-zero cost need the debit (and its write).
    let debited = match r.balance_cents {
        Some(_) if r.message_cost_cents > 0 => r.message_cost_cents,
        _ => 0,
    };
    if debited > 0 && !debit_balance(conn, &r.id, debited)? {
        return Ok(Gate::Skip(Outcome::SkippedLowBalance));
    }
    Ok(Gate::Open(Box::new(Outbound {
        template,
        account: Sender {
            phone_number_id: account.phone_number_id.clone(),
            access_token,
        },
        to: guest.number.clone(),
        debited,
    })))
}
