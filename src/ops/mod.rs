//! Operations (SPEC §8): health, readiness and metrics, for the box's supervisor and monitoring.

pub mod health;
pub mod metrics;
