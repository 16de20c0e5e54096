//! The `global` section.

use crate::addr::listen_addr;
use crate::ctx::{Ctx, Kwm, Line};
use crate::diag::unknown_keyword;
use crate::log::{parse_log, LogLine};
use crate::model::{CliLevel, Global, ListenAddr, LoadServerState, StatsSocket};
use crate::units::{parse_size, parse_time, parse_u32, trailing_warning, TimeError, TimeUnit};
use std::path::PathBuf;

/// Global keywords accepted and ignored with a warning: they tune things
/// switchyard does not have (chroot, CPU pinning, OpenSSL knobs, polling).
/// A trailing `*` matches by prefix.
pub const HARMLESS_GLOBAL_KEYWORDS: &[&str] = &[
    "chroot",
    "cpu-map",
    "tune.ssl.*",
    "tune.h2.*",
    "tune.http.*",
    "tune.maxrewrite",
    "tune.maxaccept",
    "tune.maxpollevents",
    "tune.idletimer",
    "tune.rcvbuf.*",
    "tune.sndbuf.*",
    "tune.comp.*",
    "tune.zlib.*",
    "tune.pattern.cache-size",
    "tune.runqueue-depth",
    "ssl-default-bind-*",
    "ssl-default-server-*",
    "ssl-dh-param-file",
    "spread-checks",
    "max-spread-checks",
    "ulimit-n",
    "fd-hard-limit",
    "log-send-hostname",
    "log-tag",
    "localpeer",
    "maxconnrate",
    "maxsessrate",
    "maxsslrate",
    "maxpipes",
    "nosplice",
    "noepoll",
    "nopoll",
    "nokqueue",
    "noevports",
    "noreuseport",
    "nogetaddrinfo",
    "busy-polling",
    "set-dumpable",
    "strict-limits",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "numa-cpu-mapping",
    "expose-experimental-directives",
    "quiet",
    "zero-warning",
    "unix-bind",
];

pub(crate) fn is_harmless(list: &[&str], kw: &str) -> bool {
    list.iter().any(|h| match h.strip_suffix('*') {
        Some(prefix) => kw.starts_with(prefix),
        None => *h == kw,
    })
}

/// Keywords understood here, for "did you mean" suggestions.
const GLOBAL_KEYWORDS: &[&str] = &[
    "daemon",
    "master-worker",
    "maxconn",
    "nbthread",
    "user",
    "group",
    "uid",
    "gid",
    "pidfile",
    "stats",
    "log",
    "hard-stop-after",
    "server-state-file",
    "server-state-base",
    "load-server-state-from-file",
    "tune.bufsize",
    "node",
    "description",
    "default-path",
    "ca-base",
    "crt-base",
    "setenv",
    "presetenv",
    "unsetenv",
    "resetenv",
];

/// Where relative file names resolve (`default-path`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum DefaultPath {
    #[default]
    Current,
    Config,
    Parent,
    Origin(PathBuf),
}

pub(crate) fn lookup_user(name: &str) -> Option<u32> {
    nix::unistd::User::from_name(name)
        .ok()
        .flatten()
        .map(|u| u.uid.as_raw())
}

pub(crate) fn lookup_group(name: &str) -> Option<u32> {
    nix::unistd::Group::from_name(name)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
}

pub(crate) fn time_arg(
    ctx: &mut Ctx,
    l: &Line<'_>,
    text: &str,
    unit: TimeUnit,
    what: &str,
) -> Option<u32> {
    match parse_time(text, unit) {
        Ok(t) => {
            if let Some(c) = t.trailing {
                ctx.warn(l.loc, trailing_warning(c, text));
            }
            Some(t.value)
        }
        Err(TimeError::Overflow) => {
            ctx.error(
                l.loc,
                format!("timer overflow in argument <{text}> to <{what}>, maximum value is 2147483647 ms (~24.8 days)."),
            );
            None
        }
        Err(TimeError::Underflow) => {
            ctx.error(
                l.loc,
                format!("timer underflow in argument <{text}> to <{what}>, minimum non-null value is 1 ms."),
            );
            None
        }
        Err(TimeError::BadChar(c)) => {
            ctx.error(
                l.loc,
                format!("unexpected character '{c}' in argument to <{what}>."),
            );
            None
        }
        Err(TimeError::Empty) => {
            ctx.error(l.loc, format!("'{what}' expects <time> as argument."));
            None
        }
    }
}

