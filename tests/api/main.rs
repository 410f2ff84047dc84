//! The one integration-test binary: the real server over HTTP, a fake WhatsApp on loopback.

mod helpers;

mod balance;
mod cli;
mod cli_guests;
mod concurrency;
mod connections;
mod contract;
mod crash;
mod customers;
mod errors;
mod fake_whatsapp;
mod gates;
mod idempotency;
mod invariants;
mod normalisation;
mod openapi;
mod openapi_bookings;
mod outcomes;
mod process;
mod reads;
mod reservations;
mod secrets;
mod soak;
mod storage;
mod survival;
mod writer;
