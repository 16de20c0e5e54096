//! Killing the streams of one server: `shutdown sessions server b/s` (the
//! Runtime API bumps `ServerLive.shutdown_gen`), `on-marked-down
//! shutdown-sessions` (the server went DOWN) and, on the backup servers of
//! its backend, `on-marked-up shutdown-backup-sessions` (it came back UP). A stream takes a [`KillWatch`]
//! when it gets its server and races its I/O against [`KillWatch::killed`].
//!
//! Neither the admin nor the health checker call into the proxy, so one
//! watcher task ([`watch_servers`]) polls the servers' atomics and wakes the
//! streams of a server that must go. Streams only subscribe to a per-server
//! `watch` channel; nothing is locked per byte or per request beyond that.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicU8};
use std::sync::Arc;
use std::time::Duration;

use switchyard_state::{OpState, ServerLive, Snapshot, Store};
use tokio::sync::watch;

use crate::queue::{server_ext, server_ext_if_any};

/// How often the watcher looks at the servers.
const POLL: Duration = Duration::from_millis(50);

/// Why a stream was killed: its termination code's first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KillReason {
    /// `shutdown sessions server` (`K`).
    Admin,
    /// The server was marked DOWN with `on-marked-down shutdown-sessions` (`D`).
    Down,
    /// An active server with `on-marked-up shutdown-backup-sessions` came
    /// back UP; this (backup) server's streams go (`U`).
    Up,
}

impl KillReason {
    pub(crate) fn code(self) -> u8 {
        match self {
            KillReason::Admin => b'K',
            KillReason::Down => b'D',
            KillReason::Up => b'U',
        }
    }
}

/// The per-server part, kept in the proxy's `ServerExt`.
#[derive(Debug)]
pub(crate) struct KillState {
    wake: watch::Sender<u64>,
    /// Bumped each time the server is marked DOWN with on-marked-down
    /// shutdown-sessions.
    down_gen: AtomicU64,
    /// Bumped on a backup server when an active server of its backend with
    /// on-marked-up shutdown-backup-sessions comes back up.
    up_gen: AtomicU64,
    /// What the watcher saw last.
    seen_admin: AtomicU64,
    seen_op: AtomicU8,
}

impl KillState {
    pub(crate) fn new(live: &ServerLive) -> KillState {
        KillState {
            wake: watch::channel(0).0,
            down_gen: AtomicU64::new(0),
            up_gen: AtomicU64::new(0),
            seen_admin: AtomicU64::new(live.shutdown_gen.load(Relaxed)),
            seen_op: AtomicU8::new(live.op_state() as u8),
        }
    }

    fn fire(&self) {
        self.wake.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// A stream's claim on a server: killed when the server's generations move
/// past the ones it started under.
#[derive(Debug, Clone)]
pub(crate) struct KillWatch {
    live: Arc<ServerLive>,
    admin: u64,
    down: u64,
    up: u64,
}

impl KillWatch {
    pub(crate) fn new(live: &Arc<ServerLive>) -> KillWatch {
        let (down, up) = gens(live);
        KillWatch {
            live: live.clone(),
            admin: live.shutdown_gen.load(Relaxed),
            down,
            up,
        }
    }

    /// Whether the stream must go now.
    pub(crate) fn check(&self) -> Option<KillReason> {
        if self.live.shutdown_gen.load(Relaxed) != self.admin {
            return Some(KillReason::Admin);
        }
        let (down, up) = gens(&self.live);
        if down != self.down {
            return Some(KillReason::Down);
        }
        (up != self.up).then_some(KillReason::Up)
    }

    /// Resolves when the stream must go.
    pub(crate) async fn killed(&self) -> KillReason {
        let Some(ext) = server_ext(&self.live) else {
            return std::future::pending().await;
        };
        // Subscribe before looking, so a change in between still wakes us.
        let mut rx = ext.kill.wake.subscribe();
        loop {
            if let Some(r) = self.check() {
                return r;
            }
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// The server's (down, up) kill generations.
fn gens(live: &ServerLive) -> (u64, u64) {
    server_ext(live)
        .map(|e| (e.kill.down_gen.load(Relaxed), e.kill.up_gen.load(Relaxed)))
        .unwrap_or((0, 0))
}

/// Resolves when `w` (if any) is killed; never without one.
pub(crate) async fn killed(w: Option<&KillWatch>) -> KillReason {
    match w {
        Some(w) => w.killed().await,
        None => std::future::pending().await,
    }
}

/// Poll every server of the current snapshot and wake the streams of those
/// whose sessions must be shut down. Runs for as long as the proxy serves.
pub(crate) async fn watch_servers(store: Arc<Store>) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        scan(&store.load_full());
    }
}

fn scan(snap: &Snapshot) {
    for p in &snap.proxies {
        let Some(be) = &p.backend else { continue };
        let mut backups_go = false;
        for s in &be.servers {
            // A server that never carried traffic has no streams to kill;
            // but one whose return kills the backups' streams is followed.
            let ext = if s.cfg.on_marked_up_shutdown_backup {
                server_ext(&s.live)
            } else {
                server_ext_if_any(&s.live)
            };
            let Some(ext) = ext else { continue };
            let k = &ext.kill;
            let mut fire = false;
            let gen = s.live.shutdown_gen.load(Relaxed);
            if k.seen_admin.swap(gen, Relaxed) != gen {
                fire = true;
            }
            let op = s.live.op_state();
            let before = OpState::from_u8(k.seen_op.swap(op as u8, Relaxed));
            // HAProxy's srv_set_stopped: checks, agent or `set server health
            // down`, but not maintenance.
            if op == OpState::Stopped
                && before != OpState::Stopped
                && s.cfg.on_marked_down_shutdown
                && !s.admin.is_maint()
            {
                k.down_gen.fetch_add(1, Relaxed);
                fire = true;
            }
            // HAProxy's srv_shutdown_backup_streams on an active server's
            // return.
            if before == OpState::Stopped
                && op != OpState::Stopped
                && s.cfg.on_marked_up_shutdown_backup
                && !s.cfg.backup
            {
                backups_go = true;
            }
            if fire {
                k.fire();
            }
        }
        if backups_go {
            for s in be.servers.iter().filter(|s| s.cfg.backup) {
                if let Some(ext) = server_ext_if_any(&s.live) {
                    ext.kill.up_gen.fetch_add(1, Relaxed);
                    ext.kill.fire();
                }
            }
        }
    }
}
