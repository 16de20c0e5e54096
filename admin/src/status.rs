//! HAProxy 2.6's status strings, as pure functions: the server `status`
//! column (`UP`, `UP 1/3`, `DOWN 1/2`, `NOLB`, `DRAIN`, `MAINT`,
//! `MAINT (resolution)`, `MAINT (via b/s)`, `no check`), the backend one
//! (`UP`, `DOWN`, `UP (n/m)`) and the frontend one (`OPEN`, `PAUSED`,
//! `STOP`). The stats page, the CSV and `ctl` share them.

use std::sync::atomic::Ordering::Relaxed;

use switchyard_state::{AdminState, OpState, ServerRt, Snapshot};

/// Everything the server status depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFacts {
    pub admin: AdminState,
    pub op: OpState,
    /// Health checks configured and enabled (of the tracked server when
    /// tracking).
    pub check_enabled: bool,
    pub health: u32,
    pub rise: u32,
    pub fall: u32,
    /// Op state of the checked server (the end of a `track` chain).
    pub ref_op: OpState,
    pub agent_enabled: bool,
    /// Agent health; `agent_rise` or more means up.
    pub agent_health: u32,
    /// `backend/server` this server tracks directly, if any.
    pub track_via: Option<String>,
}

impl ServerFacts {
    /// Gather the facts of `sv` in `snap` (following `track`).
    pub fn of(snap: &Snapshot, sv: &ServerRt) -> ServerFacts {
        let checked = track_end(snap, sv).unwrap_or(sv);
        let agent_enabled = sv.cfg.agent_check && sv.cfg.agent_port.is_some();
        ServerFacts {
            admin: sv.admin,
            op: sv.live.op_state(),
            check_enabled: check_enabled(checked),
            health: checked.live.health.load(Relaxed),
            rise: checked.cfg.rise,
            fall: checked.cfg.fall,
            ref_op: checked.live.op_state(),
            agent_enabled,
            agent_health: 1,
            track_via: sv.cfg.track.as_ref().map(|t| track_name(snap, sv, t)),
        }
    }
}

/// Checks configured and currently enabled on this server.
pub fn check_enabled(sv: &ServerRt) -> bool {
    sv.cfg.check && sv.live.checks_enabled.load(Relaxed)
}

/// `backend/server` for a `track` argument (`s` alone means the same
/// backend).
fn track_name(snap: &Snapshot, sv: &ServerRt, track: &str) -> String {
    if track.contains('/') {
        return track.to_string();
    }
    let be = snap
        .proxies
        .iter()
        .find(|p| {
            p.backend
                .as_ref()
                .is_some_and(|b| b.servers.iter().any(|s| std::ptr::eq(s, sv)))
        })
        .map(|p| p.name.to_string())
        .unwrap_or_default();
    format!("{be}/{track}")
}

/// The server at the end of `sv`'s `track` chain, if it tracks one.
pub fn track_end<'a>(snap: &'a Snapshot, sv: &'a ServerRt) -> Option<&'a ServerRt> {
    let mut cur = sv;
    let mut hops = 0;
    while let Some(t) = cur.cfg.track.as_deref() {
        let name = track_name(snap, cur, t);
        let (b, s) = name.split_once('/')?;
        let (p, i) = snap.find_server(b, s)?;
        cur = snap.server(p, i)?;
        hops += 1;
        if hops > 32 {
            return None;
        }
    }
    (hops > 0).then_some(cur)
}

/// The `status` column of a server row.
pub fn server_status(f: &ServerFacts) -> String {
    if f.admin.has(AdminState::RMAINT) {
        return "MAINT (resolution)".into();
    }
    if f.admin.has(AdminState::IMAINT) {
        return format!("MAINT (via {})", f.track_via.as_deref().unwrap_or("?"));
    }
    if f.admin.is_maint() {
        return "MAINT".into();
    }
    let full = f.rise + f.fall - 1;
    let (x, y) = if f.ref_op != OpState::Stopped {
        (f.health.saturating_sub(f.rise) + 1, f.fall)
    } else {
        (f.health, f.rise)
    };
    let with = |s: &str| format!("{s} {x}/{y}");
    match f.op {
        OpState::Running | OpState::Starting => {
            let going_down = f.check_enabled && f.health < full;
            if f.admin.is_drain() {
                if f.agent_enabled {
                    "DRAIN (agent)".into()
                } else if going_down {
                    with("DRAIN")
                } else {
                    "DRAIN".into()
                }
            } else if going_down {
                with("UP")
            } else if !f.check_enabled {
                "no check".into()
            } else {
                "UP".into()
            }
        }
        OpState::Stopping => {
            if (!f.check_enabled && f.track_via.is_none()) || f.health == full {
                "NOLB".into()
            } else {
                with("NOLB")
            }
        }
        OpState::Stopped => {
            if f.agent_enabled && f.agent_health == 0 {
                "DOWN (agent)".into()
            } else if f.check_enabled && f.health == 0 {
                "DOWN".into()
            } else if f.agent_enabled || f.check_enabled {
                with("DOWN")
            } else {
                "DOWN".into()
            }
        }
    }
}

