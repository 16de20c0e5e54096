//! Everything `ctl` prints: step lines and the final JSON document, the status table
//! and its colours.

pub mod color;
pub mod report;
pub mod table;
