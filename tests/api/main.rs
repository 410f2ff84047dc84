//! The one integration-test binary: the real server over HTTP, a fake WhatsApp on loopback.

mod helpers;

mod backup;
mod balance;
mod cli;
mod cli_guests;
mod concurrency;
mod connections;
mod contract;
mod crash;
mod customers;
mod disk;
mod errors;
mod fake_whatsapp;
mod forget;
mod gates;
mod idempotency;
mod invariants;
mod logs;
mod normalisation;
mod openapi;
mod openapi_bookings;
mod ops;
mod outcomes;
mod process;
mod reads;
mod reservations;
mod retention;
mod secrets;
mod soak;
mod storage;
mod survival;
mod tls;
mod writer;
