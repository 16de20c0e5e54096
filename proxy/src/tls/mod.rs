//! TLS termination on `bind ... ssl` (rustls): the handshake in the
//! connection's task ([`accept`]), the split stream the HTTP/1 loop reads
//! and writes ([`stream`]), and what the handshake agreed on ([`params`]).
//! Certificates are compiled into the snapshot (`switchyard_state`), so a
//! reload serves new ones from the next accept on.

mod accept;
mod params;
mod stream;

pub(crate) use accept::{serve, TlsListener};
pub(crate) use params::TlsParams;
