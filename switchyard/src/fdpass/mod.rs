//! Seamless binary upgrade, HAProxy's way: the new process (`-x <socket>`)
//! asks the old one for its listening sockets with `_getsocks` on a stats
//! socket declared with `expose-fd listeners`, and the old one passes them
//! over with `SCM_RIGHTS`. Both processes then hold the very same sockets,
//! so no connection is refused while the old one stops accepting and the
//! new one starts. Compatible with HAProxy's own exchange in both
//! directions.

pub mod client;
mod prefixed;
mod server;
mod wire;

pub use server::{serve_connection, FdSource};
