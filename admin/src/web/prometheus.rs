//! `http-request use-service prometheus-exporter`: HAProxy 2.6.12's metric
//! names, HELP/TYPE lines, labels and order, filled from the same values
//! as `show stat` / `show info` (empty fields are `NaN`, as in HAProxy).

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use switchyard_state::{CheckStatus, OpState, ServerRt, Snapshot};

use super::prom_table::METRICS;
use crate::ctx::AdminCtx;
use crate::render::field::Val;
use crate::render::fields_table::INFO_FIELDS;
use crate::render::info::info_values;
use crate::render::stat_rows::{collect, Row, RowCtx, RowFilter, RowKind};

/// Which scopes `?scope=` selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scopes {
    global: bool,
    frontend: bool,
    backend: bool,
    server: bool,
    no_maint: bool,
}

fn parse_query(query: &str) -> Scopes {
    let mut s = Scopes {
        global: true,
        frontend: true,
        backend: true,
        server: true,
        no_maint: false,
    };
    let mut first_scope = true;
    for kv in query.split('&').filter(|k| !k.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "scope" => {
                if first_scope || v.is_empty() {
                    s.global = false;
                    s.frontend = false;
                    s.backend = false;
                    s.server = false;
                    first_scope = false;
                }
                match v {
                    "global" => s.global = true,
                    "frontend" => s.frontend = true,
                    "backend" => s.backend = true,
                    "server" => s.server = true,
                    "*" => {
                        s.global = true;
                        s.frontend = true;
                        s.backend = true;
                        s.server = true;
                    }
                    _ => {}
                }
            }
            "no-maint" => s.no_maint = true,
            _ => {}
        }
    }
    s
}

fn process_field(metric: &str) -> Option<&'static str> {
    Some(match metric {
        "nbthread" => "Nbthread",
        "nbproc" => "Nbproc",
        "relative_process_id" => "Process_num",
        "uptime_seconds" => "Uptime_sec",
        "pool_failures_total" => "PoolFailed",
        "max_fds" => "Ulimit-n",
        "max_sockets" => "Maxsock",
        "max_connections" => "Maxconn",
        "hard_max_connections" => "Hard_maxconn",
        "current_connections" => "CurrConns",
        "connections_total" => "CumConns",
        "requests_total" => "CumReq",
        "max_ssl_connections" => "MaxSslConns",
        "current_ssl_connections" => "CurrSslConns",
        "ssl_connections_total" => "CumSslConns",
        "max_pipes" => "Maxpipes",
        "pipes_used_total" => "PipesUsed",
        "pipes_free_total" => "PipesFree",
        "current_connection_rate" => "ConnRate",
        "limit_connection_rate" => "ConnRateLimit",
        "max_connection_rate" => "MaxConnRate",
        "current_session_rate" => "SessRate",
        "limit_session_rate" => "SessRateLimit",
        "max_session_rate" => "MaxSessRate",
        "current_ssl_rate" => "SslRate",
        "limit_ssl_rate" => "SslRateLimit",
        "max_ssl_rate" => "MaxSslRate",
        "current_frontend_ssl_key_rate" => "SslFrontendKeyRate",
        "max_frontend_ssl_key_rate" => "SslFrontendMaxKeyRate",
        "frontend_ssl_reuse" => "SslFrontendSessionReuse_pct",
        "current_backend_ssl_key_rate" => "SslBackendKeyRate",
        "max_backend_ssl_key_rate" => "SslBackendMaxKeyRate",
        "ssl_cache_lookups_total" => "SslCacheLookups",
        "ssl_cache_misses_total" => "SslCacheMisses",
        "http_comp_bytes_in_total" => "CompressBpsIn",
        "http_comp_bytes_out_total" => "CompressBpsOut",
        "limit_http_comp" => "CompressBpsRateLim",
        "current_zlib_memory" => "ZlibMemUsage",
        "max_zlib_memory" => "MaxZlibMemUsage",
        "current_tasks" => "Tasks",
        "current_run_queue" => "Run_queue",
        "idle_time_percent" => "Idle_pct",
        "stopping" => "Stopping",
        "jobs" => "Jobs",
        "unstoppable_jobs" => "Unstoppable Jobs",
        "listeners" => "Listeners",
        "active_peers" => "ActivePeers",
        "connected_peers" => "ConnectedPeers",
        "dropped_logs_total" => "DroppedLogs",
        "busy_polling_enabled" => "BusyPolling",
        "failed_resolutions" => "FailedResolutions",
        "bytes_out_total" => "TotalBytesOut",
        "spliced_bytes_out_total" => "TotalSplicdedBytesOut",
        "bytes_out_rate" => "BytesOutRate",
        "recv_logs_total" => "CumRecvLogs",
        "max_memory_bytes" => "Memmax_bytes",
        "pool_allocated_bytes" => "PoolAlloc_bytes",
        "pool_used_bytes" => "PoolUsed_bytes",
        "start_time_seconds" => "Start_time_sec",
        _ => return None,
    })
}

