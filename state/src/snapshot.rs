//! The immutable routing snapshot and its parts. Cloning is shallow (Arcs),
//! so an edit copies only what it changes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use switchyard_config::{Config, Proxy, ProxyKind, Server};

use crate::admin_state::AdminState;
use crate::compiled::{CCondition, CReqRule, CResRule, CUseBackend};
use crate::ext::Ext;
use crate::ids::{MapIdx, ProxyIdx, ServerIdx};
use crate::live::{OpState, ProxyLive, ServerLive};
use crate::map::MapRt;

#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Increases by one with every publish.
    pub generation: u64,
    pub config: Arc<Config>,
    pub proxies: Vec<Arc<ProxyRt>>,
    pub proxy_by_name: Arc<HashMap<Arc<str>, ProxyIdx>>,
    /// Proxies with a backend side only.
    pub backend_names: Arc<HashMap<Arc<str>, ProxyIdx>>,
    pub maps: Vec<Arc<MapRt>>,
    pub map_by_name: Arc<HashMap<Arc<str>, MapIdx>>,
}

#[derive(Debug, Clone)]
pub struct ProxyRt {
    pub name: Arc<str>,
    /// HAProxy's iid.
    pub id: u32,
    pub kind: ProxyKind,
    pub cfg: Arc<Proxy>,
    pub frontend: Option<FrontendRt>,
    pub backend: Option<BackendRt>,
    pub live: Arc<ProxyLive>,
}

