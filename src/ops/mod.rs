//! Operations (SPEC §8): what the box's installer and the partner's monitoring read — health,
//! readiness, metrics and the OpenAPI document.

pub mod health;
pub mod openapi;