/// How a proxy/server metric is taken from a stats row.
#[derive(Debug, Clone, Copy)]
enum Src {
    Field(usize),
    /// A time in ms shown in seconds.
    Secs(usize),
    Status,
    Codes,
    CheckStatus,
    /// The last check's L5-7 code (0 below L7), while checks run.
    CheckCode,
    /// The last check's duration, once a check has completed.
    CheckDuration,
    AggServerStatus,
    AggCheckStatus,
}

fn proxy_src(scope: &str, m: &str) -> Option<Src> {
    use Src::*;
    Some(match (scope, m) {
        (_, "current_queue") => Field(2),
        (_, "max_queue") => Field(3),
        (_, "current_sessions") => Field(4),
        (_, "max_sessions") => Field(5),
        (_, "limit_sessions") => Field(6),
        (_, "sessions_total") => Field(7),
        (_, "bytes_in_total") => Field(8),
        (_, "bytes_out_total") => Field(9),
        (_, "requests_denied_total") => Field(10),
        (_, "responses_denied_total") => Field(11),
        (_, "request_errors_total") => Field(12),
        (_, "connection_errors_total") => Field(13),
        (_, "response_errors_total") => Field(14),
        (_, "retry_warnings_total") => Field(15),
        (_, "redispatch_warnings_total") => Field(16),
        (_, "status") => Status,
        (_, "weight") => Field(18),
        (_, "active_servers") => Field(19),
        (_, "backup_servers") => Field(20),
        (_, "check_failures_total") => Field(21),
        (_, "check_up_down_total") => Field(22),
        (_, "check_last_change_seconds") => Field(23),
        (_, "downtime_seconds_total") => Field(24),
        (_, "queue_limit") => Field(25),
        (_, "current_throttle") => Field(29),
        (_, "loadbalanced_total") => Field(30),
        (_, "limit_session_rate") => Field(34),
        (_, "max_session_rate") => Field(35),
        (_, "check_status") => CheckStatus,
        (_, "check_code") => CheckCode,
        (_, "check_duration_seconds") => CheckDuration,
        (_, "http_responses_total") => Codes,
        (_, "http_requests_rate_max") => Field(47),
        (_, "http_requests_total") => Field(48),
        (_, "client_aborts_total") => Field(49),
        (_, "server_aborts_total") => Field(50),
        (_, "http_comp_bytes_in_total") => Field(51),
        (_, "http_comp_bytes_out_total") => Field(52),
        (_, "http_comp_bytes_bypassed_total") => Field(53),
        (_, "http_comp_responses_total") => Field(54),
        (_, "last_session_seconds") => Field(55),
        (_, "queue_time_average_seconds") => Secs(58),
        (_, "connect_time_average_seconds") => Secs(59),
        (_, "response_time_average_seconds") => Secs(60),
        (_, "total_time_average_seconds") => Secs(61),
        (_, "connections_rate_max") => Field(78),
        (_, "connections_total") => Field(79),
        (_, "intercepted_requests_total") => Field(80),
        (_, "denied_connections_total") => Field(81),
        (_, "denied_sessions_total") => Field(82),
        (_, "failed_header_rewriting_total") => Field(83),
        (_, "connection_attempts_total") => Field(84),
        (_, "connection_reuses_total") => Field(85),
        (_, "http_cache_lookups_total") => Field(86),
        (_, "http_cache_hits_total") => Field(87),
        (_, "idle_connections_current") => Field(88),
        (_, "idle_connections_limit") => Field(89),
        (_, "max_queue_time_seconds") => Secs(90),
        (_, "max_connect_time_seconds") => Secs(91),
        (_, "max_response_time_seconds") => Secs(92),
        (_, "max_total_time_seconds") => Secs(93),
        (_, "internal_errors_total") => Field(94),
        (_, "unsafe_idle_connections_current") => Field(95),
        (_, "safe_idle_connections_current") => Field(96),
        (_, "used_connections_current") => Field(97),
        (_, "need_connections_current") => Field(98),
        (_, "uweight") => Field(99),
        ("backend", "agg_server_status") | ("backend", "agg_server_check_status") => {
            AggServerStatus
        }
        ("backend", "agg_check_status") => AggCheckStatus,
        _ => return None,
    })
}

fn num(v: &Val) -> String {
    match v {
        Val::Empty | Val::Str(_) => "NaN".into(),
        Val::U32(n) => n.to_string(),
        Val::U64(n) => n.to_string(),
        Val::S32(n) => n.to_string(),
    }
}

