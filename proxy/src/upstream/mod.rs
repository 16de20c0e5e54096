//! The upstream side: a per-server pool of keep-alive HTTP/1.1 connections
//! built on hyper's client connection API.
//!
//! Why our own pool rather than hyper-util's legacy `Client`: HAProxy's
//! semantics need the connection step in our hands — `timeout connect` per
//! backend, connection retries and redispatch decided per attempt, the
//! server's address taken from the current snapshot (it may change at
//! runtime), idle counts per server (`srv_icur`), and `http-reuse never` /
//! `option httpclose`. The pool lives in each server's `ServerLive.ext`, so
//! it survives snapshot changes.

pub(crate) mod connect;
pub(crate) mod pool;

pub(crate) use connect::{connect, connect_tcp, ConnectError, Sender};

use std::net::SocketAddr;
use std::sync::Arc;

use switchyard_state::ServerLive;

use crate::queue::{server_ext, ServerSlot};

/// An upstream connection in use by one exchange and its server slot. The
/// connection goes back to the server's idle pool when the response body
/// was read completely and the connection may be reused.
pub(crate) struct Lease {
    pub(crate) sender: Option<Sender>,
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
            if let (Some(s), Some(ext)) = (self.sender.take(), server_ext(&self.live)) {
                ext.pool.put(s, self.addr, &self.live);
            }
        }
        // Release the slot after pooling, so a queued request handed this
        // slot finds the idle connection.
        drop(self.slot.take());
    }
}
