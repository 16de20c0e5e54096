//! Starting a soft stop from anywhere (SIGUSR1, the Runtime API's hook):
//! the proxy's listeners close at once, HAProxy's "Proxy X stopped" lines
//! are logged, `show info` says `Stopping: 1`, the stats sockets stop
//! accepting (as HAProxy's do; a successor serves them), and the serving
//! loop arms `hard-stop-after`.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use switchyard_admin::AdminCtx;
use switchyard_proxy::ShutdownHandle;
use switchyard_state::{events, Store};
use tokio::sync::{watch, Notify};

use crate::fdpass::FdSource;

pub struct Stopper {
    handle: ShutdownHandle,
    /// Our copies of the listening sockets, closed when stopping.
    fds: Arc<FdSource>,
    store: Arc<Store>,
    ctx: Arc<AdminCtx>,
    started: AtomicBool,
    /// Woken once when the soft stop starts.
    pub soft_started: Notify,
    /// Becomes true when any stop starts (the admin thread's listeners
    /// follow it).
    stopping: watch::Sender<bool>,
}

impl Stopper {
    pub fn new(
        handle: ShutdownHandle,
        fds: Arc<FdSource>,
        store: Arc<Store>,
        ctx: Arc<AdminCtx>,
    ) -> Stopper {
        Stopper {
            handle,
            fds,
            store,
            ctx,
            started: AtomicBool::new(false),
            soft_started: Notify::new(),
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
    pub fn hard_stop_after(&self) -> Option<std::time::Duration> {
        self.store.load().config.global.hard_stop_after
    }

    /// Whether a stop has started.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Begin a soft stop (idempotent).
    pub fn soft_stop(&self) {
        if self.started.swap(true, Relaxed) {
            return;
        }
        self.ctx.stopping.store(true, Relaxed);
        self.stopping.send_replace(true);
        // First (it waits for a reload in progress), so no reload can hand
        // the proxy sockets again once it stopped accepting.
        self.fds.close();
        // Calling it closes the listeners; the returned future only waits.
        drop(self.handle.soft_stop());
        report_stopped_proxies(&self.store);
        self.soft_started.notify_one();
    }

    pub fn hard_stop(&self) {
        self.ctx.stopping.store(true, Relaxed);
        self.stopping.send_replace(true);
        self.fds.close();
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