/// Everything `global` parsing produces besides [`Global`].
#[derive(Debug, Default)]
pub(crate) struct GlobalExtra {
    pub default_path: Option<DefaultPath>,
}

pub(crate) fn parse_global_line(
    ctx: &mut Ctx,
    g: &mut Global,
    extra: &mut GlobalExtra,
    l: &Line<'_>,
) {
    let kw = l.kw();
    if l.kwm != Kwm::Std && kw != "log" && !is_harmless(HARMLESS_GLOBAL_KEYWORDS, kw) {
        ctx.error(
            l.loc,
            "negation/default currently supported only for options, log, busy-polling, set-dumpable, \
             strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
        );
        return;
    }
    match kw {
        "daemon" => {
            if !l.too_many(ctx, 0, 0) {
                g.daemon = true;
            }
        }
        "master-worker" => {
            let a = l.arg(1);
            if !a.is_empty() && a != "no-exit-on-failure" {
                ctx.error(l.loc, "'master-worker' only supports 'no-exit-on-failure' option");
                return;
            }
            g.master_worker = true;
        }
        "maxconn" => {
            if l.too_many(ctx, 0, 1) {
                return;
            }
            match parse_u32(l.arg(1)) {
                Some(n) => g.maxconn = Some(n),
                None => ctx.error(l.loc, "'maxconn' expects an integer argument."),
            }
        }
        "nbthread" => {
            if l.too_many(ctx, 0, 1) {
                return;
            }
            match l.arg(1).parse::<i64>() {
                Ok(n) if (1..=64).contains(&n) => g.nbthread = Some(n as usize),
                Ok(n) => ctx.error(l.loc, format!("'nbthread' value must be between 1 and 64 (was {n})")),
                Err(_) => ctx.error(
                    l.loc,
                    format!("'nbthread' passed a missing or unparsable integer value in '{}'", l.arg(1)),
                ),
            }
        }
        "uid" | "gid" => {
            if l.too_many(ctx, 0, 1) {
                return;
            }
            match parse_u32(l.arg(1)) {
                Some(n) if kw == "uid" => g.uid = Some(n),
                Some(n) => g.gid = Some(n),
                None => {
                    // HAProxy 2.6 falls back to 0 with this warning.
                    let what = if kw == "uid" { "user" } else { "group" };
                    ctx.warn(
                        l.loc,
                        format!(
                            " {kw}: string '{}' is not a number.\n   | You might want to use the '{what}' parameter to use a system {what} name.",
                            l.arg(1)
                        ),
                    );
                    if kw == "uid" {
                        g.uid = Some(0);
                    } else {
                        g.gid = Some(0);
                    }
                }
            }
        }
        "user" => {
            if l.too_many(ctx, 0, 1) {
                return;
            }
            match lookup_user(l.arg(1)) {
                Some(uid) => {
                    g.user = Some(l.arg(1).to_string());
                    g.uid = Some(uid);
                }
                None => ctx.error(l.loc, format!("cannot find user id for '{}' (0:Success)", l.arg(1))),
            }
        }
        "group" => {
            if l.too_many(ctx, 0, 1) {
                return;
            }
            match lookup_group(l.arg(1)) {
                Some(gid) => {
                    g.group = Some(l.arg(1).to_string());
                    g.gid = Some(gid);
                }
                None => ctx.error(l.loc, format!("cannot find group id for '{}' (0:Success)", l.arg(1))),
            }
        }
        "pidfile" => {
            if l.too_many(ctx, 0, 1) {
                return;
            }
            if l.arg(1).is_empty() {
                ctx.error(l.loc, "'pidfile' expects a file name as an argument.");
            } else if g.pidfile.is_some() {
                ctx.warn(l.loc, "'pidfile' already specified. Continuing.");
            } else {
                g.pidfile = Some(PathBuf::from(l.arg(1)));
            }
        }
        "stats" => parse_stats(ctx, g, l),
        "log" => match parse_log(l.words, l.kwm == Kwm::No, true) {
            Ok(LogLine::Target(t)) => g.logs.push(t),
            Ok(LogLine::Clear) => g.logs.clear(),
            Ok(LogLine::Global) => {}
            Err(e) => ctx.error(l.loc, format!("log : {e}")),
        },
        "hard-stop-after" => {
            if l.too_many(ctx, 0, 1) {
                return;
            }
            if l.arg(1).is_empty() {
                ctx.error(l.loc, "'hard-stop-after' expects <time> as argument.");
                return;
            }
            if let Some(v) = time_arg(ctx, l, l.arg(1), TimeUnit::Ms, "hard-stop-after") {
                g.hard_stop_after = Some(TimeUnit::Ms.to_duration(v));
            }
        }
        "server-state-file" | "server-state-base" => {
            if l.arg(1).is_empty() || !l.arg(2).is_empty() {
                let what = if kw == "server-state-file" {
                    "expect one argument: a file path"
                } else {
                    "expects one argument: a directory path"
                };
                ctx.error(l.loc, format!("'{kw}' {what}."));
                return;
            }
            let p = Some(PathBuf::from(l.arg(1)));
            if kw == "server-state-file" {
                g.server_state_file = p;
            } else {
                g.server_state_base = p;
            }
        }
        "load-server-state-from-file" => {
            if let Some(v) = load_state_arg(ctx, l) {
                ctx.warn(
                    l.loc,
                    "'load-server-state-from-file' in 'global' is a switchyard extension (HAProxy 2.6 accepts it \
                     only in 'defaults' and 'backend' sections); it applies to backends that do not set it.",
                );
                g.load_server_state_from_file = v;
            }
        }
        "tune.bufsize" => {
            if l.too_many(ctx, 0, 1) {
                return;
            }
            match parse_size(l.arg(1)).and_then(|n| usize::try_from(n).ok()) {
                Some(n) if (1024..=(1 << 30)).contains(&n) => g.bufsize = n,
                Some(n) if n > 0 && n < 1024 => {
                    ctx.error(l.loc, format!("'tune.bufsize' value {n} is too small (minimum 1024)."));
                }
                _ => ctx.error(l.loc, "'tune.bufsize' expects a positive integer argument."),
            }
        }
        "node" => {
            let n = l.arg(1);
            let valid = !n.is_empty()
                && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !valid {
                ctx.error(
                    l.loc,
                    "'node' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), \
                     dot(.), hyphen(-) or underscode(_).",
                );
                return;
            }
            g.node = Some(n.to_string());
        }
        "description" => {
            if l.arg(1).is_empty() {
                ctx.error(l.loc, "'description' expects a string argument.");
                return;
            }
            g.description = Some(l.rest(1).join(" "));
        }
        "default-path" => {
            let dp = match (l.arg(1), l.arg(2)) {
                ("current", "") => Some(DefaultPath::Current),
                ("config", "") => Some(DefaultPath::Config),
                ("parent", "") => Some(DefaultPath::Parent),
                ("origin", p) if !p.is_empty() && l.arg(3).is_empty() => Some(DefaultPath::Origin(PathBuf::from(p))),
                _ => None,
            };
            match dp {
                Some(dp) => extra.default_path = Some(dp),
                None => ctx.error(
                    l.loc,
                    "'default-path' expects either 'current', 'config', 'parent' or 'origin' and optional path",
                ),
            }
        }
        "ssl-server-verify" => match l.arg(1) {
            "none" => g.ssl_server_verify_required = false,
            "required" => g.ssl_server_verify_required = true,
            _ => ctx.error(l.loc, "'ssl-server-verify' expects 'none' or 'required' as argument."),
        },
        "ca-base" | "crt-base" => {
            if l.arg(1).is_empty() || l.too_many(ctx, 0, 1) {
                if l.arg(1).is_empty() {
                    ctx.error(l.loc, format!("'{kw}' expects a directory path as an argument."));
                }
                return;
            }
            let v = Some(l.arg(1).to_string());
            let slot = if kw == "ca-base" { &mut ctx.ca_base } else { &mut ctx.crt_base };
            if slot.is_some() {
                ctx.error(l.loc, format!("'{kw}' already specified."));
            } else {
                *slot = v;
            }
        }
        "setenv" | "presetenv" => {
            if l.arg(1).is_empty() || l.arg(2).is_empty() || l.too_many(ctx, 0, 2) {
                if l.arg(2).is_empty() {
                    ctx.error(l.loc, format!("'{kw}' expects a name and a value."));
                }
                return;
            }
            if kw == "setenv" || ctx.env.get(l.arg(1)).is_none() {
                ctx.env.set(l.arg(1), l.arg(2));
            }
        }
        "unsetenv" => {
            if l.arg(1).is_empty() {
                ctx.error(l.loc, "'unsetenv' expects at least one variable name.");
                return;
            }
            for name in l.rest(1) {
                ctx.env.unset(name);
            }
        }
        "resetenv" => ctx.env.reset_keeping(l.rest(1)),
        "nbproc" => ctx.error(
            l.loc,
            "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on \
             multi-processor machines if available.",
        ),
        _ if is_harmless(HARMLESS_GLOBAL_KEYWORDS, kw) => {
            ctx.warn(l.loc, format!("global keyword '{kw}' is ignored by switchyard."));
        }
        _ => ctx.error(l.loc, unknown_keyword(kw, "global", GLOBAL_KEYWORDS.iter().copied())),
    }
}

