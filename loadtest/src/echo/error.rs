//! Errors of the echo server.

use std::net::SocketAddr;

/// What can stop the echo server from running.
#[derive(Debug, thiserror::Error)]
pub enum EchoError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// `--disabled-status` is not a valid HTTP status.
    #[error("invalid disabled status {0}")]
    DisabledStatus(u16),
    /// `--name` cannot be sent as a header value.
    #[error("name {0:?} is not a valid header value")]
    Name(String),
}
