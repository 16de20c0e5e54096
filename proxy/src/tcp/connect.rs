//! Getting a TCP-mode stream its server connection: assignment (balancing,
//! queueing behind `maxconn`), connection attempts with `retries` and
//! `option redispatch`, HAProxy's counters for each attempt, and passive
//! health (`observe`) events. The same rules as the HTTP path
//! ([`crate::retry`]), without the HTTP parts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_state::{BackendRt, ObserveEvent, ProxyRt, ServerIdx, ServerLive};
use tokio::net::TcpStream;

use crate::balance;
use crate::error::Cause;
use crate::kill::KillWatch;
use crate::log::LogRecord;
use crate::proxy::Shared;
use crate::queue::{ServerSlot, SlotOwner};
use crate::retry::{assign, choose_redispatch};
use crate::upstream::{connect_tcp, ConnectError};

use super::view::L4View;

/// A server connection and what holds the server for the stream.
pub(super) struct Connected {
    pub(super) stream: TcpStream,
    /// The server slot (`cur_conns`, `used_cur`), released at the end.
    pub(super) slot: ServerSlot,
    pub(super) kill: KillWatch,
}

/// When the stream got its server and its connection (for `%Tw`/`%Tc`).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Marks {
    pub(super) queued: Option<Instant>,
    pub(super) connected: Option<Instant>,
}

fn bump(c: &std::sync::atomic::AtomicU64) {
    c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Assign a server and connect to it, retrying as configured. On failure
/// the cause says why (`SC`, `sC`, `sQ`, ...); the log record has the
/// server, retries and queue flags filled in either way, and `srv` the last
/// server tried.
#[allow(clippy::too_many_arguments)]
pub(super) async fn connect(
    shared: &Shared,
    be: &Arc<ProxyRt>,
    backend: &BackendRt,
    view: &L4View,
    log: &mut LogRecord,
    marks: &mut Marks,
    srv_live: &mut Option<Arc<ServerLive>>,
) -> Result<Connected, Cause> {
    let Some(bcfg) = be.cfg.backend.as_ref() else {
        return Err(Cause::NoServer);
    };
    let timeouts = be.cfg.timeouts;
    let t_connect = timeouts.connect;
    let t_queue = timeouts.queue.or(timeouts.connect);
    let max_retries = bcfg.retries;
    let rr_kind = balance::is_rr_kind(&balance::effective(be));
    let owner = |live: &Arc<ServerLive>| SlotOwner {
        store: shared.store.clone(),
        be_live: be.live.clone(),
        be_name: be.name.clone(),
        srv_name: backend
            .servers
            .iter()
            .find(|s| Arc::ptr_eq(&s.live, live))
            .map(|s| s.name.clone())
            .unwrap_or_else(|| Arc::from("")),
    };
    let mut hard = Box::pin(shared.shutdown.hard_requested());
    let mut retries: u32 = 0;
    let mut target: Option<ServerIdx> = None;
    let mut direct: Option<ServerIdx> = None;
    let mut prev: Option<ServerIdx> = None;

    loop {
        let assigned = assign(
            be,
            backend,
            view,
            &mut target,
            &mut direct,
            prev,
            log,
            &owner,
            t_queue,
        )
        .await;
        let (idx, slot) = match assigned {
            Ok(x) => x,
            Err(cause) => {
                // A stream that waited in a queue has a queue time.
                if cause == Cause::QueueTimeout || cause == Cause::QueueFull {
                    marks
                        .queued
                        .get_or_insert_with(switchyard_state::clock::now);
                }
                return Err(cause);
            }
        };
        marks
            .queued
            .get_or_insert_with(switchyard_state::clock::now);
        prev = None;
        let Some(srv) = backend.servers.get(idx.get()) else {
            return Err(Cause::NoServer);
        };
        log.server = srv.name.clone();
        *srv_live = Some(srv.live.clone());
        let Some(mut addr) = srv.addr else {
            return Err(Cause::NoServer);
        };
        if addr.port() == 0 {
            addr.set_port(view.dst_port);
        }
        // Every attempt counts in `connect` (HAProxy's connect_server).
        bump(&srv.live.counters.connect);
        bump(&be.live.be.connect);
        let attempt = tokio::select! {
            r = connect_tcp(addr, t_connect) => r,
            _ = &mut hard => return Err(Cause::Killed),
        };
        match attempt {
            Ok(stream) => {
                srv.live.observe(srv.cfg.observe, ObserveEvent::L4Ok);
                marks.connected = Some(switchyard_state::clock::now());
                log.retries = retries;
                return Ok(Connected {
                    stream,
                    kill: KillWatch::new(&srv.live),
                    slot,
                });
            }
            Err(e) => {
                srv.live.observe(srv.cfg.observe, ObserveEvent::L4Err);
                drop(slot);
                let cause = match e {
                    ConnectError::Timeout => Cause::ConnectTimeout,
                    ConnectError::Failed => Cause::ConnectFailed,
                };
                log.retries = retries;
                if retries >= max_retries {
                    bump(&srv.live.counters.econ);
                    bump(&be.live.be.econ);
                    return Err(cause);
                }
                retries += 1;
                log.retries = retries;
                let redisp = choose_redispatch(be, backend, srv, retries, max_retries, false);
                if redisp {
                    prev = Some(idx);
                    target = None;
                    direct = None;
                } else {
                    bump(&srv.live.counters.wretr);
                    bump(&be.live.be.wretr);
                    target = Some(idx);
                }
                // Immediate redispatch for round-robin kinds with several
                // servers up; otherwise HAProxy's turn-around delay.
                let rr_many = rr_kind && balance::active_count(backend) > 1;
                if !redisp || !rr_many {
                    let delay = t_connect
                        .map(|c| c.min(Duration::from_secs(1)))
                        .unwrap_or(Duration::from_secs(1));
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = &mut hard => return Err(Cause::Killed),
                    }
                }
            }
        }
    }
}
