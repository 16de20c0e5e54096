//! Soft and hard stop. A soft stop closes the listeners at once, lets every
//! in-flight request finish (the last response on a keep-alive connection
//! says `Connection: close`) and resolves when no connection is left. A hard
//! stop also cuts the connections that are still open.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::futures::OwnedNotified;
use tokio::sync::{watch, Notify};

/// 0 = running, 1 = soft stopping, 2 = hard stopping.
const RUNNING: u8 = 0;
const SOFT: u8 = 1;
const HARD: u8 = 2;

#[derive(Debug)]
pub(crate) struct ShutdownState {
    phase: watch::Sender<u8>,
    /// The same phase as an atomic, for checks on the request path.
    fast: AtomicU8,
    /// Open client connections.
    conns: AtomicUsize,
    /// Signalled whenever `conns` drops to zero.
    idle: Notify,
    /// Signalled at every phase change, for [`HardStop`].
    changed: Arc<Notify>,
}

impl ShutdownState {
    pub(crate) fn new() -> Arc<ShutdownState> {
        let (tx, _) = watch::channel(RUNNING);
        Arc::new(ShutdownState {
            phase: tx,
            fast: AtomicU8::new(RUNNING),
            conns: AtomicUsize::new(0),
            idle: Notify::new(),
            changed: Arc::new(Notify::new()),
        })
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u8> {
        self.phase.subscribe()
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.fast.load(Ordering::Acquire) != RUNNING
    }

    fn raise(&self, to: u8) {
        self.fast.fetch_max(to, Ordering::AcqRel);
        self.changed.notify_waiters();
        self.phase.send_if_modified(|p| {
            if *p < to {
                *p = to;
                true
            } else {
                false
            }
        });
    }

    /// Count a connection for as long as the guard lives.
    pub(crate) fn conn_guard(self: &Arc<Self>) -> ConnGuard {
        self.conns.fetch_add(1, Ordering::AcqRel);
        ConnGuard(self.clone())
    }

    pub(crate) fn open_conns(&self) -> usize {
        self.conns.load(Ordering::Acquire)
    }

    /// Resolves once a stop was requested and no connection is left.
    pub(crate) async fn wait_drained(&self) {
        let mut rx = self.subscribe();
        // Wait for a stop request first.
        while *rx.borrow_and_update() == RUNNING {
            if rx.changed().await.is_err() {
                return;
            }
        }
        loop {
            let notified = self.idle.notified();
            if self.conns.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Resolves when a stop (of at least `soft`) is requested.
    pub(crate) fn stop_requested(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.subscribe();
        async move {
            while *rx.borrow_and_update() == RUNNING {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        }
    }

    /// Resolves when a hard stop is requested. Its task is woken by a soft
    /// stop too (see `conn_task`).
    pub(crate) fn hard_requested(self: &Arc<Self>) -> HardStop {
        HardStop {
            wait: self.changed.clone().notified_owned(),
            state: self.clone(),
        }
    }
}

/// Resolves when a hard stop is requested, without a waiter of its own:
/// for code running inside a connection's task, whose [`HardStop`]
/// (`conn_task`) already wakes that task at every phase change. Saves a
/// `Notify` registration (and a box) per request.
pub(crate) fn hard_flag(state: &ShutdownState) -> impl Future<Output = ()> + Send + '_ {
    std::future::poll_fn(move |_| {
        if state.fast.load(Ordering::Acquire) == HARD {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

pin_project_lite::pin_project! {
    /// Resolves when a hard stop is requested; woken by every phase change.
    /// Hand-written around one `Notify` waiter (72 bytes, where a watch
    /// receiver's `changed()` loop took 144) because every connection's
    /// task holds one.
    pub(crate) struct HardStop {
        #[pin]
        wait: OwnedNotified,
        state: Arc<ShutdownState>,
    }
}

impl Future for HardStop {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        loop {
            // The waiter is created before the phase is read, so a change
            // in between still completes it.
            if this.state.fast.load(Ordering::Acquire) == HARD {
                return Poll::Ready(());
            }
            if this.wait.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.wait.set(this.state.changed.clone().notified_owned());
        }
    }
}

/// Decrements the open-connection count when dropped.
#[derive(Debug)]
pub(crate) struct ConnGuard(Arc<ShutdownState>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if self.0.conns.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Stops a running [`crate::Proxy`]. Cheap to clone; usable from any thread.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    pub(crate) state: Arc<ShutdownState>,
}

impl ShutdownHandle {
    /// Stop accepting now and let in-flight requests finish; idle keep-alive
    /// connections are closed, busy ones get `Connection: close` on their
    /// last response. The stop starts when this is called; the returned
    /// future resolves when every connection is done.
    pub fn soft_stop(&self) -> impl Future<Output = ()> + Send + 'static {
        self.state.raise(SOFT);
        let st = self.state.clone();
        async move { st.wait_drained().await }
    }

    /// Stop accepting and close every connection now (requests waiting for a
    /// server get HAProxy's 502, `KH--`).
    pub fn hard_stop(&self) {
        self.state.raise(HARD);
    }

    /// Whether a soft or hard stop was requested.
    pub fn is_stopping(&self) -> bool {
        self.state.is_stopping()
    }

    /// Client connections currently open.
    pub fn open_connections(&self) -> usize {
        self.state.open_conns()
    }

    /// Resolves when a stop was requested and every connection is done.
    pub fn wait_stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let st = self.state.clone();
        async move { st.wait_drained().await }
    }
}
