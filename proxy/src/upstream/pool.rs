//! Idle keep-alive connections of one server, lock-free (a crossbeam
//! segmented queue, which allocates only as connections are kept, so an idle
//! server costs nothing). Each entry remembers the address it was opened
//! to, so an address change at runtime never reuses a connection to the old
//! one.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crossbeam_queue::SegQueue;
use switchyard_state::ServerLive;

use super::connect::Sender;

/// Idle connections kept per server. HAProxy's default (`pool-max-conn -1`)
/// keeps every one within `maxconn`; a smaller bound made a `-c 500` load
/// close and reopen a quarter of its server connections.
const CAPACITY: usize = 16384;
/// How long an idle connection is trusted. Many servers close idle
/// keep-alive connections after 5 s (node's default); reusing one they are
/// closing costs a failed attempt, so we stay below that.
const MAX_IDLE: Duration = Duration::from_secs(4);

struct Idle {
    sender: Sender,
    addr: SocketAddr,
    since: Instant,
}

#[derive(Default)]
pub(crate) struct Pool {
    idle: SegQueue<Idle>,
    /// Entries in `idle` (SegQueue has no bound of its own).
    len: AtomicUsize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pool({} idle)", self.idle.len())
    }
}

impl Pool {
    /// A live idle connection to `addr`, if any.
    pub(crate) fn take(&self, addr: SocketAddr, live: &ServerLive) -> Option<Sender> {
        while let Some(c) = self.idle.pop() {
            self.len.fetch_sub(1, Relaxed);
            dec(live);
            if c.addr == addr && !c.sender.is_closed() && c.since.elapsed() < MAX_IDLE {
                return Some(c.sender);
            }
        }
        None
    }

    /// Keep a connection for reuse (dropped if the pool is full).
    pub(crate) fn put(&self, sender: Sender, addr: SocketAddr, live: &ServerLive) {
        if sender.is_closed() {
            return;
        }
        if self.len.fetch_add(1, Relaxed) >= CAPACITY {
            self.len.fetch_sub(1, Relaxed);
            return;
        }
        self.idle.push(Idle {
            sender,
            addr,
            since: Instant::now(),
        });
        live.idle_conns.fetch_add(1, Relaxed);
    }
}

fn dec(live: &ServerLive) {
    let _ = live
        .idle_conns
        .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(1)));
}
