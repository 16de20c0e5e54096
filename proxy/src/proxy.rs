//! The [`Proxy`]: shared state of the hot path and the entry points the
//! binary calls.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use switchyard_state::{Services, Store};
use tokio::sync::watch;

use crate::listeners::Listeners;
use crate::log::{LogStats, Logger};
use crate::release::{Release, ReleaseState};
use crate::shutdown::{ShutdownHandle, ShutdownState};

/// Everything request tasks share. Read-mostly; mutable parts are atomics.
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    pub(crate) services: Arc<dyn Services>,
    pub(crate) shutdown: Arc<ShutdownState>,
    pub(crate) listeners: watch::Sender<Listeners>,
    /// A listener set was given (by `serve` or `set_listeners`).
    pub(crate) listeners_set: AtomicBool,
    /// A soft stop giving the listening sockets up.
    pub(crate) release: watch::Sender<ReleaseState>,
    pub(crate) logger: Logger,
    pub(crate) limits: crate::accept::Limits,
}

/// The reverse proxy. Cheap to clone (one shared inner value).
#[derive(Clone)]
pub struct Proxy {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").finish_non_exhaustive()
    }
}

impl Proxy {
    /// A proxy routing by `store`'s current snapshot. `services` answers the
    /// stats page and `http-request use-service`. Log lines are tagged
    /// `haproxy[pid]` (see [`Proxy::with_log_tag`]).
    pub fn new(store: Arc<Store>, services: Arc<dyn Services>) -> Proxy {
        Self::with_log_tag(store, services, "haproxy")
    }

    /// Like [`Proxy::new`], with the syslog tag (HAProxy's program name,
    /// `log-tag`) used in rfc3164/rfc5424 log headers.
    pub fn with_log_tag(store: Arc<Store>, services: Arc<dyn Services>, tag: &str) -> Proxy {
        let (tx, _) = watch::channel(Listeners::empty());
        Proxy {
            shared: Arc::new(Shared {
                store,
                services,
                shutdown: ShutdownState::new(),
                listeners: tx,
                listeners_set: AtomicBool::new(false),
                release: watch::Sender::new(ReleaseState::Serving),
                logger: Logger::new(tag),
                limits: crate::accept::Limits::default(),
            }),
        }
    }

    /// Accept and serve on `listeners` (unless [`Proxy::set_listeners`]
    /// already gave a set) until a stop completes: after
    /// [`ShutdownHandle::soft_stop`] this returns once every connection is
    /// done; after [`ShutdownHandle::hard_stop`], once they are cut. Must run
    /// on a tokio runtime (multi-thread recommended).
    pub async fn serve(&self, listeners: Listeners) {
        // A `set_listeners` that ran before this task started (a reload,
        // or a stop's empty set, right after start) is newer than
        // `listeners`: keep it.
        // (Both run under the channel's write lock, so they serialize.)
        let set = &self.shared.listeners_set;
        self.shared.listeners.send_if_modified(|cur| {
            let first = !set.swap(true, Ordering::AcqRel);
            if first {
                *cur = listeners;
            }
            first
        });
        let watcher = tokio::spawn(crate::kill::watch_servers(self.shared.store.clone()));
        let purger = tokio::spawn(crate::upstream::pool::purge_idle(self.shared.store.clone()));
        crate::accept::supervise(self.shared.clone()).await;
        self.shared.shutdown.wait_drained().await;
        watcher.abort();
        purger.abort();
        self.shared.logger.flush().await;
    }

    /// Replace the set of sockets accepted on (after a reload's
    /// [`Listeners::update`]): new ones start accepting, removed ones stop;
    /// connections already accepted carry on.
    pub fn set_listeners(&self, listeners: Listeners) {
        let set = &self.shared.listeners_set;
        self.shared.listeners.send_modify(|cur| {
            set.store(true, Ordering::Release);
            *cur = listeners;
        });
    }

    /// Give the listening sockets up for good (the first step of a soft
    /// stop): the accept loops stop, and with [`Release::Exclusive`] what is
    /// already queued on each socket is accepted and served before the
    /// socket stops listening, so a successor bound beside us takes every
    /// later connection and none is reset. Resolves once done (or once the
    /// proxy has stopped serving); a later call changes nothing.
    pub fn release_listeners(&self, how: Release) -> impl Future<Output = ()> + Send + 'static {
        self.shared.release.send_if_modified(|s| {
            let ask = *s == ReleaseState::Serving;
            if ask {
                *s = ReleaseState::Asked(how);
            }
            ask
        });
        let mut rx = self.shared.release.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s == ReleaseState::Done).await;
        }
    }

    /// A handle to stop this proxy.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            state: self.shared.shutdown.clone(),
        }
    }

    /// Log lines written and dropped (the log channel was full).
    pub fn log_stats(&self) -> LogStats {
        self.shared.logger.stats()
    }
}
