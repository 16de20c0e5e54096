//! Server commands: `set server`, `get/set weight`, `set maxconn server`,
//! `enable/disable server|health|agent`, `shutdown sessions server`.
//! Admin-state changes are published as a new snapshot, then the health
//! crate applies their consequences to live state (and logs them).

use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use switchyard_config::CliLevel;
use switchyard_health::{
    admin_state_changed, force_health, set_checks_enabled, weight_changed, Forced,
};
use switchyard_state::{AdminState, ProxyIdx, ServerIdx, ServerRt, Snapshot};

use switchyard_config::cnum::strtol;

use super::lookup;
use super::{need, Env, Outcome, SessionState, SEV_NOTICE, SEV_WARNING};
use crate::command::{Command, ServerOp, ServerToggle};

pub(crate) fn exec(cmd: Command, sess: &SessionState, env: &Env) -> Result<Outcome, Outcome> {
    match cmd {
        Command::GetWeight { target } => get_weight(env, &target),
        Command::SetWeight { target, weight } => {
            need(sess, CliLevel::Admin)?;
            let (p, s) = lookup::server(&env.store.load(), &target)?;
            set_weight(env, p, s, &weight)
        }
        Command::SetServer { target, op } => {
            need(sess, CliLevel::Admin)?;
            let (p, s) = lookup::server(&env.store.load(), &target)?;
            set_server(env, p, s, op)
        }
        Command::SetMaxconnServer { target, value } => {
            need(sess, CliLevel::Admin)?;
            let (p, s) = lookup::server(&env.store.load(), &target)?;
            if value.is_empty() {
                return Err(Outcome::err("Require <maxconn>.\n"));
            }
            let v = match strtol(&value) {
                (None, _) => {
                    return Err(Outcome::err("maxconn string empty or preceded by garbage"))
                }
                (Some(_), rest) if !rest.is_empty() => {
                    return Err(Outcome::err("Trailing garbage in maxconn string"))
                }
                // Stored in an unsigned int, as C does: -1 is 4294967295.
                (Some(v), _) => v as u32,
            };
            edit_server(env, p, s, |sv| {
                sv.maxconn = Some(v);
                Ok(())
            })?;
            Ok(Outcome::empty())
        }
        Command::ServerToggle { target, op } => {
            need(sess, CliLevel::Admin)?;
            let (p, s) = lookup::server(&env.store.load(), &target)?;
            toggle(env, p, s, op)
        }
        Command::ShutdownSessionsServer { target } => {
            need(sess, CliLevel::Admin)?;
            let snap = env.store.load();
            let (p, s) = lookup::server(&snap, &target)?;
            if let Some(sv) = snap.server(p, s) {
                sv.live.shutdown_gen.fetch_add(1, Relaxed);
            }
            Ok(Outcome::empty())
        }
        _ => Err(Outcome::err("Internal error.\n")),
    }
}

fn get_weight(env: &Env, target: &str) -> Result<Outcome, Outcome> {
    let (be, sv) = target.split_once('/').unwrap_or((target, ""));
    if sv.is_empty() {
        return Err(Outcome::err("Require 'backend/server'.\n"));
    }
    let snap = env.store.load();
    let (p, s) = lookup::backend_server(&snap, be, sv).map_err(|no_be| {
        Outcome::err(if no_be {
            "No such backend.\n"
        } else {
            "No such server.\n"
        })
    })?;
    let sv = snap
        .server(p, s)
        .ok_or_else(|| Outcome::err("No such server.\n"))?;
    Ok(Outcome::dump(format!(
        "{} (initial {})\n",
        sv.uweight, sv.iweight
    )))
}

/// Edit one server in a copy of the snapshot and publish it; returns the
/// snapshots before and after for the health transitions.
fn edit_server(
    env: &Env,
    p: ProxyIdx,
    s: ServerIdx,
    f: impl FnOnce(&mut ServerRt) -> Result<(), Outcome>,
) -> Result<(Snapshot, Snapshot), Outcome> {
    env.store.update(|snap| {
        let before = snap.clone();
        let sv = snap
            .server_mut(p, s)
            .ok_or_else(|| Outcome::err("No such server.\n"))?;
        f(sv)?;
        Ok((before, snap.clone()))
    })
}

/// Change admin bits, publish, then apply the consequences.
fn set_admin(env: &Env, p: ProxyIdx, s: ServerIdx, set: u8, clear: u8) -> Result<Outcome, Outcome> {
    let (before, after) = edit_server(env, p, s, |sv| {
        sv.change_admin(set, clear);
        Ok(())
    })?;
    if let Err(e) = admin_state_changed(&before, &after, p, s) {
        tracing::warn!("admin state transition: {e}");
    }
    Ok(Outcome::empty())
}

