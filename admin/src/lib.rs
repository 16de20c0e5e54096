//! switchyard-admin: HAProxy 2.6's Runtime API (the `stats socket`),
//! byte-compatible, plus the stats page and the Prometheus exporter.
//!
//! Layers, each usable on its own:
//! - [`cli`]: pure framing (bytes → requests) and the keyword table;
//! - [`parse()`]: request words → typed [`Command`];
//! - [`exec`]: apply a command through the [`switchyard_state::Store`];
//! - [`render`] and [`status`]: pure output builders;
//! - [`session`]: one connection as a byte state machine;
//! - [`net`]: binding and serving the sockets ([`bind_sockets`],
//!   [`serve`], [`serve_on`]);
//! - [`web`]: the stats page and `use-service prometheus-exporter`
//!   ([`AdminServices`]).

pub mod cli;
pub mod command;
pub mod ctx;
pub mod exec;
pub mod net;
pub mod parse;
pub mod render;
pub mod session;
pub mod status;
pub mod web;

pub use command::Command;
pub use ctx::{AdminCtx, DEFAULT_RELEASE_DATE, DEFAULT_VERSION};
pub use exec::{Env, Outcome, SessionState};
pub use net::bind::{bind_one, bind_sockets, AdminError, AdminListeners, BoundSocket, StdListener};
pub use net::serve::{handle, serve, serve_on, serve_until, ServeOptions};
pub use parse::parse;
pub use session::{Progress, Session};
pub use web::AdminServices;
