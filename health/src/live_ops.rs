//! The bookkeeping HAProxy's `srv_update_status` does around a state
//! change, kept branch for branch because `lastchg` and `downtime` show its
//! quirks (a maintenance period is dropped from the downtime; leaving drain
//! adds the time since the last change to it).
//!
//! Downtime representation: `downtime_ms` is HAProxy's `down_time`, and
//! while a server is STOPPED, `down_since_ms` equals its `last_change`
//! (HAProxy's `srv_downtime()` adds `now - last_change` only then); it is 0
//! otherwise. Backends likewise with `be_down_since_ms` while they have no
//! usable server.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;

use switchyard_config::{LogLevel, ProxyKind};
use switchyard_state::{events, OpState, ProxyLive, ProxyRt, ServerLive};

use crate::message;

/// Transitions come from the checker and from the Runtime API; HAProxy runs
/// them under the server lock. One process-wide lock is enough here: it is
/// never taken on the request path.
static TRANSITIONS: Mutex<()> = Mutex::new(());

pub(crate) fn lock() -> std::sync::MutexGuard<'static, ()> {
    TRANSITIONS.lock().unwrap_or_else(|p| p.into_inner())
}

fn set_state(live: &ServerLive, op: OpState, now: u64) {
    live.op_state.store(op as u8, Relaxed);
    if op == OpState::Starting {
        crate::slowstart::begin(live, now);
    } else {
        live.slowstart_begin_ms.store(0, Relaxed);
    }
}

/// Set `last_change` to now (keeping `down_since` equal to it while
/// STOPPED).
pub(crate) fn touch(live: &ServerLive, now: u64) {
    live.last_change_ms.store(now, Relaxed);
    let since = if live.op_state() == OpState::Stopped {
        now.max(1)
    } else {
        0
    };
    live.down_since_ms.store(since, Relaxed);
}

/// Add `now - last_change` to the downtime (HAProxy's `down_time +=`).
fn add_downtime_since_change(live: &ServerLive, now: u64) {
    let last = live.last_change_ms.load(Relaxed);
    live.downtime_ms
        .fetch_add(now.saturating_sub(last), Relaxed);
}

/// The "going DOWN" branch: STOPPED now.
pub(crate) fn server_down(live: &ServerLive, now: u64) {
    set_state(live, OpState::Stopped, now);
    touch(live, now);
}

/// The "stopping" branch: soft-stopped now.
pub(crate) fn server_stopping(live: &ServerLive, now: u64) {
    set_state(live, OpState::Stopping, now);
    touch(live, now);
}

/// The "getting UP" branch: from STOPPED the down period is added to the
/// downtime.
pub(crate) fn server_up(live: &ServerLive, target: OpState, now: u64) {
    if live.op_state() == OpState::Stopped {
        add_downtime_since_change(live, now);
    }
    set_state(live, target, now);
    touch(live, now);
}

/// Leaving maintenance: up at once, the maintenance period is not counted
/// as downtime (as in HAProxy).
pub(crate) fn server_leaves_maint(live: &ServerLive, target: OpState, now: u64) {
    set_state(live, target, now);
    touch(live, now);
}

/// Leaving drain: HAProxy adds the time since the last change to the
/// downtime, whatever the state.
pub(crate) fn server_leaves_drain(live: &ServerLive, now: u64) {
    add_downtime_since_change(live, now);
    touch(live, now);
}

/// Usable (active, backup) servers of a backend, as HAProxy's
/// `srv_act`/`srv_bck`.
pub(crate) fn usable_counts(px: &ProxyRt) -> (u32, u32) {
    let mut act = 0;
    let mut bck = 0;
    if let Some(be) = &px.backend {
        for s in be.servers.iter().filter(|s| s.is_usable()) {
            if s.cfg.backup {
                bck += 1;
            } else {
                act += 1;
            }
        }
    }
    (act, bck)
}

pub(crate) fn total(c: (u32, u32)) -> u32 {
    c.0 + c.1
}

/// `set_backend_down()` when the backend had usable servers and has none
/// now: `backend 'b' has no server available!`.
pub(crate) fn backend_down_if_emptied(px: &ProxyRt, before: (u32, u32), now: u64) {
    if total(before) == 0 || total(usable_counts(px)) != 0 {
        return;
    }
    let live = &px.live;
    live.be_last_change_ms.store(now, Relaxed);
    live.be_down_since_ms.store(now.max(1), Relaxed);
    live.be_chkdown.fetch_add(1, Relaxed);
    let kind = match px.kind {
        ProxyKind::Listen => "listen",
        ProxyKind::Frontend => "frontend",
        ProxyKind::Backend => "backend",
    };
    let (stderr, log) = message::no_server(kind, &px.name);
    events::emit_split(LogLevel::Alert, &stderr, LogLevel::Emerg, &log);
}

/// A server comes up (or leaves drain) in a backend that had no usable
/// server: the backend's down period ends and counts as downtime.
pub(crate) fn backend_up_accumulate(live: &ProxyLive, before: (u32, u32), now: u64) {
    if total(before) != 0 {
        return;
    }
    let last = live.be_last_change_ms.load(Relaxed);
    live.be_downtime_ms
        .fetch_add(now.saturating_sub(last), Relaxed);
    live.be_last_change_ms.store(now, Relaxed);
    live.be_down_since_ms.store(0, Relaxed);
}

/// Leaving maintenance brings the backend back without counting its down
/// period (HAProxy only moves `last_change`).
pub(crate) fn backend_back_from_maint(px: &ProxyRt, before: (u32, u32), now: u64) {
    if total(before) == 0 && total(usable_counts(px)) != 0 {
        px.live.be_last_change_ms.store(now, Relaxed);
        px.live.be_down_since_ms.store(0, Relaxed);
    }
}

/// A server state line: WARNING on stderr, `log_level` in the logs.
pub(crate) fn emit_server(log_level: LogLevel, msg: &str) {
    let line = format!("{msg}.");
    events::emit_split(LogLevel::Warning, &line, log_level, &line);
}
