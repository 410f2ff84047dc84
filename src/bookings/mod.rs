//! Reservations and customers kept current by the restaurant's booking system (SPEC §7): what
//! creating, changing and cancelling a reservation, and changing a customer, do to the database.
//! Each function runs as one job of the single writer (or inside a CLI transaction); `rules`
//! checks what is asked for before.

pub mod rules;

pub use rules::{BookingRequest, CustomerRequest};

use rusqlite::Connection;

use crate::db::DbError;
use crate::db::conversions::{self, Attribution};
use crate::db::customers::{Customer, find_customer, match_or_create_customer, update_customer};
use crate::db::reservations::{
    NewReservation, Reservation, find_reservation_by_external_id, find_restaurant_reservation,
    insert_reservation, save_reservation, set_cancel_reason,
};
use crate::phone::E164;
use crate::time::now_ms;

/// Customers created from a reservation have this source.
const CUSTOMER_SOURCE: &str = "RESERVATION";

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("a reservation with this external_id already exists")]
    ExternalIdTaken { reservation_id: String },
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl crate::db::StorageFault for BookingError {
    fn is_storage_fault(&self) -> bool {
        matches!(self, BookingError::Db(e) if e.is_storage_fault())
    }
}

impl From<rusqlite::Error> for BookingError {
    fn from(e: rusqlite::Error) -> Self {
        BookingError::Db(DbError::Sqlite(e))
    }
}

/// The customer of a new reservation: matched by number (its name updated when given), or
/// created.
#[derive(Debug, Clone)]
pub struct CustomerFields {
    pub name: Option<String>,
    pub phone: E164,
}

/// What a PATCH does to a reservation's customer.
#[derive(Debug, Clone)]
pub enum CustomerChange {
    /// `"customer": null`.
    Detach,
    /// `"customer": {"id": …}`: an existing customer of this restaurant.
    Attach(String),
    /// `"customer": {"name"?, "phone_number"?}`: updates the attached customer, or creates one
    /// when none is attached. A new number moves the reservation to that number's customer,
    /// since a customer is its number.
    Fields {
        name: Option<String>,
        phone: Option<E164>,
    },
}

