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

use super::conn::Conn;
use super::stream::TlsRoute;

/// Idle connections kept per server. HAProxy's default (`pool-max-conn -1`)
/// keeps every one within `maxconn`; a smaller bound made a `-c 500` load
/// close and reopen a quarter of its server connections.
const CAPACITY: usize = 16384;
/// How long an idle connection is trusted. Many servers close idle
/// keep-alive connections after 5 s (node's default); reusing one they are
/// closing costs a failed attempt, so we stay below that.
const MAX_IDLE: Duration = Duration::from_secs(4);

struct Idle {
    conn: Conn,
    addr: SocketAddr,
    since: Instant,
}

impl Idle {
    /// Neither kept too long nor closed by the server.
    fn usable(&mut self, now: Instant) -> bool {
        now.saturating_duration_since(self.since) < MAX_IDLE && self.conn.is_alive()
    }
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
    /// A live idle connection to `addr` opened with the same TLS route
    /// (`None`: plain), if one is usable at `now`. Connections to another
    /// SNI of the same server (`sni req.hdr(host)`) stay pooled.
    pub(crate) fn take(
        &self,
        addr: SocketAddr,
        tls: Option<&TlsRoute>,
        live: &ServerLive,
        now: Instant,
    ) -> Option<Conn> {
        let mut others = Vec::new();
        let mut found = None;
        while let Some(mut c) = self.idle.pop() {
            self.len.fetch_sub(1, Relaxed);
            dec(live);
            if c.addr != addr || !c.usable(now) {
                continue;
            }
            if c.conn.fits(tls) {
                found = Some(c.conn);
                break;
            }
            others.push(c);
        }
        for c in others {
            self.len.fetch_add(1, Relaxed);
            live.idle_conns.fetch_add(1, Relaxed);
            self.idle.push(c);
        }
        found
    }

    /// Keep a connection for reuse (dropped if the pool is full).
    pub(crate) fn put(&self, mut conn: Conn, addr: SocketAddr, live: &ServerLive) {
        if !conn.is_alive() {
            return;
        }
        conn.release();
        if self.len.fetch_add(1, Relaxed) >= CAPACITY {
            self.len.fetch_sub(1, Relaxed);
            return;
        }
        self.idle.push(Idle {
            conn,
            addr,
            since: switchyard_state::clock::now(),
        });
        live.idle_conns.fetch_add(1, Relaxed);
    }
}

impl Pool {
    /// Close idle connections the server closed, or kept past `MAX_IDLE`
    /// (HAProxy purges its idle connections the same way): nothing else
    /// watches an idle connection.
    pub(crate) fn purge(&self, live: &ServerLive) {
        let now = switchyard_state::clock::now();
        for _ in 0..self.len.load(Relaxed) {
            let Some(mut c) = self.idle.pop() else { break };
            if c.usable(now) {
                self.idle.push(c);
            } else {
                self.len.fetch_sub(1, Relaxed);
                dec(live);
            }
        }
    }
}

/// Purge every server's idle connections once a second.
pub(crate) async fn purge_idle(store: std::sync::Arc<switchyard_state::Store>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let snap = store.load_full();
        for p in &snap.proxies {
            let Some(be) = &p.backend else { continue };
            for s in &be.servers {
                if let Some(ext) = crate::queue::server_ext_if_any(&s.live) {
                    ext.pool.purge(&s.live);
                }
            }
        }
    }
}

fn dec(live: &ServerLive) {
    let _ = live
        .idle_conns
        .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(1)));
}
