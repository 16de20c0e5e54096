//! `show servers conn`, `show servers state` and `show backend`, in
//! HAProxy 2.6's exact layouts (2.6 has no `served`/`idle_sess` columns, so
//! `cut -d " " -f 7` of a data row is `used_cur`).

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use switchyard_state::{CheckStatus, OpState, ProxyRt, ServerRt, Snapshot};

use super::stat_rows::conn_usage;
use crate::status::check_enabled;

const STATE_FIELDS: &str = "be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";

fn ip_text(sv: &ServerRt) -> String {
    sv.addr
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "-".into())
}

fn port(sv: &ServerRt) -> u16 {
    sv.addr
        .map(|a| a.port())
        .unwrap_or(sv.cfg.addr.port.unwrap_or(0))
}

/// The backends to dump: one (when named) or all, config order.
fn backends(snap: &Snapshot, only: Option<usize>) -> impl Iterator<Item = &ProxyRt> {
    snap.proxies
        .iter()
        .enumerate()
        .filter(move |(i, p)| only.is_none_or(|o| o == *i) && p.kind.has_backend())
        .map(|(_, p)| &**p)
}

/// `show servers conn [<backend>]`; `only` is the backend's index.
pub fn servers_conn(snap: &Snapshot, only: Option<usize>, nbthread: u32) -> String {
    let mut out = format!(
        "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[{nbthread}]\n"
    );
    for px in backends(snap, only) {
        let Some(be) = &px.backend else { continue };
        for sv in &be.servers {
            let (cur, max, need) = conn_usage(sv);
            let idle = sv.live.idle_conns.load(Relaxed);
            let _ = write!(
                out,
                "{}/{} {}/{} {} {} - 5000 {} {} {} {} 0 -1 {}",
                px.name,
                sv.name,
                px.id,
                sv.id,
                ip_text(sv),
                port(sv),
                cur,
                max,
                need,
                idle,
                idle
            );
            for t in 0..nbthread {
                let _ = write!(out, " {}", if t == 0 { idle } else { 0 });
            }
            out.push('\n');
        }
    }
    out
}

/// HAProxy's `CHK_RES_*` for a check status.
fn check_result(s: CheckStatus) -> u32 {
    use CheckStatus::*;
    match s {
        Unk | Ini | Start => 0,
        Checked => 1,
        L4Ok | L6Ok | L7Ok | ProcOk => 3,
        L7OkC => 4,
        Hana | SockErr | L4Tout | L4Con | L6Tout | L6Rsp | L7Tout | L7Rsp | L7Sts | ProcErr
        | ProcTout => 2,
    }
}

/// `srv_check_state` bits: 0x1 running, 0x2 configured, 0x4 enabled,
/// 0x8 paused (maintenance).
fn check_state(sv: &ServerRt) -> u32 {
    if !sv.cfg.check {
        return 0;
    }
    let mut s = 0x2;
    if check_enabled(sv) {
        s |= 0x4;
    }
    if sv.admin.is_maint() {
        s |= 0x8;
    }
    if sv.live.check_running.load(Relaxed) {
        s |= 0x1;
    }
    s
}

fn agent_state(sv: &ServerRt) -> u32 {
    if sv.cfg.agent_check && sv.cfg.agent_port.is_some() {
        0x10 | 0x2 | 0x4 | if sv.admin.is_maint() { 0x8 } else { 0 }
    } else {
        0
    }
}

/// `show servers state [<backend>]`.
pub fn servers_state(snap: &Snapshot, only: Option<usize>, now_ms: u64) -> String {
    let mut out = format!("1\n# {STATE_FIELDS}\n");
    for px in backends(snap, only) {
        let Some(be) = &px.backend else { continue };
        for sv in &be.servers {
            let live = &sv.live;
            let op = if sv.admin.is_maint() {
                OpState::Stopped
            } else {
                live.op_state()
            };
            let since = (now_ms / 1000).saturating_sub(live.last_change_ms.load(Relaxed) / 1000);
            let fqdn = if sv.cfg.addr.ip.is_none() {
                sv.cfg.addr.host.as_str()
            } else {
                "-"
            };
            let check_addr = sv
                .cfg
                .check_addr
                .map(|a| a.to_string())
                .unwrap_or_else(|| "-".into());
            let agent_addr = sv
                .cfg
                .agent_addr
                .map(|a| a.to_string())
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} - {} {} {} {} {}",
                px.id,
                px.name,
                sv.id,
                sv.name,
                ip_text(sv),
                op as u8,
                sv.admin.0,
                sv.uweight,
                sv.iweight,
                since,
                // HAProxy initialises every server's check status to INI.
                match live.check_status() {
                    CheckStatus::Unk => CheckStatus::Ini as u8,
                    st => st as u8,
                },
                check_result(live.check_status()),
                live.health.load(Relaxed),
                check_state(sv),
                agent_state(sv),
                u8::from(px.cfg.forced_id),
                u8::from(sv.cfg.forced_id_flag),
                fqdn,
                port(sv),
                u8::from(sv.cfg.ssl),
                sv.cfg.check_port.unwrap_or(0),
                check_addr,
                agent_addr,
                sv.cfg.agent_port.unwrap_or(0),
            );
        }
    }
    out
}

/// `show backend`.
pub fn show_backend(snap: &Snapshot) -> String {
    let mut out = String::from("# name\n");
    for px in snap.proxies.iter().filter(|p| p.kind.has_backend()) {
        out.push_str(&px.name);
        out.push('\n');
    }
    out
}