/// `load-server-state-from-file global|local|none`
pub(crate) fn load_state_arg(ctx: &mut Ctx, l: &Line<'_>) -> Option<LoadServerState> {
    match l.arg(1) {
        "global" => Some(LoadServerState::Global),
        "local" => Some(LoadServerState::Local),
        "none" => Some(LoadServerState::None),
        other => {
            ctx.error(
                l.loc,
                format!(
                    "'{}' expects 'global', 'local' or 'none'. Got '{other}'",
                    l.kw()
                ),
            );
            None
        }
    }
}

fn parse_stats(ctx: &mut Ctx, g: &mut Global, l: &Line<'_>) {
    match l.arg(1) {
        "socket" => {
            if l.arg(2).is_empty() {
                ctx.error(
                    l.loc,
                    "'stats socket' in global section expects an address or a path to a UNIX socket",
                );
                return;
            }
            let addr = match listen_addr(l.arg(2)) {
                Ok(a) => a,
                Err(e) => {
                    ctx.error(l.loc, format!("'stats socket' : {e}"));
                    return;
                }
            };
            if let Some(s) = parse_socket_opts(ctx, l, addr) {
                g.stats_sockets.push(s);
            }
        }
        "timeout" => {
            if l.too_many(ctx, 1, 1) {
                return;
            }
            match parse_time(l.arg(2), TimeUnit::Ms) {
                Ok(t) if t.value > 0 => {
                    if let Some(c) = t.trailing {
                        ctx.warn(l.loc, trailing_warning(c, l.arg(2)));
                    }
                    g.stats_timeout = TimeUnit::Ms.to_duration(t.value);
                }
                Ok(_) => ctx.error(l.loc, "'stats timeout' expects a positive value"),
                Err(TimeError::BadChar(c)) => {
                    ctx.error(l.loc, format!("'stats timeout' : unexpected character '{c}'"));
                }
                Err(TimeError::Empty) => ctx.error(l.loc, "'stats timeout' expects a positive value"),
                Err(TimeError::Overflow) => ctx.error(
                    l.loc,
                    format!(
                        "'stats timeout' : timer overflow in argument '{}' to 'stats timeout' (maximum value is 2147483647 ms or ~24.8 days)",
                        l.arg(2)
                    ),
                ),
                Err(TimeError::Underflow) => ctx.error(
                    l.loc,
                    format!(
                        "'stats timeout' : timer underflow in argument '{}' to 'stats timeout' (minimum non-null value is 1 ms)",
                        l.arg(2)
                    ),
                ),
            }
        }
        "maxconn" => {
            if l.too_many(ctx, 1, 1) {
                return;
            }
            match parse_u32(l.arg(2)) {
                Some(n) if n > 0 => g.stats_maxconn = n,
                _ => ctx.error(l.loc, "'stats maxconn' expects a positive value"),
            }
        }
        "bind-process" => {
            ctx.warn(l.loc, "'stats bind-process' has no effect and is ignored.");
        }
        other => ctx.error(
            l.loc,
            format!("'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{other}')"),
        ),
    }
}

