//! Server connection slots and the wait queues behind `maxconn`.
//!
//! A [`ServerSlot`] is one request in flight on a server (`cur_conns`, the
//! `used_cur` of `show servers conn`). When a server has `maxconn` and is
//! full, a request waits in the server's queue (persistent requests) or the
//! backend's queue (everything else). Releasing a slot hands it directly to
//! the oldest waiter — the server's own queue first, then the backend's — so
//! queued requests go to the first server that frees up, FIFO.
//!
//! Lock-free: queues are crossbeam `SegQueue`s; a waiter is claimed by a
//! compare-and-swap on its state, so a timeout and a hand-over never both win.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crossbeam_queue::SegQueue;
use switchyard_state::{ProxyLive, ServerLive, ServerRt, Store};
use tokio::sync::Notify;

use crate::kill::KillState;
use crate::upstream::pool::Pool;

const WAITING: u8 = 0;
const ASSIGNED: u8 = 1;
const CANCELLED: u8 = 2;

/// One queued request.
#[derive(Debug)]
pub(crate) struct Waiter {
    state: AtomicU8,
    grant: OnceLock<Arc<ServerLive>>,
    wake: Notify,
}

impl Waiter {
    fn new() -> Arc<Waiter> {
        Arc::new(Waiter {
            state: AtomicU8::new(WAITING),
            grant: OnceLock::new(),
            wake: Notify::new(),
        })
    }

    fn claim(&self) -> bool {
        self.state
            .compare_exchange(WAITING, ASSIGNED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn cancel(&self) -> bool {
        self.state
            .compare_exchange(WAITING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn give(&self, live: Arc<ServerLive>) {
        let _ = self.grant.set(live);
        self.wake.notify_one();
    }
}

/// A FIFO of waiters with an approximate length (cancelled entries are
/// removed lazily, but `len` counts only live ones).
#[derive(Debug, Default)]
pub(crate) struct WaitQueue {
    q: SegQueue<Arc<Waiter>>,
    len: AtomicUsize,
}

impl WaitQueue {
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    fn push(&self, w: Arc<Waiter>) {
        self.len.fetch_add(1, Ordering::AcqRel);
        self.q.push(w);
    }

    /// Claim the oldest live waiter.
    fn pop_claimed(&self) -> Option<Arc<Waiter>> {
        while let Some(w) = self.q.pop() {
            if w.claim() {
                self.dec();
                return Some(w);
            }
        }
        None
    }

    fn dec(&self) {
        let _ = self
            .len
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                Some(v.saturating_sub(1))
            });
    }
}

/// The proxy's per-server structures, kept in `ServerLive.ext` so they
/// survive snapshots (a reload or `set map` keeps queues and idle pools).
#[derive(Debug)]
pub(crate) struct ServerExt {
    pub(crate) queue: WaitQueue,
    pub(crate) pool: Pool,
    pub(crate) kill: KillState,
}

/// The proxy's per-backend structures, kept in `ProxyLive.ext`.
#[derive(Debug, Default)]
pub(crate) struct BackendExt {
    pub(crate) queue: WaitQueue,
}

pub(crate) fn server_ext(live: &ServerLive) -> Option<&ServerExt> {
    live.ext.get_or_init(|| ServerExt {
        queue: WaitQueue::default(),
        pool: Pool::default(),
        kill: KillState::new(live),
    })
}

/// The per-server structures if traffic created them already.
pub(crate) fn server_ext_if_any(live: &ServerLive) -> Option<&ServerExt> {
    live.ext.get::<ServerExt>()
}

pub(crate) fn backend_ext(live: &ProxyLive) -> Option<&BackendExt> {
    live.ext.get_or_init(BackendExt::default)
}

/// Requests queued on the server; reading it creates nothing (a server that
/// never had traffic has no queue).
pub(crate) fn server_queue_len(live: &ServerLive) -> usize {
    server_ext_if_any(live).map(|e| e.queue.len()).unwrap_or(0)
}

pub(crate) fn backend_queue_len(live: &ProxyLive) -> usize {
    backend_ext(live).map(|e| e.queue.len()).unwrap_or(0)
}

/// Take a slot on `s` if it has room (no maxconn, or below it).
pub(crate) fn try_acquire(s: &ServerRt) -> bool {
    let cur = &s.live.cur_conns;
    match s.effective_maxconn() {
        None => {
            cur.fetch_add(1, Ordering::AcqRel);
            true
        }
        Some(m) => cur
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                (c < m).then_some(c + 1)
            })
            .is_ok(),
    }
}

/// Take a slot only if nobody is queued for this server (FIFO fairness).
pub(crate) fn try_acquire_fair(s: &ServerRt) -> bool {
    if s.effective_maxconn().is_some() && server_queue_len(&s.live) > 0 {
        return false;
    }
    try_acquire(s)
}

/// Identifies the backend a slot belongs to, for hand-over decisions.
#[derive(Clone)]
pub(crate) struct SlotOwner {
    pub(crate) store: Arc<Store>,
    pub(crate) be_live: Arc<ProxyLive>,
    pub(crate) be_name: Arc<str>,
    pub(crate) srv_name: Arc<str>,
}

/// One request in flight on a server. Dropping it frees the slot or hands
/// it to the next queued request.
pub(crate) struct ServerSlot {
    live: Arc<ServerLive>,
    owner: SlotOwner,
    /// Counted in the server's session counters (`scur`/`stot`).
    counted: bool,
    done: bool,
}

impl std::fmt::Debug for ServerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ServerSlot({}/{})",
            self.owner.be_name, self.owner.srv_name
        )
    }
}