fn is_static_algo(sv_px: &switchyard_state::ProxyRt) -> bool {
    sv_px.cfg.backend.as_ref().is_some_and(|b| {
        b.balance.is_static() && !b.hash_type.as_deref().unwrap_or("").contains("consistent")
    })
}

/// `server_parse_weight_change_request`, messages and order included.
fn set_weight(env: &Env, p: ProxyIdx, s: ServerIdx, w: &str) -> Result<Outcome, Outcome> {
    if w.is_empty() {
        return Err(Outcome::err("Require <weight> or <weight%>.\n"));
    }
    let snap = env.store.load();
    let (px, sv) = match (snap.proxy(p), snap.server(p, s)) {
        (Some(px), Some(sv)) => (px, sv),
        _ => return Err(Outcome::err("No such server.\n")),
    };
    let (v, rest) = strtol(w);
    let Some(mut v) = v else {
        return Err(Outcome::err(
            "Empty weight string empty or preceded by garbage",
        ));
    };
    if rest == "%" {
        if v < 0 {
            return Err(Outcome::err("Relative weight must be positive.\n"));
        }
        v = v.min(25600);
        v = (i64::from(sv.iweight) * v / 100).min(256);
    } else if !(0..=256).contains(&v) {
        return Err(Outcome::err(
            "Absolute weight can only be between 0 and 256 inclusive.\n",
        ));
    } else if !rest.is_empty() {
        return Err(Outcome::err("Trailing garbage in weight string"));
    }
    let v = v as u32;
    if v != 0 && v != sv.iweight && is_static_algo(px) {
        return Err(Outcome::err(
            "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n",
        ));
    }
    drop(snap);
    let (before, after) = edit_server(env, p, s, |sv| {
        sv.set_uweight(v);
        Ok(())
    })?;
    if let Err(e) = weight_changed(&before, &after, p, s) {
        tracing::warn!("weight change: {e}");
    }
    Ok(Outcome::empty())
}

fn toggle(env: &Env, p: ProxyIdx, s: ServerIdx, op: ServerToggle) -> Result<Outcome, Outcome> {
    let snap = env.store.load_full();
    let sv = snap
        .server(p, s)
        .ok_or_else(|| Outcome::err("No such server.\n"))?;
    match op {
        ServerToggle::EnableServer => {
            set_admin(env, p, s, 0, AdminState::FMAINT | AdminState::FDRAIN)
        }
        ServerToggle::DisableServer => set_admin(env, p, s, AdminState::FMAINT, AdminState::FDRAIN),
        ServerToggle::EnableHealth => {
            if !sv.cfg.check {
                return Err(Outcome::err(
                    "Health check was not configured on this server, cannot enable.\n",
                ));
            }
            let _ = set_checks_enabled(&snap, p, s, true);
            Ok(Outcome::empty())
        }
        ServerToggle::DisableHealth => {
            let _ = set_checks_enabled(&snap, p, s, false);
            Ok(Outcome::empty())
        }
        ServerToggle::EnableAgent => {
            if !(sv.cfg.agent_check && sv.cfg.agent_port.is_some()) {
                return Err(Outcome::err(
                    "Agent was not configured on this server, cannot enable.\n",
                ));
            }
            Ok(Outcome::empty())
        }
        ServerToggle::DisableAgent => Ok(Outcome::empty()),
    }
}

fn agent_enabled(sv: &ServerRt) -> bool {
    sv.cfg.agent_check && sv.cfg.agent_port.is_some()
}

/// HAProxy's `strl2irc`: the whole string must be an integer.
fn whole_int(s: &str) -> Option<i64> {
    match strtol(s) {
        (Some(v), "") if !s.starts_with([' ', '\t']) => Some(v),
        _ => None,
    }
}

fn port_check(port: &str) -> Result<u16, String> {
    let v = whole_int(port).ok_or_else(|| "provided port is not an integer".to_string())?;
    u16::try_from(v).map_err(|_| "provided port is invalid".to_string())
}