#[derive(Debug, Clone)]
pub struct NewBooking {
    pub customer: Option<CustomerFields>,
    pub start_at: i64,
    pub party_size: i64,
    pub status: String,
    pub source: String,
    pub external_id: Option<String>,
    /// The link token the booking site was given: attributes the booking to that call.
    pub ref_token: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct BookingPatch {
    pub start_at: Option<i64>,
    pub party_size: Option<i64>,
    pub status: Option<String>,
    pub customer: Option<CustomerChange>,
}

/// A reservation with its customer, as the API shows it.
pub type Booked = (Reservation, Option<Customer>);

fn attach(
    conn: &Connection,
    restaurant_id: &str,
    fields: &CustomerFields,
) -> Result<Customer, BookingError> {
    let (customer, _) = match_or_create_customer(
        conn,
        restaurant_id,
        fields.phone.as_str(),
        fields.name.as_deref(),
        CUSTOMER_SOURCE,
    )?;
    Ok(customer)
}

/// Creates the reservation and, in the same transaction, counts it as the booking conversion of
/// the call that won it back, if one qualifies (SPEC §9): `window_days` is
/// `missed_calls.conversion_window_days`.
pub fn create_reservation(
    conn: &Connection,
    restaurant_id: &str,
    new: &NewBooking,
    window_days: i64,
) -> Result<Booked, BookingError> {
    if let Some(x) = &new.external_id
        && let Some(existing) = find_reservation_by_external_id(conn, restaurant_id, x)?
    {
        return Err(BookingError::ExternalIdTaken {
            reservation_id: existing.id,
        });
    }
    let customer = match &new.customer {
        Some(fields) => Some(attach(conn, restaurant_id, fields)?),
        None => None,
    };
    let id = insert_reservation(
        conn,
        &NewReservation {
            restaurant_id,
            customer_id: customer.as_ref().map(|c| c.id.as_str()),
            external_id: new.external_id.as_deref(),
            start_at: new.start_at,
            party_size: new.party_size,
            status: &new.status,
            source: &new.source,
            ref_token: new.ref_token.as_deref(),
        },
    )?;
    let booked = get_reservation(conn, restaurant_id, &id)?;
    conversions::attribute_reservation(
        conn,
        &Attribution {
            restaurant_id,
            reservation_id: &id,
            customer_id: booked.0.customer_id.as_deref(),
            ref_token: new.ref_token.as_deref(),
            created_at: booked.0.created_at,
            window_ms: window_days * 24 * 60 * 60 * 1000,
        },
    )?;
    Ok(booked)
}

/// The reservation and its customer; another restaurant's id is not found.
pub fn get_reservation(
    conn: &Connection,
    restaurant_id: &str,
    id: &str,
) -> Result<Booked, BookingError> {
    let reservation = find_restaurant_reservation(conn, restaurant_id, id)?
        .ok_or(BookingError::NotFound("reservation"))?;
    with_customer(conn, reservation)
}

pub fn with_customer(conn: &Connection, reservation: Reservation) -> Result<Booked, BookingError> {
    let customer = match &reservation.customer_id {
        Some(id) => find_customer(conn, &reservation.restaurant_id, id)?,
        None => None,
    };
    Ok((reservation, customer))
}

pub fn patch_reservation(
    conn: &Connection,
    restaurant_id: &str,
    id: &str,
    patch: &BookingPatch,
) -> Result<Booked, BookingError> {
    let (mut reservation, current) = get_reservation(conn, restaurant_id, id)?;
    if let Some(start_at) = patch.start_at {
        reservation.start_at = start_at;
    }
    if let Some(size) = patch.party_size {
        reservation.party_size = size;
    }
    if let Some(status) = &patch.status {
        reservation.status = status.clone();
    }
    let customer = match &patch.customer {
        None => current,
        Some(CustomerChange::Detach) => None,
        Some(CustomerChange::Attach(customer_id)) => Some(
            find_customer(conn, restaurant_id, customer_id)?
                .ok_or(BookingError::NotFound("customer"))?,
        ),
        Some(CustomerChange::Fields { name, phone }) => {
            let phone = match (phone, &current) {
                (Some(p), _) => p.clone(),
                (None, Some(c)) => E164::from_stored(&c.phone_e164),
                (None, None) => {
                    return Err(BookingError::Invalid {
                        field: "customer.phone_number",
                        message: "customer.phone_number is required when the reservation has \
                                  no customer yet"
                            .into(),
                    });
                }
            };
            Some(attach(
                conn,
                restaurant_id,
                &CustomerFields {
                    name: name.clone(),
                    phone,
                },
            )?)
        }
    };
    reservation.customer_id = customer.as_ref().map(|c| c.id.clone());
    reservation.updated_at = now_ms();
    save_reservation(conn, &reservation)?;
    Ok((reservation, customer))
}

/// Cancels a reservation; cancelling it again changes nothing and answers the same.
pub fn cancel_reservation(
    conn: &Connection,
    restaurant_id: &str,
    id: &str,
    reason: Option<&str>,
) -> Result<Booked, BookingError> {
    let (mut reservation, customer) = get_reservation(conn, restaurant_id, id)?;
    if reservation.status != "CANCELED" {
        reservation.status = "CANCELED".into();
        reservation.updated_at = now_ms();
        save_reservation(conn, &reservation)?;
        if let Some(reason) = reason {
            set_cancel_reason(conn, id, reason)?;
        }
    }
    Ok((reservation, customer))
}

/// Changes a customer's name (`Some(None)` clears it) and WhatsApp suppression.
pub fn patch_customer(
    conn: &Connection,
    restaurant_id: &str,
    id: &str,
    name: Option<Option<&str>>,
    suppressed: Option<bool>,
) -> Result<Customer, BookingError> {
    find_customer(conn, restaurant_id, id)?.ok_or(BookingError::NotFound("customer"))?;
    update_customer(conn, id, name, suppressed)?;
    find_customer(conn, restaurant_id, id)?.ok_or(BookingError::NotFound("customer"))
}
