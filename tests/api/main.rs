//! The one integration-test binary: the real server over HTTP, a fake WhatsApp on loopback.

mod helpers;

mod balance;
mod cli;
mod concurrency;
mod crash;
mod errors;
mod gates;
mod idempotency;
mod normalisation;
mod outcomes;
mod process;
mod reads;
mod secrets;