impl ServerSlot {
    /// Wrap a slot already counted in `live.cur_conns`.
    pub(crate) fn adopt(live: Arc<ServerLive>, owner: SlotOwner) -> ServerSlot {
        ServerSlot {
            live,
            owner,
            counted: false,
            done: false,
        }
    }

    /// The request really uses this slot: count a server session.
    pub(crate) fn start_session(&mut self) {
        if !self.counted {
            self.counted = true;
            self.live.counters.session_start();
        }
    }

    pub(crate) fn live(&self) -> &Arc<ServerLive> {
        &self.live
    }

    fn release(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        if self.counted {
            self.live.counters.session_end();
        }
        loop {
            if let Some(w) = self.next_waiter() {
                // The slot passes on: cur_conns stays as it is.
                w.give(self.live.clone());
                return;
            }
            self.live.cur_conns.fetch_sub(1, Ordering::AcqRel);
            // A request may have queued between our look and the decrement;
            // if so, take the slot back and try again so it is not stranded.
            if !self.queued_anywhere() {
                return;
            }
            let Some(m) = self.maxconn_now() else { return };
            let got = self
                .live
                .cur_conns
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                    (c < m).then_some(c + 1)
                })
                .is_ok();
            if !got {
                return;
            }
        }
    }

    fn queued_anywhere(&self) -> bool {
        server_queue_len(&self.live) > 0 || backend_queue_len(&self.owner.be_live) > 0
    }

    /// The server's maxconn in the current snapshot, if it is still there.
    fn maxconn_now(&self) -> Option<u32> {
        let snap = self.owner.store.load();
        let (p, s) = snap.find_server(&self.owner.be_name, &self.owner.srv_name)?;
        let srv = snap.server(p, s)?;
        Some(srv.effective_maxconn().unwrap_or(u32::MAX))
    }

    fn next_waiter(&self) -> Option<Arc<Waiter>> {
        if let Some(w) = server_ext(&self.live).and_then(|e| e.queue.pop_claimed()) {
            return Some(w);
        }
        let be = backend_ext(&self.owner.be_live)?;
        if be.queue.len() == 0 {
            return None;
        }
        // Only a server that may take new traffic serves the backend queue.
        let usable = {
            let snap = self.owner.store.load();
            snap.find_server(&self.owner.be_name, &self.owner.srv_name)
                .and_then(|(p, s)| {
                    snap.server(p, s)
                        .map(|s| s.is_usable() && Arc::ptr_eq(&s.live, &self.live))
                })
                .unwrap_or(false)
        };
        if !usable {
            return None;
        }
        be.queue.pop_claimed()
    }
}

impl Drop for ServerSlot {
    fn drop(&mut self) {
        self.release();
    }
}

/// Which queue a request waits in.
pub(crate) enum QueueKind<'a> {
    /// The server's own queue (persistent or hash-assigned requests).
    Server(&'a ServerLive),
    /// The backend queue (any server that frees up).
    Backend(&'a ProxyLive),
}

/// Why waiting ended without a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueError {
    Timeout,
    /// The queue structures are unavailable (should not happen).
    Unavailable,
}

/// Wait in a queue for a slot. `retry` is called once right after queueing
/// to catch a slot freed just before we queued: it tries to take a slot
/// directly and returns that server's live state on success. `owner` names
/// the backend/server of a granted slot (for its later release).
pub(crate) async fn wait(
    kind: QueueKind<'_>,
    timeout: Option<Duration>,
    retry: impl Fn() -> Option<Arc<ServerLive>>,
    owner: impl Fn(&Arc<ServerLive>) -> SlotOwner,
) -> Result<ServerSlot, QueueError> {
    let q = match &kind {
        QueueKind::Server(l) => server_ext(l).map(|e| &e.queue),
        QueueKind::Backend(l) => backend_ext(l).map(|e| &e.queue),
    };
    let Some(q) = q else {
        return Err(QueueError::Unavailable);
    };
    let w = Waiter::new();
    q.push(w.clone());
    let mut guard = Abandon {
        w: &w,
        q,
        owner: &owner,
        armed: true,
    };
    if let Some(live) = retry() {
        let direct = ServerSlot::adopt(live.clone(), owner(&live));
        if w.cancel() {
            q.dec();
            guard.armed = false;
            return Ok(direct);
        }
        // A slot was handed to us meanwhile: keep that one, free this one.
        drop(direct);
    }
    let deadline = timeout.map(crate::timing::deadline);
    loop {
        if let Some(live) = w.grant.get() {
            guard.armed = false;
            return Ok(ServerSlot::adopt(live.clone(), owner(live)));
        }
        let notified = w.wake.notified();
        match deadline {
            Some(d) => {
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep_until(d) => {
                        if w.cancel() {
                            q.dec();
                            guard.armed = false;
                            return Err(QueueError::Timeout);
                        }
                        // Claimed concurrently: the grant is on its way.
                    }
                }
            }
            None => notified.await,
        }
    }
}

/// If a queued request goes away (client gone, hard stop), withdraw it; a
/// slot granted in the meantime is released to the next waiter.
struct Abandon<'a, F: Fn(&Arc<ServerLive>) -> SlotOwner> {
    w: &'a Arc<Waiter>,
    q: &'a WaitQueue,
    owner: &'a F,
    armed: bool,
}

impl<F: Fn(&Arc<ServerLive>) -> SlotOwner> Drop for Abandon<'_, F> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if self.w.cancel() {
            self.q.dec();
            return;
        }
        // Assigned: the releaser sets the grant right after claiming (no
        // await in between), so this wait is a few instructions at most.
        loop {
            if let Some(live) = self.w.grant.get() {
                drop(ServerSlot::adopt(live.clone(), (self.owner)(live)));
                return;
            }
            std::thread::yield_now();
        }
    }
}