fn set_server(env: &Env, p: ProxyIdx, s: ServerIdx, op: ServerOp) -> Result<Outcome, Outcome> {
    let snap = env.store.load_full();
    let sv = snap
        .server(p, s)
        .ok_or_else(|| Outcome::err("No such server.\n"))?;
    match op {
        ServerOp::Weight(w) => set_weight(env, p, s, &w),
        ServerOp::State(st) => match st.as_str() {
            "ready" => set_admin(env, p, s, 0, AdminState::FMAINT | AdminState::FDRAIN),
            "drain" => set_admin(env, p, s, AdminState::FDRAIN, AdminState::FMAINT),
            "maint" => set_admin(env, p, s, AdminState::FMAINT, AdminState::FDRAIN),
            _ => Err(Outcome::err("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n")),
        },
        ServerOp::Health(h) => {
            if sv.cfg.track.is_some() {
                return Err(Outcome::err("cannot change health on a tracking server.\n"));
            }
            let forced = match h.as_str() {
                "up" => Forced::Up,
                "stopping" => Forced::Stopping,
                "down" => Forced::Down,
                _ => return Err(Outcome::err("'set server <srv> health' expects 'up', 'stopping', or 'down'.\n")),
            };
            if let Err(e) = force_health(&snap, p, s, forced) {
                tracing::warn!("set server health: {e}");
            }
            Ok(Outcome::empty())
        }
        ServerOp::Agent(a) => {
            if !agent_enabled(sv) {
                return Err(Outcome::err("agent checks are not enabled on this server.\n"));
            }
            let forced = match a.as_str() {
                "up" => Forced::Up,
                "down" => Forced::Down,
                _ => return Err(Outcome::err("'set server <srv> agent' expects 'up' or 'down'.\n")),
            };
            let _ = force_health(&snap, p, s, forced);
            Ok(Outcome::empty())
        }
        ServerOp::AgentAddr { addr, port } => {
            if addr.is_empty() {
                return Err(Outcome::err("set server <b>/<s> agent-addr requires an address and optionally a port.\n"));
            }
            if !agent_enabled(sv) {
                return Ok(Outcome::msg(SEV_WARNING, "agent checks are not enabled on this server"));
            }
            let ip: IpAddr = addr.parse().map_err(|_| Outcome::msg(SEV_WARNING, format!("invalid addr '{addr}'")))?;
            let port = port.map(|p| port_check(&p)).transpose().map_err(|m| Outcome::msg(SEV_WARNING, m))?;
            edit_cfg(env, p, s, |c| {
                c.agent_addr = Some(ip);
                if let Some(port) = port {
                    c.agent_port = Some(port);
                }
            })
        }
        ServerOp::AgentPort(port) => {
            if port.is_empty() {
                return Err(Outcome::err("set server <b>/<s> agent-port requires a port.\n"));
            }
            if !agent_enabled(sv) {
                return Ok(Outcome::msg(SEV_WARNING, "agent checks are not enabled on this server"));
            }
            let port = port_check(&port).map_err(|m| Outcome::msg(SEV_WARNING, m))?;
            edit_cfg(env, p, s, |c| c.agent_port = Some(port))
        }
        ServerOp::AgentSend(text) => {
            if !agent_enabled(sv) {
                return Err(Outcome::err("agent checks are not enabled on this server.\n"));
            }
            edit_cfg(env, p, s, |c| c.agent_send = Some(text.clone()))
        }
        ServerOp::CheckAddr { addr, port } => {
            if addr.is_empty() {
                return Err(Outcome::err("set server <b>/<s> check-addr requires an address and optionally a port.\n"));
            }
            if !crate::status::check_enabled(sv) {
                return Ok(Outcome::msg(SEV_WARNING, "health checks are not enabled on this server"));
            }
            let ip: IpAddr = addr.parse().map_err(|_| Outcome::msg(SEV_WARNING, format!("invalid addr '{addr}'")))?;
            let port = port.map(|p| port_check(&p)).transpose().map_err(|m| Outcome::msg(SEV_WARNING, m))?;
            edit_cfg(env, p, s, |c| {
                c.check_addr = Some(ip);
                if let Some(port) = port {
                    c.check_port = Some(port);
                }
            })
        }
        ServerOp::CheckPort(port) => {
            if port.is_empty() {
                return Err(Outcome::err("set server <b>/<s> check-port requires a port.\n"));
            }
            if !crate::status::check_enabled(sv) {
                return Ok(Outcome::msg(SEV_WARNING, "health checks are not enabled on this server"));
            }
            let port = port_check(&port).map_err(|m| Outcome::msg(SEV_WARNING, m))?;
            edit_cfg(env, p, s, |c| c.check_port = Some(port))
        }
        ServerOp::Addr { addr, port } => {
            if addr.is_empty() {
                return Err(Outcome::err("set server <b>/<s> addr requires an address and optionally a port.\n"));
            }
            set_addr(env, p, s, sv, &addr, port.as_deref())
        }
        ServerOp::Fqdn(name) => {
            if name.is_empty() {
                return Err(Outcome::err("set server <b>/<s> fqdn requires a FQDN.\n"));
            }
            if sv.cfg.resolvers.is_none() {
                return Err(Outcome::err("set server <b>/<s> fqdn failed because no resolution is configured.\n"));
            }
            let old = sv.cfg.addr.host.clone();
            let pxname = snap.proxy(p).map(|x| x.name.to_string()).unwrap_or_default();
            let svname = sv.name.to_string();
            edit_cfg(env, p, s, |c| {
                c.addr.host = name.clone();
                c.addr.ip = None;
            })?;
            Ok(Outcome::msg(
                SEV_WARNING,
                format!("{pxname}/{svname} changed its FQDN from {old} to {name} by 'stats socket command'\n"),
            ))
        }
        ServerOp::Ssl(v) => {
            // Settings compiled from the config (HAProxy: `ssl_ctx.ctx`),
            // so `ssl off` can be turned back on.
            if sv.tls.is_none() {
                return Err(Outcome::err(
                    "'set server <srv> ssl' cannot be set.  default-server should define ssl settings\n",
                ));
            }
            let on = match v.as_str() {
                "on" => true,
                "off" => false,
                _ => return Err(Outcome::err("'set server <srv> ssl' expects 'on' or 'off'.\n")),
            };
            edit_cfg(env, p, s, |c| c.ssl = on)?;
            Ok(Outcome::msg(SEV_NOTICE, "server ssl setting updated.\n"))
        }
        ServerOp::Unknown => Err(Outcome::err(
            "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n",
        )),
    }
}

