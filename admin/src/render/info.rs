//! `show info` in plain, `typed` and `json` forms, with HAProxy 2.6.12's
//! field list, order and tags.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use switchyard_state::Snapshot;

use super::field::{json_tags, json_value, typed_value, Val};
use super::fields_table::INFO_FIELDS;
use crate::command::{Format, InfoQuery};
use crate::ctx::AdminCtx;

/// `0d 0h00m01s`.
pub fn uptime_text(up: u64) -> String {
    format!(
        "{}d {}h{:02}m{:02}s",
        up / 86400,
        (up % 86400) / 3600,
        (up % 3600) / 60,
        up % 60
    )
}

/// The values of every info field (`Val::Empty` when not reported).
pub fn info_values(ctx: &AdminCtx, snap: &Snapshot) -> Vec<Val> {
    let up = ctx.uptime_secs();
    let mut cur = 0u64;
    let mut cum_conns = ctx.cli_conns.load(Relaxed);
    let mut cum_req = 0u64;
    let mut conn_rate = 0u64;
    let mut conn_rate_max = 0u64;
    let mut sess_rate = 0u64;
    let mut sess_rate_max = 0u64;
    let mut bytes_out = 0u64;
    let mut listeners = 0u64;
    for px in snap
        .proxies
        .iter()
        .filter(|p| p.frontend.is_some() && p.kind.has_frontend())
    {
        let c = &px.live.fe;
        cur += u64::from(c.scur.load(Relaxed));
        cum_conns += c.conn_tot.load(Relaxed);
        cum_req += c.req_tot.load(Relaxed);
        conn_rate += u64::from(c.conn_rate.rate());
        conn_rate_max = conn_rate_max.max(u64::from(c.conn_rate.max()));
        sess_rate += u64::from(c.sess_rate.rate());
        sess_rate_max = sess_rate_max.max(u64::from(c.sess_rate.max()));
        bytes_out += c.bout.load(Relaxed);
        listeners += px
            .cfg
            .frontend
            .as_ref()
            .map(|f| f.binds.len() as u64)
            .unwrap_or(0);
    }
    listeners += snap.config.global.stats_sockets.len() as u64;
    let cli_active = u64::from(ctx.cli_active.load(Relaxed));
    let maxconn = ctx.maxconn.load(Relaxed);
    let u = |v: u64| Val::U32(v.min(u64::from(u32::MAX)) as u32);
    let s = |v: &str| Val::Str(v.to_string());
    let mut vals = vec![Val::Empty; INFO_FIELDS.len()];
    let set: &mut dyn FnMut(&str, Val) = &mut |name: &str, v: Val| {
        if let Some(i) = INFO_FIELDS.iter().position(|f| f.0 == name) {
            vals[i] = v;
        }
    };
    set("Name", s(&ctx.name));
    set("Version", s(&ctx.version));
    set("Release_date", s(&ctx.release_date));
    set("Nbthread", u(u64::from(ctx.nbthread)));
    set("Nbproc", u(1));
    set("Process_num", u(1));
    set("Pid", u(u64::from(ctx.pid)));
    set("Uptime", s(&uptime_text(up)));
    set("Uptime_sec", u(up));
    for z in [
        "Memmax_MB",
        "PoolAlloc_MB",
        "PoolUsed_MB",
        "PoolFailed",
        "MaxSslConns",
        "CurrSslConns",
        "CumSslConns",
        "Maxpipes",
        "PipesUsed",
        "PipesFree",
        "ConnRateLimit",
        "SessRateLimit",
        "SslRate",
        "SslRateLimit",
        "MaxSslRate",
        "SslFrontendKeyRate",
        "SslFrontendMaxKeyRate",
        "SslFrontendSessionReuse_pct",
        "SslBackendKeyRate",
        "SslBackendMaxKeyRate",
        "SslCacheLookups",
        "SslCacheMisses",
        "CompressBpsIn",
        "CompressBpsOut",
        "CompressBpsRateLim",
        "Run_queue",
        "Unstoppable Jobs",
        "ActivePeers",
        "ConnectedPeers",
        "DroppedLogs",
        "BusyPolling",
        "FailedResolutions",
        "TotalSplicdedBytesOut",
        "BytesOutRate",
        "DebugCommandsIssued",
        "CumRecvLogs",
        "Memmax_bytes",
        "PoolAlloc_bytes",
        "PoolUsed_bytes",
    ] {
        set(z, u(0));
    }
    set("Ulimit-n", u(u64::from(ctx.ulimit_n)));
    set("Maxsock", u(u64::from(ctx.ulimit_n)));
    set("Maxconn", u(u64::from(maxconn)));
    set("Hard_maxconn", u(u64::from(ctx.hard_maxconn)));
    // CLI sessions run on "unlimited" listeners: they count in Jobs, not
    // in CurrConns (HAProxy shows 0 with hatop attached).
    set("CurrConns", u(cur));
    set("CumConns", u(cum_conns));
    set("CumReq", u(cum_req));
    set("ConnRate", u(conn_rate));
    set("MaxConnRate", u(conn_rate_max));
    set("SessRate", u(sess_rate));
    set("MaxSessRate", u(sess_rate_max));
    set(
        "Tasks",
        u(snap.proxies.len() as u64 + listeners + cli_active),
    );
    set("Idle_pct", u(100));
    set("node", s(&ctx.node));
    if let Some(d) = &ctx.description {
        set("description", s(d));
    }
    set("Stopping", u(u64::from(ctx.stopping.load(Relaxed))));
    set("Jobs", u(listeners + cur + cli_active));
    set("Listeners", u(listeners));
    set("TotalBytesOut", u(bytes_out));
    set("Build info", s(&ctx.version));
    set("Start_time_sec", u(ctx.start_ms / 1000));
    set("Tainted", s("0"));
    // Counters HAProxy keeps as 64-bit in typed output.
    for (i, f) in INFO_FIELDS.iter().enumerate() {
        if f.2 == "u64" {
            if let Val::U32(v) = vals[i] {
                vals[i] = Val::U64(u64::from(v));
            }
        }
    }
    vals
}

