//! Assigning a server to a request: persistence, balancing, queueing.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use switchyard_state::{now_ms, BackendRt, ProxyRt, RequestView, ServerIdx, ServerLive};

use super::bump;
use crate::balance::{self, LbInput, PickError};
use crate::error::Cause;
use crate::h1::ReqHead;
use crate::log::LogRecord;
use crate::queue::{self, QueueError, QueueKind, ServerSlot, SlotOwner};
use crate::rules::Origin;

/// Assign a server and take a slot on it, queueing when needed.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn assign(
    be: &ProxyRt,
    backend: &BackendRt,
    view: &(dyn RequestView + Sync),
    target: &mut Option<ServerIdx>,
    direct: &mut Option<ServerIdx>,
    prev: Option<ServerIdx>,
    log: &mut LogRecord,
    owner: &impl Fn(&Arc<ServerLive>) -> SlotOwner,
    t_queue: Option<Duration>,
) -> Result<(ServerIdx, ServerSlot), Cause> {
    let algo = balance::effective(be);
    loop {
        let idx = match *target {
            Some(i) => i,
            None => {
                let backend_waiting =
                    queue::backend_queue_len(&be.live) > 0 && balance::queues_fifo(&algo);
                let pick = if backend_waiting {
                    Err(PickError::Full)
                } else {
                    let input = LbInput {
                        req: view,
                        avoid: prev,
                        now_ms: now_ms(),
                    };
                    balance::pick(be, backend, &algo, &input)
                };
                match pick {
                    Ok(i) => {
                        note_reassign(be, backend, prev, i, log);
                        *target = Some(i);
                        i
                    }
                    Err(PickError::NoServer) => {
                        bump(&be.live.be.econ);
                        return Err(Cause::NoServer);
                    }
                    Err(PickError::Full) => {
                        // Wait in the backend queue for any server.
                        log.be_queue = 1;
                        let in_queue = be.live.be.queue_enter();
                        let retry = || {
                            let input = LbInput {
                                req: view,
                                avoid: None,
                                now_ms: now_ms(),
                            };
                            let i = balance::pick(be, backend, &algo, &input).ok()?;
                            let s = backend.servers.get(i.get())?;
                            queue::try_acquire(s).then(|| s.live.clone())
                        };
                        let r =
                            queue::wait(QueueKind::Backend(&be.live), t_queue, retry, owner).await;
                        drop(in_queue);
                        match r {
                            Ok(slot) => {
                                // Find the granted server in our snapshot.
                                match backend
                                    .servers
                                    .iter()
                                    .position(|s| Arc::ptr_eq(&s.live, slot.live()))
                                {
                                    Some(i) => {
                                        let i = ServerIdx(i as u32);
                                        note_reassign(be, backend, prev, i, log);
                                        *target = Some(i);
                                        return Ok((i, started(slot)));
                                    }
                                    None => {
                                        drop(slot);
                                        continue;
                                    }
                                }
                            }
                            Err(QueueError::Timeout) | Err(QueueError::Unavailable) => {
                                bump(&be.live.be.econ);
                                return Err(Cause::QueueTimeout);
                            }
                        }
                    }
                }
            }
        };
        let Some(srv) = backend.servers.get(idx.get()) else {
            return Err(Cause::NoServer);
        };
        if queue::try_acquire_fair(srv) {
            return Ok((
                idx,
                started(ServerSlot::adopt(srv.live.clone(), owner(&srv.live))),
            ));
        }
        // Full: wait in the server's own queue, unless it is at maxqueue.
        let qlen = queue::server_queue_len(&srv.live) as u32;
        if let Some(mq) = srv.cfg.maxqueue.filter(|m| *m > 0) {
            if qlen >= mq {
                if direct.is_some() && be.cfg.options.redispatch.map(|i| i != 0).unwrap_or(false) {
                    *direct = None;
                    *target = None;
                    continue;
                }
                bump(&srv.live.counters.econ);
                bump(&be.live.be.econ);
                log.server = srv.name.clone();
                return Err(Cause::QueueFull);
            }
        }
        log.srv_queue = 1;
        let in_queue = srv.live.counters.queue_enter();
        let retry = || queue::try_acquire(srv).then(|| srv.live.clone());
        let r = queue::wait(QueueKind::Server(&srv.live), t_queue, retry, owner).await;
        drop(in_queue);
        match r {
            Ok(slot) => return Ok((idx, started(slot))),
            Err(_) => {
                bump(&srv.live.counters.econ);
                bump(&be.live.be.econ);
                log.server = srv.name.clone();
                return Err(Cause::QueueTimeout);
            }
        }
    }
}

/// The view the balancer hashes on: the request as it goes to the server.
pub(crate) fn lb_view<'a>(
    head: &'a ReqHead,
    headers: &'a HeaderMap,
    o: &'a Origin,
) -> crate::view::ReqView<'a> {
    crate::view::ReqView::new(&head.method, &head.target, &head.uri, headers, o)
}

fn started(mut slot: ServerSlot) -> ServerSlot {
    slot.start_session();
    slot
}

/// Counters for a (re)assignment: `lbtot` when the balancer chose, and
/// `wredis`/`wretr` on the previous server when this is a redispatch.
fn note_reassign(
    be: &ProxyRt,
    backend: &BackendRt,
    prev: Option<ServerIdx>,
    i: ServerIdx,
    log: &mut LogRecord,
) {
    if Some(i) != prev {
        bump(&be.live.be.lbtot);
        if let Some(s) = backend.servers.get(i.get()) {
            bump(&s.live.counters.lbtot);
        }
    }
    let Some(p) = prev else { return };
    let Some(ps) = backend.servers.get(p.get()) else {
        return;
    };
    if p != i {
        bump(&ps.live.counters.wredis);
        bump(&be.live.be.wredis);
        log.redispatched = true;
        if log.term[2] == b'V' {
            log.term[2] = b'D';
        }
    } else {
        bump(&ps.live.counters.wretr);
        bump(&be.live.be.wretr);
    }
}
