//! ringback turns a restaurant's missed phone calls into a WhatsApp message that brings the
//! caller back. A report travels one way: the HTTP edge (`routes`) parses it, the pipeline
//! (`missed_call`) decides and claims it through the single database writer (`db`), and the
//! transport (`whatsapp`) sends it; the answer travels back as an outcome. A call Telnyx
//! detected comes in by the other door (`webhooks`) and runs the same pipeline from `jobs`.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod bookings;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod links;
pub mod listener;
pub mod missed_call;
pub mod ops;
pub mod phone;
pub mod rate_limit;
pub mod routes;
pub mod secret;
pub mod state;
pub mod telemetry;
pub mod time;
pub mod vault;
pub mod views;
pub mod webhooks;
pub mod whatsapp;