/// Change the server's configuration copy in a new snapshot.
fn edit_cfg(
    env: &Env,
    p: ProxyIdx,
    s: ServerIdx,
    f: impl FnOnce(&mut switchyard_config::Server),
) -> Result<Outcome, Outcome> {
    edit_server(env, p, s, |sv| {
        f(Arc::make_mut(&mut sv.cfg));
        Ok(())
    })?;
    Ok(Outcome::empty())
}

/// `srv_update_addr_port` with its report texts.
fn set_addr(
    env: &Env,
    p: ProxyIdx,
    s: ServerIdx,
    sv: &ServerRt,
    addr: &str,
    port: Option<&str>,
) -> Result<Outcome, Outcome> {
    const BY: &str = " by 'stats socket command'\n";
    let warn = |m: String| Outcome::msg(SEV_WARNING, format!("{m}{BY}"));
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return Ok(warn(format!("Invalid addr '{addr}'")));
    };
    let cur_ip = sv.addr.map(|a| a.ip());
    let cur_port = sv
        .addr
        .map(|a| a.port())
        .unwrap_or(sv.cfg.addr.port.unwrap_or(0));
    let mut msg = String::new();
    let mut new_ip = None;
    if cur_ip == Some(ip) {
        msg.push_str("no need to change the addr");
    } else {
        let cur = cur_ip
            .map(|i| i.to_string())
            .unwrap_or_else(|| "0.0.0.0".into());
        msg.push_str(&format!("IP changed from '{cur}' to '{addr}'"));
        new_ip = Some(ip);
    }
    let mut new_port = None;
    if let Some(port) = port {
        msg.push_str(", ");
        let (v, _) = strtol(port);
        match v {
            Some(v) if (0..=65535).contains(&v) || port.starts_with(['+', '-']) => {
                if port.starts_with(['+', '-']) && sv.cfg.check_port.is_none() {
                    msg.push_str("can't change <port> to port map because it is incompatible with current health check port configuration (use 'port' statement from the 'server' directive.");
                } else {
                    let v = v.unsigned_abs().min(65535) as u16;
                    if v != cur_port {
                        msg.push_str(&format!("port changed from '{cur_port}' to '{v}'"));
                        new_port = Some(v);
                    } else {
                        msg.push_str("no need to change the port");
                    }
                }
            }
            _ => msg.push_str(&format!("problem converting port '{port}' to an int")),
        }
    }
    if new_ip.is_some() || new_port.is_some() {
        let ip = new_ip.or(cur_ip).unwrap_or(ip);
        let port = new_port.unwrap_or(cur_port);
        let (before, after) = edit_server(env, p, s, |sv| {
            sv.addr = Some(std::net::SocketAddr::new(ip, port));
            sv.change_admin(0, AdminState::RMAINT);
            Ok(())
        })?;
        let _ = admin_state_changed(&before, &after, p, s);
    }
    Ok(warn(msg))
}
