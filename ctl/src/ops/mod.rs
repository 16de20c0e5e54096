//! The building blocks of the procedures: waiting for health, waiting for drains,
//! smoke tests, rewriting the map file, remembering previous values.

pub mod drain;
pub mod health;
pub mod persist;
pub mod smoke;
pub mod statefile;
pub mod waiting;