impl ProxyRt {
    /// The frontend's maxconn now: `set maxconn frontend` (0 included)
    /// or the configured one; `None` without a frontend side.
    pub fn fe_maxconn(&self) -> Option<u32> {
        match self.live.fe_maxconn_override.load(Relaxed) {
            crate::live::NO_MAXCONN_OVERRIDE => self.frontend.as_ref().map(|f| f.maxconn),
            over => Some(over as u32),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FrontendRt {
    pub use_backends: Vec<CUseBackend>,
    pub default_backend: Option<ProxyIdx>,
    pub http_request: Vec<CReqRule>,
    pub http_response: Vec<CResRule>,
    pub monitor_fail: Option<CCondition>,
    pub stats_admin: Option<CCondition>,
    /// Effective maxconn (`slim`).
    pub maxconn: u32,
    /// The compiled TLS config of each `ssl` bind.
    pub tls: Vec<crate::bind_tls::BindTls>,
}

impl FrontendRt {
    /// The TLS config of the `ssl` bind configured at `addr`.
    pub fn tls_for(
        &self,
        addr: &switchyard_config::ListenAddr,
    ) -> Option<&std::sync::Arc<rustls::ServerConfig>> {
        self.tls.iter().find(|t| t.addr == *addr).map(|t| &t.config)
    }
}

#[derive(Debug, Clone)]
pub struct BackendRt {
    pub servers: Vec<ServerRt>,
    pub http_request: Vec<CReqRule>,
    pub http_response: Vec<CResRule>,
    /// `fullconn`, or HAProxy's default derived from the frontends that use
    /// this backend statically (the backend's `slim`).
    pub fullconn: u32,
    /// Balancer data derived from this snapshot's servers (lazily, by proxy).
    pub lb: Ext,
}

#[derive(Debug, Clone)]
pub struct ServerRt {
    pub name: Arc<str>,
    /// HAProxy's puid.
    pub id: u32,
    pub cfg: Arc<Server>,
    /// Resolved address; `None` while unresolved (then RMAINT). Port 0 means
    /// "the port the client connected to".
    pub addr: Option<SocketAddr>,
    pub admin: AdminState,
    /// User weight (runtime changeable), 0..=256.
    pub uweight: u32,
    /// Initial weight from the config.
    pub iweight: u32,
    /// The weight the `weight` column keeps showing while in maintenance:
    /// HAProxy applies a weight changed during MAINT only when it ends.
    pub maint_weight: Option<u32>,
    /// Runtime `set maxconn server` override of `cfg.maxconn`.
    pub maxconn: Option<u32>,
    pub live: Arc<ServerLive>,
    /// TLS settings when the server has any (`ssl`, `check-ssl`).
    pub tls: Option<Arc<crate::tls::ServerTls>>,
}

impl ServerRt {
    /// The TLS settings traffic uses now: `ssl` may be toggled at runtime
    /// (`set server ... ssl on|off`).
    pub fn traffic_tls(&self) -> Option<&Arc<crate::tls::ServerTls>> {
        self.tls.as_ref().filter(|_| self.cfg.ssl)
    }

    /// The TLS settings health checks use: `check-ssl`, `no-check-ssl`, or
    /// those of the traffic.
    pub fn check_tls(&self) -> Option<&Arc<crate::tls::ServerTls>> {
        let on = self.cfg.check_ssl.unwrap_or(self.cfg.ssl);
        self.tls.as_ref().filter(|_| on)
    }

    /// `set server <s> weight`/`set weight`: while in maintenance the
    /// `weight` column keeps the weight from before.
    pub fn set_uweight(&mut self, w: u32) {
        if self.admin.is_maint() && self.maint_weight.is_none() {
            self.maint_weight = Some(self.uweight);
        }
        self.uweight = w;
    }

    /// Set then clear admin bits; leaving maintenance applies the weight.
    pub fn change_admin(&mut self, set: u8, clear: u8) {
        self.admin.clear(clear);
        self.admin.set(set);
        if !self.admin.is_maint() {
            self.maint_weight = None;
        }
    }

    /// The `weight` column: the effective weight, or while in maintenance
    /// the one it had when a weight change was deferred.
    pub fn shown_weight(&self, now_ms: u64) -> u32 {
        match self.maint_weight {
            Some(w) if self.admin.is_maint() => w,
            _ => self.effective_weight(now_ms),
        }
    }

    /// Can take new, non-persistent traffic: not in maintenance or drain,
    /// running (or ramping), addressed, with a non-zero weight.
    pub fn is_usable(&self) -> bool {
        !self.admin.is_maint()
            && !self.admin.is_drain()
            && self.addr.is_some()
            && self.uweight > 0
            && matches!(self.live.op_state(), OpState::Running | OpState::Starting)
    }

    /// Can take traffic pinned to it by a cookie: DRAIN, NOLB and weight 0
    /// keep it; MAINT and DOWN do not.
    pub fn accepts_persistent(&self) -> bool {
        !self.admin.is_maint() && self.addr.is_some() && self.live.op_state() != OpState::Stopped
    }

    /// The slowstart step (1..=[`SLOWSTART_SCALE`]) while ramping, `None`
    /// when not ramping.
    pub fn slowstart_step(&self, now_ms: u64) -> Option<u32> {
        if self.live.op_state() != OpState::Starting {
            return None;
        }
        slowstart_step(
            self.live.slowstart_begin_ms.load(Relaxed),
            now_ms,
            self.cfg.slowstart?,
        )
    }

    /// The slowstart throttle in percent while ramping (`throttle` column),
    /// `None` when not ramping. HAProxy's `server_throttle_rate`, rounded
    /// down: 6, 25, 43, 62, 81 for weight 100 and `slowstart 10s`.
    pub fn throttle_pct(&self, now_ms: u64) -> Option<u32> {
        let w = self.slowstart_step(now_ms)?;
        if self.uweight == 0 {
            return Some(100);
        }
        Some((100 * w * self.uweight + SLOWSTART_SCALE - 1) / (SLOWSTART_SCALE * self.uweight))
    }

    /// Effective weight in user units (the `weight` column): the user weight
    /// scaled by the slowstart step and rounded up (7, 25, 44, 63, 82, 100
    /// for weight 100 and `slowstart 10s`).
    pub fn effective_weight(&self, now_ms: u64) -> u32 {
        match self.slowstart_step(now_ms) {
            Some(w) => (self.uweight * w).div_ceil(SLOWSTART_SCALE),
            None => self.uweight,
        }
    }

    /// The server's effective maxconn, if limited.
    pub fn effective_maxconn(&self) -> Option<u32> {
        self.maxconn.or(self.cfg.maxconn).filter(|m| *m > 0)
    }
}

/// HAProxy's weight scale (`BE_WEIGHT_SCALE`): slowstart ramps a weight in
/// sixteenths.
pub const SLOWSTART_SCALE: u32 = 16;

/// HAProxy 2.6's slowstart step (`server_recalc_eweight`), in 1..=16: with
/// `e` whole seconds since the ramp began (wall-clock seconds, as HAProxy
/// compares `now.tv_sec` with `last_change`) and `ss` the slowstart in whole
/// seconds (rounded up), the step is `(16*e + ss) / ss`. `None` once `e >= ss`
/// (full weight), when `begin_ms` is 0, or when the clock went backwards.
pub fn slowstart_step(begin_ms: u64, now_ms: u64, slowstart: std::time::Duration) -> Option<u32> {
    let ss = (slowstart.as_millis() as u64).div_ceil(1000);
    if begin_ms == 0 || ss == 0 {
        return None;
    }
    // HAProxy's warmup task steps at begin + k seconds, not on wall-clock
    // second boundaries.
    let k = now_ms.checked_sub(begin_ms)? / 1000;
    if k >= ss {
        return None;
    }
    Some(((u64::from(SLOWSTART_SCALE) * k + ss) / ss) as u32)
}

impl Snapshot {
    pub fn proxy(&self, idx: ProxyIdx) -> Option<&Arc<ProxyRt>> {
        self.proxies.get(idx.get())
    }

    pub fn proxy_idx(&self, name: &str) -> Option<ProxyIdx> {
        self.proxy_by_name.get(name).copied()
    }

    /// Find `backend/server` by names.
    pub fn find_server(&self, backend: &str, server: &str) -> Option<(ProxyIdx, ServerIdx)> {
        let p = self.proxy_idx(backend)?;
        let be = self.proxies.get(p.get())?.backend.as_ref()?;
        let s = be.servers.iter().position(|s| &*s.name == server)?;
        Some((p, ServerIdx(s as u32)))
    }

    pub fn server(&self, p: ProxyIdx, s: ServerIdx) -> Option<&ServerRt> {
        self.proxies
            .get(p.get())?
            .backend
            .as_ref()?
            .servers
            .get(s.get())
    }

    /// Mutable access to a server for an edit; copies only its proxy.
    pub fn server_mut(&mut self, p: ProxyIdx, s: ServerIdx) -> Option<&mut ServerRt> {
        let px = Arc::make_mut(self.proxies.get_mut(p.get())?);
        px.backend.as_mut()?.servers.get_mut(s.get())
    }

    pub fn map_idx(&self, name: &str) -> Option<MapIdx> {
        self.map_by_name.get(name).copied()
    }

    /// Mutable access to a map for an edit; copies only that map's root.
    pub fn map_mut(&mut self, m: MapIdx) -> Option<&mut MapRt> {
        self.maps.get_mut(m.get()).map(Arc::make_mut)
    }

    /// Edit a map, with backend names resolved against this snapshot.
    pub fn edit_map<T>(
        &mut self,
        m: MapIdx,
        f: impl FnOnce(&mut MapRt, crate::map::ResolveBackend<'_>) -> T,
    ) -> Option<T> {
        let names = self.backend_names.clone();
        let resolve = move |n: &str| names.get(n).copied();
        let map = self.map_mut(m)?;
        Some(f(map, &resolve))
    }
}
