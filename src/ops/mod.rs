//! Operations: what the box's installer and the partner's monitoring read (SPEC §8).

pub mod openapi;