fn secs(v: &Val) -> String {
    match v {
        Val::U32(n) => format!("{:.6}", f64::from(*n) / 1000.0),
        Val::U64(n) => format!("{:.6}", *n as f64 / 1000.0),
        Val::S32(n) => format!("{:.6}", f64::from(*n) / 1000.0),
        _ => "NaN".into(),
    }
}

const CODES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
/// `HCHK_STATUS_L57DATA`: statuses from here on carry an L5-7 code.
const L57DATA: u8 = 14;

const SRV_STATES: [&str; 5] = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];
const CHECK_STATES: [CheckStatus; 16] = [
    CheckStatus::Hana,
    CheckStatus::SockErr,
    CheckStatus::L4Ok,
    CheckStatus::L4Tout,
    CheckStatus::L4Con,
    CheckStatus::L6Ok,
    CheckStatus::L6Tout,
    CheckStatus::L6Rsp,
    CheckStatus::L7Tout,
    CheckStatus::L7Rsp,
    CheckStatus::L7Ok,
    CheckStatus::L7OkC,
    CheckStatus::L7Sts,
    CheckStatus::ProcErr,
    CheckStatus::ProcTout,
    CheckStatus::ProcOk,
];

/// The promex state of a server row.
fn srv_state(snap: &Snapshot, r: &Row) -> &'static str {
    match r.server.and_then(|s| snap.server(r.px, s)) {
        Some(sv) => sv_state(sv),
        None => "DOWN",
    }
}

/// The promex state of a server: MAINT, DRAIN, else from its op state.
fn sv_state(sv: &ServerRt) -> &'static str {
    if sv.admin.is_maint() {
        "MAINT"
    } else if sv.admin.is_drain() {
        "DRAIN"
    } else {
        match sv.live.op_state() {
            OpState::Stopped => "DOWN",
            OpState::Starting | OpState::Running => "UP",
            OpState::Stopping => "NOLB",
        }
    }
}

/// Every configured server of a backend row's proxy.
fn all_servers<'a>(snap: &'a Snapshot, r: &Row) -> Vec<&'a ServerRt> {
    snap.proxy(r.px)
        .and_then(|p| p.backend.as_ref())
        .map(|b| b.servers.iter().collect())
        .unwrap_or_default()
}

/// One `http_responses_total` line; nothing for rows without HTTP counters.
fn code_line(out: &mut String, name: &str, r: &Row, k: usize, code: &str) {
    if !r.fields[39].is_set() {
        return;
    }
    let px = r.text(0);
    let labels = match r.kind {
        RowKind::Server => format!("proxy=\"{px}\",server=\"{}\"", r.text(1)),
        _ => format!("proxy=\"{px}\""),
    };
    let _ = writeln!(
        out,
        "{name}{{{labels},code=\"{code}\"}} {}",
        num(&r.fields[39 + k].val)
    );
}

/// The current check status of a server whose checks run (None otherwise).
fn srv_check(snap: &Snapshot, r: &Row) -> Option<CheckStatus> {
    let sv = r.server.and_then(|s| snap.server(r.px, s))?;
    (crate::status::check_enabled(sv) && !sv.admin.is_maint()).then(|| sv.live.check_status())
}

/// Render the exposition text for `query` (the request's query string).
pub fn render(ctx: &AdminCtx, snap: &Snapshot, query: &str) -> String {
    let scopes = parse_query(query);
    let info = info_values(ctx, snap);
    let rctx = RowCtx {
        now_ms: switchyard_state::now_ms(),
        show_legends: true,
    };
    let rows = collect(
        snap,
        rctx,
        RowFilter {
            bound: None,
            hide_down: false,
            hide_maint: scopes.no_maint,
        },
    );
    let mut out = String::new();
    for (name, help, typ) in METRICS {
        let rest = name.strip_prefix("haproxy_").unwrap_or(name);
        let (scope, metric) = rest.split_once('_').unwrap_or((rest, ""));
        let mut body = String::new();
        match scope {
            "process" if scopes.global => {
                if metric == "build_info" {
                    let _ = writeln!(body, "{name}{{version=\"{}\"}} 1", ctx.version);
                } else if let Some(f) = process_field(metric) {
                    let v = INFO_FIELDS
                        .iter()
                        .position(|x| x.0 == f)
                        .map(|i| &info[i])
                        .cloned()
                        .unwrap_or_default();
                    let _ = writeln!(body, "{name} {}", num(&v));
                }
            }
            "frontend" | "backend" | "server" => {
                let (want, kind) = match scope {
                    "frontend" => (scopes.frontend, RowKind::Frontend),
                    "backend" => (scopes.backend, RowKind::Backend),
                    _ => (scopes.server, RowKind::Server),
                };
                let Some(src) = proxy_src(scope, metric).filter(|_| want) else {
                    continue;
                };
                if let Src::Codes = src {
                    // HAProxy walks the codes outside and the proxies
                    // (and servers) inside.
                    for (k, code) in CODES.iter().enumerate() {
                        for r in rows.iter().filter(|r| r.kind == kind) {
                            code_line(&mut body, name, r, k, code);
                        }
                    }
                } else {
                    for r in rows.iter().filter(|r| r.kind == kind) {
                        metric_lines(&mut body, name, snap, r, src);
                    }
                }
            }
            _ => {}
        }
        if body.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {typ}");
        out.push_str(&body);
    }
    out
}