/// Render `show info`.
pub fn render(ctx: &AdminCtx, snap: &Snapshot, q: InfoQuery) -> String {
    let vals = info_values(ctx, snap);
    let mut out = String::new();
    match q.format {
        Format::Csv => {
            for (i, v) in vals.iter().enumerate() {
                if *v == Val::Empty {
                    continue;
                }
                out.push_str(INFO_FIELDS[i].0);
                out.push_str(": ");
                super::field::csv_cell(&mut out, v);
                out.push('\n');
            }
        }
        Format::Typed => {
            for (i, v) in vals.iter().enumerate() {
                if *v == Val::Empty {
                    continue;
                }
                let (name, tags, _, desc) = INFO_FIELDS[i];
                let _ = write!(out, "{i}.{name}.1:{tags}:");
                typed_value(&mut out, v);
                if q.desc {
                    let _ = write!(out, ":\"{desc}\"");
                }
                out.push('\n');
            }
        }
        Format::Json => {
            out.push('[');
            let mut started = false;
            for (i, v) in vals.iter().enumerate() {
                if *v == Val::Empty {
                    continue;
                }
                if started {
                    out.push(',');
                }
                started = true;
                let (name, tags, _, _) = INFO_FIELDS[i];
                let _ = write!(
                    out,
                    "{{\"field\":{{\"pos\":{i},\"name\":\"{name}\"}},\"processNum\":1,"
                );
                json_tags(&mut out, tags);
                json_value(&mut out, v);
                out.push('}');
            }
            out.push_str("]\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_format() {
        assert_eq!(uptime_text(1), "0d 0h00m01s");
        assert_eq!(uptime_text(90061), "1d 1h01m01s");
    }

    #[test]
    fn field_names_match_capture() {
        let cap = include_str!("../../tests/data/cli-show-info.txt");
        let names: Vec<&str> = cap
            .lines()
            .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
            .collect();
        let ours: Vec<&str> = INFO_FIELDS
            .iter()
            .map(|f| f.0)
            .filter(|n| !matches!(*n, "ZlibMemUsage" | "MaxZlibMemUsage" | "description"))
            .collect();
        assert_eq!(names, ours);
    }
}
