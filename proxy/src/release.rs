//! Giving the listening sockets up for good, at the start of a soft stop.
//!
//! Closing a listening socket resets every connection still waiting in its
//! accept queue, and a successor bound beside us with SO_REUSEPORT (`-sf`
//! without `-x`) does not inherit that queue (unless the network namespace
//! sets `net.ipv4.tcp_migrate_req`). A socket whose accept loop has stopped
//! but which is not closed yet keeps taking its share of new connections,
//! all of them lost. So the accept loops stop first, then everything queued
//! is accepted and served, and in the same breath the socket leaves the
//! LISTEN state (`shutdown(SHUT_RD)`, which takes it out of its SO_REUSEPORT
//! group for every descriptor at once). Only a connection landing between
//! the last empty `accept` and the shutdown (microseconds, unless the
//! thread is preempted right there), or still mid-handshake then, can
//! still be reset. A socket is never listened on again after this.

use std::io;
use std::net::Shutdown;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::accept::{serve_tcp, serve_unix};
use crate::listeners::{BoundListener, Listeners, Sock};
use crate::proxy::Shared;

/// Who else listens on the sockets a soft stop gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Only this process: accept what is queued, then stop listening.
    Exclusive,
    /// A successor took the very sockets over (`-x`) and accepts from the
    /// same queue: drop our copies only, the sockets must keep listening.
    Shared,
}

/// Where the release of the listeners stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReleaseState {
    Serving,
    Asked(Release),
    /// The accept loops are gone (released, or the proxy stopped).
    Done,
}

impl ReleaseState {
    /// Whether the sockets are being (or have been) given up: nothing may
    /// listen on them again.
    pub(crate) fn giving_up(self) -> bool {
        self != ReleaseState::Serving
    }
}

/// With the accept loops stopped: serve what waits on each socket of
/// `current`, then stop it listening (an exclusive release).
pub(crate) fn give_up(shared: &Arc<Shared>, current: &Listeners, how: Release) {
    if how == Release::Shared {
        return;
    }
    for l in current.shared() {
        drain(shared, l);
    }
}

/// The longest a socket is drained: new connections keep landing on it
/// until it stops listening, so a flood could otherwise keep us here.
const DRAIN_MAX: Duration = Duration::from_millis(200);

/// Accept until the queue is empty, then shut the socket down with no
/// await in between.
fn drain(shared: &Arc<Shared>, l: &BoundListener) {
    let deadline = Instant::now() + DRAIN_MAX;
    match &l.sock {
        Sock::Tcp(s) => {
            accept_all(
                deadline,
                || s.accept(),
                |(stream, peer)| {
                    let Some(fe) = frontend(shared, l) else {
                        return;
                    };
                    let stream = stream
                        .set_nonblocking(true)
                        .and_then(|()| tokio::net::TcpStream::from_std(stream));
                    if let Ok(stream) = stream {
                        serve_tcp(shared, l, fe, stream, peer);
                    }
                },
            );
            let _ = socket2::SockRef::from(s).shutdown(Shutdown::Read);
        }
        // No SO_REUSEPORT group here: the socket closes when dropped.
        Sock::Unix(s) => accept_all(
            deadline,
            || s.accept(),
            |(stream, _)| {
                let Some(fe) = frontend(shared, l) else {
                    return;
                };
                let stream = stream
                    .set_nonblocking(true)
                    .and_then(|()| tokio::net::UnixStream::from_std(stream));
                if let Ok(stream) = stream {
                    serve_unix(shared, l, fe, stream);
                }
            },
        ),
    }
}

/// `accept` and `serve` until the queue is empty or `deadline` passes.
fn accept_all<C>(
    deadline: Instant,
    mut accept: impl FnMut() -> io::Result<C>,
    mut serve: impl FnMut(C),
) {
    while Instant::now() < deadline {
        match accept() {
            Ok(conn) => serve(conn),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Empty (`WouldBlock`), not listening (`shutdown frontend`), or
            // out of descriptors: done.
            Err(_) => return,
        }
    }
}

/// The frontend a drained connection is served by, unless it is gone or
/// `shutdown frontend` stopped it (then the connection is just closed, as
/// the accept loop would).
fn frontend(shared: &Shared, l: &BoundListener) -> Option<Arc<switchyard_state::ProxyLive>> {
    let snap = shared.store.load();
    let p = snap.proxy_idx(l.frontend()).and_then(|i| snap.proxy(i))?;
    if p.live.fe_stopped.load(Ordering::Relaxed) {
        return None;
    }
    Some(p.live.clone())
}
