//! The load generator behind `switchyard-load`: hey's flags and summary on hyper, plus a
//! per-second timeline (requests, status classes, errors by kind, latency, responses
//! per backend) with events, written as text, JSON and an SVG plot; and the cutover
//! scenarios that drive a proxy's Runtime API while the load runs.
//!
//! Layout: `cli` (flags → [`LoadPlan`]), `worker`/`conn`/`timed_io` (sending),
//! `stats`/`timeline` (folding results), `hey_summary`/`report` (output), `events`,
//! `run` (the whole run), `scenario` (scripted cutovers).

pub mod cli;
mod conn;
mod error;
pub mod events;
pub mod hey_summary;
pub mod outcome;
mod plan;
pub mod report;
mod run;
pub mod sample;
pub mod scenario;
pub mod stats;
mod timed_io;
pub mod timeline;
mod worker;

pub use error::GenError;
pub use events::Event;
pub use outcome::ErrorKind;
pub use plan::{Attribution, LoadPlan, Stop, Target};
pub use report::{ReportFiles, ReportInput, RunMeta};
pub use run::{LoadRun, RunOutput, StopHandle};
