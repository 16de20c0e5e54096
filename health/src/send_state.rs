//! `http-check send-state`: the `x-haproxy-server-state` header value, as
//! HAProxy's `httpchk_build_status_header()` writes it, e.g.
//! `UP 1/3; address=127.0.0.1; port=18123; name=plain/a; node=vm;
//! weight=1/1; scur=0/0; qcur=0`.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::OnceLock;

use switchyard_state::{OpState, ProxyRt, ServerRt, Snapshot};

use crate::counter::RiseFall;

pub(crate) fn state_header(snap: &Snapshot, px: &ProxyRt, sv: &ServerRt, now_ms: u64) -> String {
    let live = &sv.live;
    let rf = RiseFall::new(sv.cfg.rise, sv.cfg.fall);
    let health = live.health.load(Relaxed);
    let op = live.op_state();
    let state = if !live.checks_enabled.load(Relaxed) {
        "no check".to_string()
    } else if op != OpState::Stopped {
        let word = if op == OpState::Stopping {
            "NOLB"
        } else {
            "UP"
        };
        if health >= rf.max() {
            word.to_string()
        } else {
            format!(
                "{word} {}/{}",
                (health + 1).saturating_sub(rf.rise),
                rf.fall
            )
        }
    } else if health > 0 {
        format!("DOWN {health}/{}", rf.rise)
    } else {
        "DOWN".to_string()
    };
    let (addr, port) = match sv.addr {
        Some(a) => (a.ip().to_string(), a.port().to_string()),
        None => (String::new(), String::new()),
    };
    let node = snap
        .config
        .global
        .node
        .clone()
        .unwrap_or_else(|| hostname().to_string());
    let servers = px
        .backend
        .as_ref()
        .map(|b| b.servers.as_slice())
        .unwrap_or(&[]);
    let weight_of = |backup: bool| -> u32 {
        servers
            .iter()
            .filter(|s| s.cfg.backup == backup && s.is_usable())
            .map(|s| s.effective_weight(now_ms))
            .sum()
    };
    let tot = match weight_of(false) {
        0 => weight_of(true),
        w => w,
    };
    let own = if sv.is_usable() || op == OpState::Stopping {
        sv.effective_weight(now_ms)
    } else {
        0
    };
    let be_cur: u32 = servers.iter().map(|s| s.live.cur_conns.load(Relaxed)).sum();
    let mut out = format!(
        "{state}; address={addr}; port={port}; name={}/{}; node={node}; weight={own}/{tot}; scur={}/{be_cur}; qcur=0",
        px.name,
        sv.name,
        live.cur_conns.load(Relaxed)
    );
    if let (Some(ss), OpState::Starting) = (sv.cfg.slowstart, op) {
        let ss = (ss.as_millis() as u64).div_ceil(1000);
        let (b, n) = (live.last_change_ms.load(Relaxed) / 1000, now_ms / 1000);
        if ss > 0 && n >= b && n < b + ss {
            out.push_str(&format!("; throttle={}%", (100 * (n - b) / ss).max(1)));
        }
    }
    out
}

/// The host name (`node` defaults to it in HAProxy).
fn hostname() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    })
}
