//! Small writes to live state that must stay consistent with each other:
//! op state with `lastchg`/downtime, and a backend's "no server available"
//! bookkeeping.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;

use switchyard_config::{LogLevel, ProxyKind};
use switchyard_state::{events, OpState, ProxyRt, ServerLive};

use crate::message;

/// Transitions come from the checker and from the Runtime API; HAProxy runs
/// them under the server lock. One process-wide lock is enough here: it is
/// never taken on the request path.
static TRANSITIONS: Mutex<()> = Mutex::new(());

pub(crate) fn lock() -> std::sync::MutexGuard<'static, ()> {
    TRANSITIONS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Move the op state; keeps `last_change_ms`, `down_since_ms`,
/// `downtime_ms` and the slowstart begin consistent. Returns false when the
/// state was already `new`.
pub(crate) fn set_op(live: &ServerLive, new: OpState, now: u64) -> bool {
    let old = live.op_state();
    if old == new {
        return false;
    }
    live.op_state.store(new as u8, Relaxed);
    if new == OpState::Stopped {
        if live.down_since_ms.load(Relaxed) == 0 {
            live.down_since_ms.store(now.max(1), Relaxed);
        }
    } else if old == OpState::Stopped {
        let since = live.down_since_ms.swap(0, Relaxed);
        if since != 0 {
            live.downtime_ms.fetch_add(now.saturating_sub(since), Relaxed);
        }
    }
    if new == OpState::Starting {
        crate::slowstart::begin(live, now);
    } else {
        live.slowstart_begin_ms.store(0, Relaxed);
    }
    live.last_change_ms.store(now, Relaxed);
    true
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

/// Backend-level bookkeeping after a server changed: the backend went down
/// (had usable servers, has none) or came back.
pub(crate) fn backend_after_change(px: &ProxyRt, before: (u32, u32), now: u64) {
    let had = before.0 + before.1 > 0;
    let (act, bck) = usable_counts(px);
    let has = act + bck > 0;
    let live = &px.live;
    if had && !has {
        live.be_last_change_ms.store(now, Relaxed);
        live.be_chkdown.fetch_add(1, Relaxed);
        if live.be_down_since_ms.load(Relaxed) == 0 {
            live.be_down_since_ms.store(now.max(1), Relaxed);
        }
        let kind = match px.kind {
            ProxyKind::Listen => "listen",
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
        };
        let (stderr, log) = message::no_server(kind, &px.name);
        events::emit_split(LogLevel::Alert, &stderr, LogLevel::Emerg, &log);
    } else if !had && has {
        let since = live.be_down_since_ms.swap(0, Relaxed);
        if since != 0 {
            live.be_downtime_ms.fetch_add(now.saturating_sub(since), Relaxed);
        }
        live.be_last_change_ms.store(now, Relaxed);
    }
}

/// A server state line: WARNING on stderr, `log_level` in the logs.
pub(crate) fn emit_server(log_level: LogLevel, msg: &str) {
    let line = format!("{msg}.");
    events::emit_split(LogLevel::Warning, &line, log_level, &line);
}
