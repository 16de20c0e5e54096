//! The upstream side: our own HTTP/1.1 client over a per-server pool of
//! keep-alive connections, driven in the request's task.
//!
//! Why not hyper's client: a hyper connection runs in a task of its own, so
//! every request crossed tasks twice (request in, response out) plus once
//! per body frame; with the head parsing into a `HeaderMap` it was the
//! largest user-space cost in the profile. The h1 reader and body decoder
//! of the client side serve here too.
//!
//! Why our own pool: HAProxy's semantics need the connection step in our
//! hands — `timeout connect` per backend, connection retries and redispatch
//! decided per attempt, the server's address taken from the current
//! snapshot (it may change at runtime), idle counts per server (`srv_icur`),
//! and `http-reuse never` / `option httpclose`. The pool lives in each
//! server's `ServerLive.ext`, so it survives snapshot changes.

mod body;
mod conn;
pub(crate) mod connect;
mod head;
pub(crate) mod interim;
pub(crate) mod pool;
mod request;
mod status_line;
mod stream;

pub(crate) use body::{BodyKind, UpBody};
pub(crate) use conn::{Conn, Wrote};
pub(crate) use connect::{connect, connect_tcp, ConnectError};
pub(crate) use head::{body_decoder, read_head, HeadError, RespHead};
pub(crate) use interim::{Interim, InterimRx, InterimTx};
pub(crate) use request::{frame, Outgoing, SendFraming};
pub(crate) use stream::{TlsRoute, UpIo};

use std::net::SocketAddr;
use std::sync::Arc;

use switchyard_state::ServerLive;

use crate::h1::Decoder;
use crate::queue::{server_ext, ServerSlot};

/// A server's answer: its response head and the connection the body (or
/// an upgraded stream) follows on.
pub(crate) struct Answer {
    pub(crate) head: RespHead,
    pub(crate) conn: Conn,
    pub(crate) dec: Decoder,
    pub(crate) kind: BodyKind,
    /// False when the server answered before taking the whole request.
    pub(crate) reusable: bool,
}

/// A server slot in use by one exchange. The connection comes back here
/// when the response body was read completely and it may be reused, and
/// goes to the server's idle pool.
pub(crate) struct Lease {
    pub(crate) conn: Option<Conn>,
    pub(crate) addr: SocketAddr,
    pub(crate) live: Arc<ServerLive>,
    pub(crate) slot: Option<ServerSlot>,
    pub(crate) reusable: bool,
    /// Ends the exchange on `shutdown sessions server` / server down.
    pub(crate) kill: Option<crate::kill::KillWatch>,
    /// The server's `observe` mode (passive health).
    pub(crate) observe: Option<switchyard_config::Observe>,
    /// The backend's `timeout server`, for reading the response body.
    pub(crate) t_server: Option<std::time::Duration>,
    /// Idle timeout of an upgraded (tunnelled) connection.
    pub(crate) t_tunnel: Option<std::time::Duration>,
}

impl Lease {
    /// Report a passive-health event on the server.
    pub(crate) fn observe(&self, ev: switchyard_state::ObserveEvent) {
        self.live.observe(self.observe, ev);
    }

    /// The exchange is over; `complete` says the response body ended cleanly.
    pub(crate) fn finish(mut self, complete: bool) {
        if complete && self.reusable {
            if let (Some(c), Some(ext)) = (self.conn.take(), server_ext(&self.live)) {
                ext.pool.put(c, self.addr, &self.live);
            }
        }
        // Release the slot after pooling, so a queued request handed this
        // slot finds the idle connection.
        drop(self.slot.take());
    }
}
