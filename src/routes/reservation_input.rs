//! Reading reservation requests (SPEC §7): bodies for create and patch, the list's filters and
//! its opaque cursor. What comes out can no longer be wrong.

use serde_json::Value;

use super::input::{Object, integer_field, required, string_field};
use crate::bookings::rules::{self, instant, party_size, status};
use crate::bookings::{BookingPatch, BookingRequest, CustomerChange, CustomerRequest, NewBooking};
use crate::db::reservations::ReservationFilter;
use crate::db::restaurants::Restaurant;
use crate::error::ApiError;
use crate::phone::E164;

/// A phone number of a customer, read with the restaurant's country.
pub(super) fn phone(
    text: &str,
    restaurant: &Restaurant,
    field: &'static str,
) -> Result<E164, ApiError> {
    Ok(rules::phone_number(text, restaurant, field)?)
}

/// `customer.name` and `customer.phone_number` as strings, or a 400 naming the one that is not.
fn customer_fields(body: &Object) -> Result<CustomerRequest<'_>, ApiError> {
    let name = string_field(body, "name").map_err(|_| {
        ApiError::malformed(Some("customer.name"), "customer.name must be a string")
    })?;
    let phone_number = string_field(body, "phone_number").map_err(|_| {
        ApiError::malformed(
            Some("customer.phone_number"),
            "customer.phone_number must be a string",
        )
    })?;
    Ok(CustomerRequest { name, phone_number })
}

/// `customer` as a JSON object, `None` for `null`; anything else is a 400.
fn customer_object(body: &Object) -> Result<Option<&Object>, ApiError> {
    match body.get("customer") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(c)) => Ok(Some(c)),
        Some(_) => Err(ApiError::malformed(
            Some("customer"),
            "customer must be an object or null",
        )),
    }
}

/// Wrong types are a 400 here; the rules of a reservation (422) are the booking's own, the same
/// for `reservation add` and the import.
pub(super) fn parse_new(body: &Object, restaurant: &Restaurant) -> Result<NewBooking, ApiError> {
    let request = BookingRequest {
        start_at: required(string_field(body, "start_at")?, "start_at")?,
        party_size: required(integer_field(body, "party_size")?, "party_size")?,
        customer: customer_object(body)?.map(customer_fields).transpose()?,
        status: string_field(body, "status")?,
        source: string_field(body, "source")?,
        external_id: string_field(body, "external_id")?,
        ref_token: string_field(body, "ref")?,
    };
    Ok(request.check(restaurant)?)
}

pub(super) fn parse_patch(
    body: &Object,
    restaurant: &Restaurant,
) -> Result<BookingPatch, ApiError> {
    let tz = restaurant.time_zone();
    let customer = if body.contains_key("customer") {
        Some(match customer_object(body)? {
            None => CustomerChange::Detach,
            Some(c) if c.contains_key("id") => {
                let id = string_field(c, "id")
                    .map_err(|_| {
                        ApiError::malformed(Some("customer.id"), "customer.id must be a string")
                    })?
                    .ok_or_else(|| {
                        ApiError::malformed(Some("customer.id"), "customer.id must be a string")
                    })?;
                CustomerChange::Attach(id.to_string())
            }
            Some(c) => {
                let fields = customer_fields(c)?;
                CustomerChange::Fields {
                    name: rules::name(fields.name, "customer.name")?,
                    phone: fields
                        .phone_number
                        .map(|t| phone(t, restaurant, "customer.phone_number"))
                        .transpose()?,
                }
            }
        })
    } else {
        None
    };
    Ok(BookingPatch {
        start_at: string_field(body, "start_at")?
            .map(|t| instant(t, &tz, "start_at"))
            .transpose()?,
        party_size: integer_field(body, "party_size")?
            .map(party_size)
            .transpose()?,
        status: string_field(body, "status")?.map(status).transpose()?,
        customer,
    })
}

const MAX_LIMIT: u32 = 200;

/// `start_at:id` of the last row of a page, hex-encoded so that clients treat it as opaque.
pub(super) fn encode_cursor(start_at: i64, id: &str) -> String {
    format!("{start_at}:{id}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    if !cursor.len().is_multiple_of(2) || !cursor.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (start, id) = text.split_once(':')?;
    Some((start.parse().ok()?, id.to_string()))
}

pub(super) fn parse_filter(
    params: &[(String, String)],
    restaurant: &Restaurant,
) -> Result<(ReservationFilter, u32), ApiError> {
    let tz = restaurant.time_zone();
    let mut filter = ReservationFilter::default();
    let mut limit = 50;
    for (key, value) in params {
        match key.as_str() {
            "start_at_from" => filter.start_at_from = Some(instant(value, &tz, "start_at_from")?),
            "start_at_to" => filter.start_at_to = Some(instant(value, &tz, "start_at_to")?),
            "status" => {
                // ASCII white space only, as the document's pattern says.
                let items = value
                    .split(',')
                    .map(|s| s.trim_matches(|c: char| c.is_ascii_whitespace()));
                for s in items.filter(|s| !s.is_empty()) {
                    filter.statuses.push(status(s)?);
                }
            }
            "limit" => {
                let n: i64 = value.parse().map_err(|_| {
                    ApiError::malformed(Some("limit"), "limit must be a whole number")
                })?;
                limit = u32::try_from(n)
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| ApiError::validation("limit", "limit must be 1 to 200"))?;
            }
            "cursor" if !value.is_empty() => {
                filter.after = Some(decode_cursor(value).ok_or_else(|| {
                    ApiError::validation("cursor", "cursor is not one this API gave")
                })?);
            }
            _ => {}
        }
    }
    Ok((filter, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_decodes_to_what_was_encoded() {
        let cursor = encode_cursor(1_780_000_000_000, "res_0AbC");
        assert_eq!(
            decode_cursor(&cursor),
            Some((1_780_000_000_000, "res_0AbC".to_string()))
        );
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("abc"), None);
    }
}