fn parse_socket_opts(ctx: &mut Ctx, l: &Line<'_>, addr: ListenAddr) -> Option<StatsSocket> {
    let mut s = StatsSocket {
        addr,
        mode: None,
        uid: None,
        gid: None,
        user: None,
        group: None,
        level: CliLevel::Operator,
        expose_fd_listeners: false,
        location: l.loc.clone(),
    };
    let mut i = 3;
    let err = |ctx: &mut Ctx, m: String| {
        ctx.error(l.loc, format!("'stats socket' : {m}"));
        None::<StatsSocket>
    };
    while !l.arg(i).is_empty() {
        let opt = l.arg(i);
        let val = l.arg(i + 1);
        match opt {
            "level" => {
                s.level = match val {
                    "user" => CliLevel::User,
                    "operator" => CliLevel::Operator,
                    "admin" => CliLevel::Admin,
                    _ => {
                        return err(
                            ctx,
                            format!(
                            "''level' only supports 'user', 'operator', and 'admin' (got '{val}')'"
                        ),
                        )
                    }
                };
                i += 2;
            }
            "mode" => {
                match u32::from_str_radix(val, 8) {
                    Ok(m) if !val.is_empty() && m <= 0o7777 => s.mode = Some(m),
                    _ => {
                        return err(
                            ctx,
                            format!(
                            "''mode' : missing or invalid mode '{val}' (octal integer expected)'"
                        ),
                        )
                    }
                }
                i += 2;
            }
            "uid" | "gid" => {
                match parse_u32(val) {
                    Some(n) if opt == "uid" => s.uid = Some(n),
                    Some(n) => s.gid = Some(n),
                    None => {
                        return err(ctx, format!("''{opt}' : missing or invalid {opt} '{val}''"))
                    }
                }
                i += 2;
            }
            "user" => {
                match lookup_user(val) {
                    Some(uid) => {
                        s.uid = Some(uid);
                        s.user = Some(val.to_string());
                    }
                    None => return err(ctx, format!("''user' : unknown user name '{val}''")),
                }
                i += 2;
            }
            "group" => {
                match lookup_group(val) {
                    Some(gid) => {
                        s.gid = Some(gid);
                        s.group = Some(val.to_string());
                    }
                    None => return err(ctx, format!("''group' : unknown group name '{val}''")),
                }
                i += 2;
            }
            "expose-fd" => {
                if val != "listeners" {
                    return err(ctx, "''expose-fd' only supports 'listeners''".to_string());
                }
                s.expose_fd_listeners = true;
                i += 2;
            }
            // Accepted bind options with no effect on a CLI socket here.
            "severity-output" | "process" | "thread" | "name" | "id" | "maxconn" | "backlog"
            | "nice" => {
                if val.is_empty() {
                    return err(ctx, format!("'{opt}' : missing value"));
                }
                i += 2;
            }
            "accept-netscaler-cip" => i += 2,
            "transparent" | "v4v6" | "v6only" | "defer-accept" | "tfo" | "accept-proxy" => i += 1,
            other => return err(ctx, format!("unknown keyword '{other}'.")),
        }
    }
    Some(s)
}
