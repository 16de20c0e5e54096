//! Frontend and process commands: `enable/disable/shutdown frontend`,
//! `set maxconn frontend|global`, `shutdown session`, `clear counters`.

use std::sync::atomic::Ordering::Relaxed;

use switchyard_config::{CliLevel, ProxyKind};
use switchyard_state::events;

use super::lookup;
use super::{need, Env, Outcome, SessionState, SEV_NOTICE};
use crate::command::{Command, FrontendOp};
use switchyard_config::cnum::atoi;

pub(crate) fn exec(cmd: Command, sess: &SessionState, env: &Env) -> Result<Outcome, Outcome> {
    match cmd {
        Command::Frontend { frontend, op } => {
            need(sess, CliLevel::Admin)?;
            let snap = env.store.load();
            let pi = lookup::frontend_arg(&snap, &frontend)?;
            let px = snap
                .proxy(pi)
                .ok_or_else(|| Outcome::err("No such frontend.\n"))?;
            let live = &px.live;
            let stopped = live.fe_stopped.load(Relaxed);
            let kind = if px.kind == ProxyKind::Listen {
                "proxy"
            } else {
                "frontend"
            };
            match op {
                FrontendOp::Disable => {
                    if stopped {
                        return Ok(Outcome::msg(
                            SEV_NOTICE,
                            "Frontend was previously shut down, cannot disable.\n",
                        ));
                    }
                    if live.fe_paused.swap(true, Relaxed) {
                        return Ok(Outcome::msg(
                            SEV_NOTICE,
                            "All sockets are already disabled.\n",
                        ));
                    }
                    events::warning(&format!("Paused {kind} {}.", px.name));
                }
                FrontendOp::Enable => {
                    if stopped {
                        return Err(Outcome::err(
                            "Frontend was previously shut down, cannot enable.\n",
                        ));
                    }
                    if !live.fe_paused.swap(false, Relaxed) {
                        return Ok(Outcome::msg(
                            SEV_NOTICE,
                            "All sockets are already enabled.\n",
                        ));
                    }
                    events::warning(&format!("Resumed {kind} {}.", px.name));
                }
                FrontendOp::Shutdown => {
                    if live.fe_stopped.swap(true, Relaxed) {
                        return Ok(Outcome::msg(
                            SEV_NOTICE,
                            "Frontend was already shut down.\n",
                        ));
                    }
                    events::warning(&format!(
                        "Proxy {} stopped (cumulated conns: FE: {}, BE: {}).",
                        px.name,
                        live.fe.conn_tot.load(Relaxed),
                        live.be.stot.load(Relaxed)
                    ));
                }
            }
            Ok(Outcome::empty())
        }
        Command::SetMaxconnFrontend { frontend, value } => {
            need(sess, CliLevel::Admin)?;
            let snap = env.store.load();
            let pi = lookup::frontend_arg(&snap, &frontend)?;
            if value.is_empty() {
                return Err(Outcome::err("Integer value expected.\n"));
            }
            let v = atoi(&value);
            if v < 0 {
                return Err(Outcome::err("Value out of range.\n"));
            }
            if let Some(px) = snap.proxy(pi) {
                px.live
                    .fe_maxconn_override
                    .store(u64::from(v as u32), Relaxed);
            }
            Ok(Outcome::empty())
        }
        Command::SetMaxconnGlobal { value } => {
            need(sess, CliLevel::Admin)?;
            if value.is_empty() {
                return Err(Outcome::err("Expects an integer value.\n"));
            }
            let v = atoi(&value);
            let hard = env.ctx.hard_maxconn;
            if v > 0 && v as u32 > hard {
                return Err(Outcome::err("Value out of range.\n"));
            }
            env.ctx
                .maxconn
                .store(if v <= 0 { hard } else { v as u32 }, Relaxed);
            Ok(Outcome::empty())
        }
        Command::ShutdownSession { id } => {
            need(sess, CliLevel::Admin)?;
            if id.is_empty() {
                return Err(Outcome::err(
                    "Session pointer expected (use 'show sess').\n",
                ));
            }
            Err(Outcome::err("No such session (use 'show sess').\n"))
        }
        Command::ClearCounters { all } => {
            need(sess, CliLevel::Operator)?;
            if all {
                need(sess, CliLevel::Admin)?;
            }
            let snap = env.store.load();
            for px in &snap.proxies {
                let l = &px.live;
                if all {
                    l.fe.reset_all();
                    l.be.reset_all();
                } else {
                    l.fe.reset_maxima();
                    l.be.reset_maxima();
                }
                if let Some(be) = &px.backend {
                    for sv in &be.servers {
                        if all {
                            sv.live.counters.reset_all();
                            sv.live.chkfail.store(0, Relaxed);
                            sv.live.chkdown.store(0, Relaxed);
                            sv.live.hanafail.store(0, Relaxed);
                        } else {
                            sv.live.counters.reset_maxima();
                        }
                    }
                }
            }
            Ok(Outcome::empty())
        }
        _ => Err(Outcome::err("Internal error.\n")),
    }
}
