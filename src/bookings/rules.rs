//! The rules of a reservation as it is asked for (SPEC §7), in one place for the partner API,
//! `reservation add` and the reservation import: text in, a `NewBooking` that cannot be wrong out.

use std::ops::RangeInclusive;

use jiff::tz::TimeZone;

use super::{BookingError, CustomerFields, NewBooking};
use crate::db::reservations::is_known_status;
use crate::db::restaurants::Restaurant;
use crate::phone::{Caller, E164};
use crate::time::parse_instant;

/// Where a reservation came from, as the EatNow partner API names it.
pub const SOURCES: [&str; 15] = [
    "WALK_IN",
    "WEBSITE",
    "PHONE",
    "EMAIL",
    "RESERVE_WITH_GOOGLE",
    "TRAVEL_AGENCIES",
    "OTHER",
    "INSTAGRAM",
    "FACEBOOK",
    "TIKTOK",
    "SNAPCHAT",
    "WHATSAPP",
    "TRIPADVISOR",
    "PRIVATIZATION",
    "MISSED_CALL",
];

/// The status of a new reservation that names none.
pub const DEFAULT_STATUS: &str = "CONFIRMED";

/// The source of a new reservation that names none.
pub const DEFAULT_SOURCE: &str = "WEBSITE";

const PARTY_SIZES: RangeInclusive<i64> = 1..=1000;
const EXTERNAL_ID_LENGTHS: RangeInclusive<usize> = 1..=128;
const NAME_LENGTHS: RangeInclusive<usize> = 1..=200;

/// A new reservation as it was asked for, its fields already of the right type but no rule
/// checked yet.
#[derive(Debug, Clone, Default)]
pub struct BookingRequest<'a> {
    /// `None`: a reservation without a customer.
    pub customer: Option<CustomerRequest<'a>>,
    /// RFC 3339, or restaurant-local without an offset.
    pub start_at: &'a str,
    pub party_size: i64,
    /// `None`: [`DEFAULT_STATUS`].
    pub status: Option<&'a str>,
    /// `None`: [`DEFAULT_SOURCE`].
    pub source: Option<&'a str>,
    pub external_id: Option<&'a str>,
    /// The `rb_ref` the booking site received (SPEC §9); empty counts as absent.
    pub ref_token: Option<&'a str>,
}

/// The customer of a new reservation as asked for: matched or created by its number.
#[derive(Debug, Clone, Default)]
pub struct CustomerRequest<'a> {
    pub name: Option<&'a str>,
    pub phone_number: Option<&'a str>,
}

impl BookingRequest<'_> {
    /// The reservation to create, or the first rule it breaks, naming the field.
    pub fn check(&self, restaurant: &Restaurant) -> Result<NewBooking, BookingError> {
        let customer = match &self.customer {
            None => None,
            Some(c) => {
                let phone = c.phone_number.ok_or_else(|| {
                    invalid("customer.phone_number", "customer.phone_number is required")
                })?;
                Some(CustomerFields {
                    name: name(c.name, "customer.name")?,
                    phone: phone_number(phone, restaurant, "customer.phone_number")?,
                })
            }
        };
        Ok(NewBooking {
            customer,
            start_at: instant(self.start_at, &restaurant.time_zone(), "start_at")?,
            party_size: party_size(self.party_size)?,
            status: status(self.status.unwrap_or(DEFAULT_STATUS))?,
            source: source(self.source.unwrap_or(DEFAULT_SOURCE))?,
            external_id: self.external_id.map(external_id).transpose()?,
            ref_token: self.ref_token.map(ref_token).transpose()?.flatten(),
        })
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> BookingError {
    BookingError::Invalid {
        field,
        message: message.into(),
    }
}

/// A date-time with an offset, or restaurant-local without one.
pub fn instant(text: &str, tz: &TimeZone, field: &'static str) -> Result<i64, BookingError> {
    parse_instant(text, tz).ok_or_else(|| {
        invalid(
            field,
            format!(
                "{field} {text:?} is not a date and time in 2000–2099, like 2026-05-10T20:30:00+02:00 (an offset within ±23:59, or none for the restaurant's local time)"
            ),
        )
    })
}

pub fn party_size(n: i64) -> Result<i64, BookingError> {
    if PARTY_SIZES.contains(&n) {
        Ok(n)
    } else {
        Err(invalid(
            "party_size",
            format!(
                "party_size must be {} to {}",
                PARTY_SIZES.start(),
                PARTY_SIZES.end()
            ),
        ))
    }
}

pub fn status(text: &str) -> Result<String, BookingError> {
    if is_known_status(text) {
        Ok(text.to_string())
    } else {
        Err(invalid(
            "status",
            format!("{text:?} is not a reservation status"),
        ))
    }
}

pub fn source(text: &str) -> Result<String, BookingError> {
    if SOURCES.contains(&text) {
        Ok(text.to_string())
    } else {
        Err(invalid(
            "source",
            format!("{text:?} is not a reservation source"),
        ))
    }
}

/// A booking form passes its `rb_ref` on even when the page was opened without one: empty is no
/// ref, not an error.
pub fn ref_token(text: &str) -> Result<Option<String>, BookingError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    length(text, "ref", EXTERNAL_ID_LENGTHS)?;
    Ok(Some(text.to_string()))
}

pub fn external_id(text: &str) -> Result<String, BookingError> {
    length(text, "external_id", EXTERNAL_ID_LENGTHS)?;
    Ok(text.to_string())
}

/// A customer's name, trimmed; a blank one is no name.
pub fn name(text: Option<&str>, field: &'static str) -> Result<Option<String>, BookingError> {
    match text.map(str::trim) {
        Some(n) if !n.is_empty() => {
            length(n, field, NAME_LENGTHS)?;
            Ok(Some(n.to_string()))
        }
        _ => Ok(None),
    }
}

/// A customer's phone number, read with the restaurant's country (SPEC §4.2). A withheld-caller
/// word is no number a guest can be reached on.
pub fn phone_number(
    text: &str,
    restaurant: &Restaurant,
    field: &'static str,
) -> Result<E164, BookingError> {
    match Caller::parse(text, &restaurant.country) {
        Ok(Caller::Number(n)) => Ok(n),
        _ => Err(invalid(
            field,
            format!(
                "{field} is not a valid phone number for {}",
                restaurant.country
            ),
        )),
    }
}

fn length(
    value: &str,
    field: &'static str,
    range: RangeInclusive<usize>,
) -> Result<(), BookingError> {
    if range.contains(&value.chars().count()) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "{field} must be {} to {} characters",
                range.start(),
                range.end()
            ),
        ))
    }
}