fn metric_lines(out: &mut String, name: &str, snap: &Snapshot, r: &Row, src: Src) {
    let px = r.text(0);
    let labels = match r.kind {
        RowKind::Server => format!("proxy=\"{px}\",server=\"{}\"", r.text(1)),
        _ => format!("proxy=\"{px}\""),
    };
    match src {
        Src::Field(i) => {
            let _ = writeln!(out, "{name}{{{labels}}} {}", num(&r.fields[i].val));
        }
        Src::Secs(i) => {
            let _ = writeln!(out, "{name}{{{labels}}} {}", secs(&r.fields[i].val));
        }
        Src::Codes => {
            for (k, code) in CODES.iter().enumerate() {
                code_line(out, name, r, k, code);
            }
        }
        Src::CheckCode => {
            let Some(sv) = r.server.and_then(|s| snap.server(r.px, s)) else {
                return;
            };
            if srv_check(snap, r).is_none() {
                return;
            }
            let st = sv.live.check_status() as u8;
            let code = if st < L57DATA {
                0
            } else {
                sv.live.check_code.load(Relaxed)
            };
            let _ = writeln!(out, "{name}{{{labels}}} {code}");
        }
        Src::CheckDuration => {
            let Some(sv) = r.server.and_then(|s| snap.server(r.px, s)) else {
                return;
            };
            if (sv.live.check_status() as u8) < CheckStatus::Checked as u8 {
                return;
            }
            let ms = sv.live.check_duration_ms.load(Relaxed).max(0);
            let _ = writeln!(out, "{name}{{{labels}}} {:.6}", ms as f64 / 1000.0);
        }
        Src::Status => match r.kind {
            RowKind::Server => {
                let st = srv_state(snap, r);
                for s in SRV_STATES {
                    let _ = writeln!(
                        out,
                        "{name}{{{labels},state=\"{s}\"}} {}",
                        u8::from(s == st)
                    );
                }
            }
            _ => {
                let up = matches!(r.text(17).as_str(), s if s.starts_with("UP") || s == "OPEN");
                let _ = writeln!(out, "{name}{{{labels},state=\"DOWN\"}} {}", u8::from(!up));
                let _ = writeln!(out, "{name}{{{labels},state=\"UP\"}} {}", u8::from(up));
            }
        },
        Src::CheckStatus => {
            let Some(cur) = srv_check(snap, r) else {
                return;
            };
            for s in CHECK_STATES {
                let _ = writeln!(
                    out,
                    "{name}{{{labels},state=\"{}\"}} {}",
                    s.name(),
                    u8::from(s == cur)
                );
            }
        }
        // Both aggregates cover every server of the backend (`no-maint`
        // included) and are absent for a backend without servers.
        Src::AggServerStatus => {
            let servers = all_servers(snap, r);
            if servers.is_empty() {
                return;
            }
            for s in SRV_STATES {
                let n = servers.iter().filter(|sv| sv_state(sv) == s).count();
                let _ = writeln!(out, "{name}{{{labels},state=\"{s}\"}} {n}");
            }
        }
        Src::AggCheckStatus => {
            // 2.6.12 counts the last check status of every server, even
            // when its checks are paused (MAINT) or disabled.
            let servers = all_servers(snap, r);
            if servers.is_empty() {
                return;
            }
            for s in CHECK_STATES {
                let n = servers
                    .iter()
                    .filter(|sv| sv.live.check_status() == s)
                    .count();
                let _ = writeln!(out, "{name}{{{labels},state=\"{}\"}} {n}", s.name());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let all = parse_query("");
        assert!(all.global && all.server);
        let s = parse_query("scope=backend&scope=server");
        assert!(!s.global && !s.frontend && s.backend && s.server);
        let s = parse_query("scope=global&scope=&scope=frontend");
        assert!(!s.global && s.frontend);
        assert!(parse_query("no-maint").no_maint);
    }
}
