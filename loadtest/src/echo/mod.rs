//! The demo upstream run by the `switchyard-echo` binary: a small HTTP/1.1 server in the
//! style of `ealen/echo-server` (the seeds' upstream) with settable health, special test
//! paths and the two SIGTERM behaviours of seed 001.
//!
//! Routes (every response carries `X-Served-By: <name>`):
//! - `GET /healthz` → 200 `ok`
//! - `GET|HEAD /health` → 200 while enabled, `--disabled-status` (503) while disabled
//! - `POST /health/enable`, `POST /health/disable` → toggle that flag
//! - `/delay/<ms>` → sleep, then echo; `/status/<code>` → echo with that status
//! - `/bytes/<n>` → stream `n` bytes of [`pattern_byte`]; `/upload` → length and CRC-32
//!   of the request body, read streaming
//! - `GET /_echo/stats` → JSON counters (`requests`, `in_flight`, `healthy`, `draining`);
//!   answered even while draining
//! - anything else → 200 with a JSON echo of the request

mod body;
mod config;
mod error;
mod handler;
mod reply;
mod server;
mod state;
mod upload;

pub use body::{pattern_byte, PatternBody};
pub use config::EchoConfig;
pub use error::EchoError;
pub use handler::STATS_PATH;
pub use server::EchoServer;
pub use state::{EchoState, InFlightGuard};
pub use upload::BodyDigest;
