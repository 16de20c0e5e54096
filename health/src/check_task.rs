//! The loop that checks one server: wait for the next slot, probe, record
//! the outcome, pick the next interval (HAProxy's `process_chk_conn`). It
//! also watches the passive-health counter of servers with `observe`.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use switchyard_state::{
    now_ms, OpState, ProxyIdx, ProxyRt, ServerIdx, ServerLive, ServerRt, Snapshot, Store,
};
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

use crate::http::request::build_request;
use crate::http::response::ExpectRules;
use crate::interval::{check_deadlines, next_interval};
use crate::probe::{probe, HttpProbe};
use crate::send_state::state_header;
use crate::transition::{apply_observe_errors, record_check};

/// How often a server with `observe` has its error counter looked at.
const OBSERVE_POLL: Duration = Duration::from_millis(100);

/// The server a task checks: names plus live-state identity, and where it
/// was last found.
pub(crate) struct Target {
    proxy: Arc<str>,
    server: Arc<str>,
    live: Arc<ServerLive>,
    hint: (ProxyIdx, ServerIdx),
}

impl Target {
    pub(crate) fn new(
        proxy: Arc<str>,
        server: Arc<str>,
        live: Arc<ServerLive>,
        pi: usize,
        si: usize,
    ) -> Target {
        Target {
            proxy,
            server,
            live,
            hint: (ProxyIdx(pi as u32), ServerIdx(si as u32)),
        }
    }

    /// Find the server in `snap`: at the last known place, else by names,
    /// in both cases only if it is the same server (same live state).
    fn locate(&mut self, snap: &Snapshot) -> Option<(ProxyIdx, ServerIdx)> {
        let same = |p, s| {
            snap.server(p, s)
                .is_some_and(|sv| Arc::ptr_eq(&sv.live, &self.live))
        };
        if same(self.hint.0, self.hint.1) {
            return Some(self.hint);
        }
        let (p, s) = snap.find_server(&self.proxy, &self.server)?;
        if !same(p, s) {
            return None;
        }
        self.hint = (p, s);
        Some((p, s))
    }
}

/// Compiled pieces of a proxy's HTTP check, rebuilt when its config changes.
struct Prepared {
    /// Identity of the proxy config it was built from (compared only).
    cfg: usize,
    rules: ExpectRules,
}

pub(crate) async fn check_task(
    store: Arc<Store>,
    mut t: Target,
    first: Instant,
    mut stop: watch::Receiver<bool>,
) {
    let mut next = first;
    let mut prepared: Option<Prepared> = None;
    loop {
        let snap = store.load_full();
        let Some((p, s)) = t.locate(&snap) else {
            return;
        };
        let (Some(px), Some(sv)) = (snap.proxy(p), snap.server(p, s)) else {
            return;
        };
        let observing = sv.cfg.observe.is_some();
        if observing && apply_observe_errors(&snap, p, s).unwrap_or(false) {
            if let Some(f) = sv.cfg.fastinter {
                next = next.min(Instant::now() + f);
            }
        }
        let now = Instant::now();
        if now < next {
            let wake = if observing {
                next.min(now + OBSERVE_POLL)
            } else {
                next
            };
            drop(snap);
            tokio::select! {
                _ = sleep_until(wake) => {}
                r = stop.changed() => if r.is_err() || *stop.borrow() { return },
            }
            continue;
        }
        let Some(addr) = check_addr(px, sv) else {
            // Paused (maintenance, disabled checks, no address): look again
            // one `inter` later, on the same phase.
            let inter = sv.cfg.inter.max(Duration::from_millis(1));
            while next <= now {
                next += inter;
            }
            continue;
        };
        let http = match px.cfg.backend.as_ref().map(|b| &b.http_check) {
            Some(hc) if hc.enabled => {
                let cfg_ptr = Arc::as_ptr(&px.cfg) as usize;
                if prepared.as_ref().map(|p| p.cfg) != Some(cfg_ptr) {
                    prepared = Some(Prepared {
                        cfg: cfg_ptr,
                        rules: ExpectRules::compile(hc),
                    });
                }
                let rules = prepared
                    .as_ref()
                    .map(|p| p.rules.clone())
                    .unwrap_or_default();
                let st = hc.send_state.then(|| state_header(&snap, px, sv, now_ms()));
                Some(HttpProbe {
                    request: build_request(hc, st.as_deref()),
                    head: hc.method.eq_ignore_ascii_case("HEAD"),
                    rules,
                })
            }
            _ => None,
        };
        let limits = check_deadlines(sv.cfg.inter, &px.cfg.timeouts);
        let stopped = sv.live.op_state() == OpState::Stopped;
        let tls = sv.check_tls().cloned();
        let live = sv.live.clone();
        drop(snap);

        live.check_running.store(true, Relaxed);
        let outcome = tokio::select! {
            o = probe(addr, tls.as_deref(), http.as_ref(), limits, stopped) => o,
            r = stop.changed() => if r.is_err() || *stop.borrow() {
                live.check_running.store(false, Relaxed);
                return;
            } else { continue },
        };
        live.check_running.store(false, Relaxed);

        let snap = store.load_full();
        let Some((p, s)) = t.locate(&snap) else {
            return;
        };
        let _ = record_check(&snap, p, s, &outcome);
        let Some(sv) = snap.server(p, s) else { return };
        let health = sv.live.health.load(Relaxed);
        next = Instant::now() + next_interval(&sv.cfg, health, sv.live.op_state(), false);
    }
}

/// Where to check, or `None` when the server is not to be checked now
/// (maintenance, `disable health`, no address or port, proxy disabled).
fn check_addr(px: &ProxyRt, sv: &ServerRt) -> Option<SocketAddr> {
    if sv.admin.is_maint() || !sv.live.checks_enabled.load(Relaxed) || px.cfg.disabled {
        return None;
    }
    let base = sv.addr?;
    let ip: IpAddr = sv.cfg.check_addr.unwrap_or(base.ip());
    let port = sv.cfg.check_port.unwrap_or(base.port());
    (port != 0).then(|| SocketAddr::new(ip, port))
}
