//! Soft and hard stop. A soft stop (SIGUSR1, the end of an upgrade for the
//! old process, the Runtime API's hook) goes in HAProxy's order: the stats
//! sockets and the listeners close first — really closed, out of their
//! SO_REUSEPORT group, so a successor bound beside us gets every new
//! connection (unlike HAProxy, what is already queued on a socket no
//! successor shares is accepted and served first, not reset: see
//! `switchyard_proxy::Release`) — then the proxy finishes in-flight
//! requests (the last response on a keep-alive connection says
//! `Connection: close`, idle ones are closed), HAProxy's "Proxy X stopped"
//! lines are logged, `show info` says `Stopping: 1`, and the serving loop
//! arms `hard-stop-after`.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use switchyard_admin::AdminCtx;
use switchyard_proxy::{Listeners, Proxy, Release, ShutdownHandle};
use switchyard_state::{events, Store};
use tokio::sync::{watch, Notify};

use super::closing;
use crate::fdpass::FdSource;

/// The longest we wait for the listening sockets to close before the
/// in-flight work is wound down anyway.
const CLOSE_WAIT: Duration = Duration::from_millis(500);

pub struct Stopper {
    proxy: Proxy,
    handle: ShutdownHandle,
    /// Our copies of the listening sockets, closed when stopping.
    fds: Arc<FdSource>,
    store: Arc<Store>,
    ctx: Arc<AdminCtx>,
    started: AtomicBool,
    /// A soft stop asked from outside the serving loop (the Runtime API).
    pub requested: Notify,
    /// Becomes true when any stop starts (the admin thread's listeners
    /// follow it).
    stopping: watch::Sender<bool>,
}

impl Stopper {
    pub fn new(proxy: Proxy, fds: Arc<FdSource>, store: Arc<Store>, ctx: Arc<AdminCtx>) -> Stopper {
        Stopper {
            handle: proxy.shutdown_handle(),
            proxy,
            fds,
            store,
            ctx,
            started: AtomicBool::new(false),
            requested: Notify::new(),
            stopping: watch::Sender::new(false),
        }
    }

    /// Resolves once a soft or hard stop has started.
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.stopping.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    /// `hard-stop-after` of the configuration being served.
    pub fn hard_stop_after(&self) -> Option<Duration> {
        self.store.load().config.global.hard_stop_after
    }

    /// Whether a stop has started.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Ask the serving loop for a soft stop (from any thread).
    pub fn request_soft_stop(&self) {
        self.requested.notify_one();
    }

    /// Run a soft stop; returns false if one already ran.
    pub async fn soft_stop(&self) -> bool {
        if self.started.swap(true, Relaxed) {
            return false;
        }
        self.ctx.stopping.store(true, Relaxed);
        self.stopping.send_replace(true);
        // First (it waits for a reload in progress), so no reload can give
        // the proxy sockets again.
        let ours = self.fds.close();
        let inodes = closing::tcp_inodes(&ours);
        drop(ours);
        // Read after `close`: a successor that took the sockets has set it.
        let how = if self.fds.handed_over() {
            Release::Shared
        } else {
            Release::Exclusive
        };
        // What is queued on our sockets is served, not reset; then they
        // stop listening.
        let _ = tokio::time::timeout(CLOSE_WAIT, self.proxy.release_listeners(how)).await;
        self.proxy.set_listeners(Listeners::empty());
        closing::gone(inodes, CLOSE_WAIT).await;
        // Now wind down the connections; the returned future only waits.
        drop(self.handle.soft_stop());
        report_stopped_proxies(&self.store);
        true
    }

    pub fn hard_stop(&self) {
        self.started.store(true, Relaxed);
        self.ctx.stopping.store(true, Relaxed);
        self.stopping.send_replace(true);
        drop(self.fds.close());
        self.handle.hard_stop();
    }

    /// `hard-stop-after` expired: say so and what is cut, as HAProxy does.
    pub fn hard_stop_after_expired(&self) {
        events::warning("soft-stop running for too long, performing a hard-stop.");
        let snap = self.store.load();
        for p in snap.proxies.iter().filter(|p| p.kind.has_frontend()) {
            let left = p.live.fe.scur.load(Relaxed);
            if left > 0 {
                events::warning(&format!(
                    "Proxy {} hard-stopped ({left} remaining conns will be closed).",
                    p.name
                ));
            }
        }
        self.hard_stop();
    }
}

/// HAProxy's `Proxy X stopped (cumulated conns: FE: n, BE: m).` lines.
fn report_stopped_proxies(store: &Store) {
    let snap = store.load();
    for p in &snap.proxies {
        let fe = p.live.fe.conn_tot.load(Relaxed);
        let be = p.live.be.stot.load(Relaxed);
        events::warning(&format!(
            "Proxy {} stopped (cumulated conns: FE: {fe}, BE: {be}).",
            p.name
        ));
    }
}
