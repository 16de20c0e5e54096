//! Starting a soft stop from anywhere (SIGUSR1, the Runtime API's hook):
//! the proxy's listeners close at once, HAProxy's "Proxy X stopped" lines
//! are logged, `show info` says `Stopping: 1`, and the serving loop arms
//! `hard-stop-after`.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use switchyard_admin::AdminCtx;
use switchyard_proxy::ShutdownHandle;
use switchyard_state::{events, Store};
use tokio::sync::Notify;

pub struct Stopper {
    handle: ShutdownHandle,
    store: Arc<Store>,
    ctx: Arc<AdminCtx>,
    started: AtomicBool,
    /// Woken once when the soft stop starts.
    pub soft_started: Notify,
}

impl Stopper {
    pub fn new(handle: ShutdownHandle, store: Arc<Store>, ctx: Arc<AdminCtx>) -> Stopper {
        Stopper {
            handle,
            store,
            ctx,
            started: AtomicBool::new(false),
            soft_started: Notify::new(),
        }
    }

    /// Begin a soft stop (idempotent).
    pub fn soft_stop(&self) {
        if self.started.swap(true, Relaxed) {
            return;
        }
        self.ctx.stopping.store(true, Relaxed);
        // Calling it closes the listeners; the returned future only waits.
        drop(self.handle.soft_stop());
        report_stopped_proxies(&self.store);
        self.soft_started.notify_one();
    }

    pub fn hard_stop(&self) {
        self.ctx.stopping.store(true, Relaxed);
        self.handle.hard_stop();
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
