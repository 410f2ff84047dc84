//! The one integration-test binary: the real server over HTTP, a fake WhatsApp on loopback.

mod helpers;

mod balance;
mod cli;
mod cli_calls;
mod cli_guests;
mod cli_harness;
mod cli_output;
mod cli_restaurants;
mod cli_rules;
mod cli_whatsapp;
mod concurrency;
mod connections;
mod crash;
mod customers;
mod errors;
mod fake_whatsapp;
mod gates;
mod idempotency;
mod invariants;
mod normalisation;
mod outcomes;
mod process;
mod reads;
mod reservations;
mod secrets;
mod soak;
mod storage;
mod survival;
mod writer;