/// The `status` column of a BACKEND row: `UP` when some usable weight
/// remains or the backend has no server at all; with the `up`/`no-maint`
/// filters `(servers not stopped/servers)` is appended.
pub fn backend_status(
    usable_weight: u64,
    server_count: usize,
    filtered: Option<(usize, usize)>,
) -> String {
    let base = if usable_weight > 0 || server_count == 0 {
        "UP"
    } else {
        "DOWN"
    };
    match filtered {
        Some((up, all)) => format!("{base} ({up}/{all})"),
        None => base.to_string(),
    }
}

/// The `status` column of a FRONTEND row (2.6.12 shows `PAUSED` after
/// `disable frontend`).
pub fn frontend_status(stopped: bool, paused: bool) -> &'static str {
    if stopped {
        "STOP"
    } else if paused {
        "PAUSED"
    } else {
        "OPEN"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(op: OpState, health: u32) -> ServerFacts {
        ServerFacts {
            admin: AdminState::default(),
            op,
            check_enabled: true,
            health,
            rise: 2,
            fall: 3,
            ref_op: op,
            agent_enabled: false,
            agent_health: 1,
            track_via: None,
        }
    }

    #[test]
    fn server_table() {
        let drain = AdminState(AdminState::FDRAIN);
        let maint = AdminState(AdminState::FMAINT);
        let cases: Vec<(ServerFacts, &str)> = vec![
            (f(OpState::Running, 4), "UP"),
            (f(OpState::Running, 2), "UP 1/3"),
            (f(OpState::Running, 3), "UP 2/3"),
            (f(OpState::Stopped, 0), "DOWN"),
            (f(OpState::Stopped, 1), "DOWN 1/2"),
            (f(OpState::Stopping, 4), "NOLB"),
            (f(OpState::Stopping, 3), "NOLB 2/3"),
            (
                ServerFacts {
                    admin: drain,
                    ..f(OpState::Running, 4)
                },
                "DRAIN",
            ),
            (
                ServerFacts {
                    admin: drain,
                    ..f(OpState::Running, 2)
                },
                "DRAIN 1/3",
            ),
            (
                ServerFacts {
                    admin: drain,
                    agent_enabled: true,
                    ..f(OpState::Running, 4)
                },
                "DRAIN (agent)",
            ),
            (
                ServerFacts {
                    admin: maint,
                    ..f(OpState::Stopped, 0)
                },
                "MAINT",
            ),
            (
                ServerFacts {
                    admin: AdminState(AdminState::RMAINT),
                    ..f(OpState::Stopped, 0)
                },
                "MAINT (resolution)",
            ),
            (
                ServerFacts {
                    admin: AdminState(AdminState::IMAINT),
                    track_via: Some("b/s".into()),
                    ..f(OpState::Stopped, 0)
                },
                "MAINT (via b/s)",
            ),
            (
                ServerFacts {
                    check_enabled: false,
                    ..f(OpState::Running, 2)
                },
                "no check",
            ),
            (
                ServerFacts {
                    check_enabled: false,
                    ..f(OpState::Stopped, 0)
                },
                "DOWN",
            ),
            (
                ServerFacts {
                    agent_enabled: true,
                    agent_health: 0,
                    ..f(OpState::Stopped, 2)
                },
                "DOWN (agent)",
            ),
        ];
        for (facts, want) in cases {
            assert_eq!(server_status(&facts), want, "{facts:?}");
        }
    }

    #[test]
    fn backend_and_frontend() {
        assert_eq!(backend_status(1, 2, None), "UP");
        assert_eq!(backend_status(0, 2, None), "DOWN");
        assert_eq!(backend_status(0, 0, None), "UP");
        assert_eq!(backend_status(1, 2, Some((1, 2))), "UP (1/2)");
        assert_eq!(frontend_status(false, false), "OPEN");
        assert_eq!(frontend_status(false, true), "PAUSED");
        assert_eq!(frontend_status(true, false), "STOP");
    }
}
