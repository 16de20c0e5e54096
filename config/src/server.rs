//! `server <name> <addr> [options]` and `default-server [options]`.

use crate::acl::invalid_name_char;
use crate::addr::server_addr;
use crate::ctx::{Ctx, Line};
use crate::diag::best_match;
use crate::model::{InitAddr, Location, Observe, OnError, Server, ServerAddr};
use crate::proxy::ProxyDraft;
use crate::units::{parse_time, parse_u32, TimeError, TimeUnit};
use std::path::PathBuf;
use std::time::Duration;

/// A server with HAProxy's defaults: inter 2s, rise 2, fall 3, weight 1,
/// error-limit 10, init-addr last,libc.
pub(crate) fn default_server() -> Server {
    Server {
        name: String::new(),
        id: 0,
        location: Location::default(),
        addr: ServerAddr {
            host: String::new(),
            ip: None,
            port: None,
        },
        check: false,
        inter: Duration::from_secs(2),
        fastinter: None,
        downinter: None,
        rise: 2,
        fall: 3,
        slowstart: None,
        weight: 1,
        maxconn: None,
        maxqueue: None,
        backup: false,
        cookie: None,
        resolvers: None,
        init_addr: vec![InitAddr::Last, InitAddr::Libc],
        resolve_prefer: None,
        disabled: false,
        observe: None,
        error_limit: 10,
        on_error: OnError::FailCheck,
        on_marked_down_shutdown: false,
        on_marked_up_shutdown_backup: false,
        check_port: None,
        check_addr: None,
        agent_port: None,
        agent_inter: None,
        agent_send: None,
        track: None,
        ssl: false,
        verify: None,
        sni: None,
        alpn: Vec::new(),
        proto_h2: false,
        send_proxy: false,
        forced_id: false,
        agent_check: false,
        agent_addr: None,
        ca_file: None,
        sni_expr: None,
        crt: None,
        check_ssl: None,
        check_sni: None,
        verifyhost: None,
        ssl_ctx: false,
    }
}

/// Keywords switchyard reads, for "did you mean".
const SERVER_KEYWORDS: &[&str] = &[
    "addr",
    "agent-addr",
    "agent-check",
    "agent-inter",
    "agent-port",
    "agent-send",
    "alpn",
    "backup",
    "ca-file",
    "check",
    "check-port",
    "check-sni",
    "check-ssl",
    "cookie",
    "crt",
    "disabled",
    "downinter",
    "enabled",
    "error-limit",
    "fall",
    "fastinter",
    "id",
    "init-addr",
    "inter",
    "maxconn",
    "maxqueue",
    "no-agent-check",
    "no-backup",
    "no-check",
    "no-check-ssl",
    "no-send-proxy",
    "no-ssl",
    "no-verifyhost",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "port",
    "proto",
    "resolve-prefer",
    "resolvers",
    "rise",
    "send-proxy",
    "slowstart",
    "sni",
    "ssl",
    "track",
    "verify",
    "verifyhost",
    "weight",
];

/// Server options accepted and ignored with a warning (connection pooling
/// and TLS tuning knobs); the number is how many values follow.
pub const HARMLESS_SERVER_KEYWORDS: &[(&str, usize)] = &[
    ("no-tfo", 0),
    ("tfo", 0),
    ("non-stick", 0),
    ("stick", 0),
    ("no-tls-tickets", 0),
    ("tls-tickets", 0),
    ("ssl-reuse", 0),
    ("no-ssl-reuse", 0),
    ("no-sslv3", 0),
    ("no-tlsv10", 0),
    ("no-tlsv11", 0),
    ("no-tlsv12", 0),
    ("no-tlsv13", 0),
    ("allow-0rtt", 0),
    ("pool-purge-delay", 1),
    ("pool-max-conn", 1),
    ("pool-low-conn", 1),
    ("max-reuse", 1),
    ("ws", 1),
    ("ciphers", 1),
    ("ciphersuites", 1),
    ("ssl-min-ver", 1),
    ("ssl-max-ver", 1),
    ("resolve-net", 1),
    ("resolve-opts", 1),
    ("log-proto", 1),
    ("namespace", 1),
];

/// Valid HAProxy server options that would change behaviour and are not
/// implemented.
const UNSUPPORTED: &[&str] = &[
    "check-send-proxy",
    "check-proto",
    "check-alpn",
    "check-via-socks4",
    "crl-file",
    "minconn",
    "npn",
    "proxy-v2-options",
    "redir",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "socks4",
    "source",
    "usesrc",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
];

enum KwErr {
    Msg(String),
    /// A `ca-file` that cannot be opened: HAProxy reports it on two lines.
    CaFile(PathBuf, std::io::Error),
}

fn time_value(v: &str, kw: &str, srv: &str, allow_zero: bool) -> Result<Duration, KwErr> {
    if v.is_empty() {
        return Err(KwErr::Msg(format!("'{kw}' expects a delay as argument.")));
    }
    match parse_time(v, TimeUnit::Ms) {
        Ok(t) if t.value == 0 && !allow_zero => Err(KwErr::Msg(format!(
            "invalid value 0 for argument '{kw}' of server {srv}."
        ))),
        Ok(t) => Ok(TimeUnit::Ms.to_duration(t.value)),
        Err(TimeError::Overflow) => Err(KwErr::Msg(format!(
            "timer overflow in argument <{v}> to <{kw}> of server {srv}, maximum value is 2147483647 ms (~24.8 days)."
        ))),
        Err(TimeError::Underflow) => Err(KwErr::Msg(format!(
            "timer underflow in argument <{v}> to <{kw}> of server {srv}, minimum non-null value is 1 ms."
        ))),
        Err(TimeError::BadChar(c)) => Err(KwErr::Msg(format!(
            "unexpected character '{c}' in '{kw}' argument of server {srv}."
        ))),
        Err(TimeError::Empty) => Err(KwErr::Msg(format!("'{kw}' expects a delay as argument."))),
    }
}

fn int_value(v: &str, kw: &str) -> Result<u32, KwErr> {
    parse_u32(v).ok_or_else(|| KwErr::Msg(format!("'{kw}' expects an integer argument.")))
}

fn port_value(v: &str, kw: &str) -> Result<u16, KwErr> {
    parse_u32(v)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| KwErr::Msg(format!("'{kw}' expects a port number as argument.")))
}

/// Apply one option at `i`; returns how many words it used.
fn apply(
    ctx: &mut Ctx,
    s: &mut Server,
    l: &Line<'_>,
    i: usize,
    is_default: bool,
    srv: &str,
) -> Result<usize, KwErr> {
    let kw = l.arg(i);
    let v = l.arg(i + 1);
    let need = |what: &str| -> Result<(), KwErr> {
        if v.is_empty() {
            Err(KwErr::Msg(format!("'{kw}' expects {what} as argument.")))
        } else {
            Ok(())
        }
    };
    match kw {
        "check" => s.check = true,
        "no-check" => s.check = false,
        "inter" => {
            s.inter = time_value(v, kw, srv, false)?;
            return Ok(2);
        }
        "fastinter" => {
            s.fastinter = Some(time_value(v, kw, srv, false)?);
            return Ok(2);
        }
        "downinter" => {
            s.downinter = Some(time_value(v, kw, srv, false)?);
            return Ok(2);
        }
        "slowstart" => {
            let t = time_value(v, kw, srv, true)?;
            s.slowstart = (!t.is_zero()).then_some(t);
            return Ok(2);
        }
        "rise" | "fall" => {
            let n = int_value(v, kw)?;
            if n == 0 {
                return Err(KwErr::Msg(format!("'{kw}' has to be > 0.")));
            }
            if kw == "rise" {
                s.rise = n;
            } else {
                s.fall = n;
            }
            return Ok(2);
        }
        "weight" => {
            let n = match v.parse::<i64>() {
                Ok(n) => n,
                Err(_) => return Err(KwErr::Msg(format!("'{kw}' expects an integer argument."))),
            };
            if !(0..=256).contains(&n) {
                return Err(KwErr::Msg(format!(
                    "weight of server {srv} is not within 0 and 256 ({n})."
                )));
            }
            s.weight = n as u32;
            return Ok(2);
        }
        "maxconn" => {
            s.maxconn = Some(int_value(v, kw)?);
            return Ok(2);
        }
        "maxqueue" => {
            s.maxqueue = Some(int_value(v, kw)?);
            return Ok(2);
        }
        "error-limit" => {
            let n = int_value(v, kw)?;
            if n == 0 {
                return Err(KwErr::Msg(format!("'{kw}' has to be > 0.")));
            }
            s.error_limit = n;
            return Ok(2);
        }
        "backup" => s.backup = true,
        "no-backup" => s.backup = false,
        "disabled" => s.disabled = true,
        "enabled" => s.disabled = false,
        "cookie" => {
            need("<value>")?;
            s.cookie = Some(v.to_string());
            return Ok(2);
        }
        "resolvers" => {
            need("<resolvers section id>")?;
            s.resolvers = Some(v.to_string());
            return Ok(2);
        }
        "init-addr" => {
            need("<method>[,<method>]*")?;
            let mut list = Vec::new();
            for m in v.split(',') {
                list.push(match m {
                    "last" => InitAddr::Last,
                    "libc" => InitAddr::Libc,
                    "none" => InitAddr::None,
                    ip => match ip.parse() {
                        Ok(ip) => InitAddr::Ip(ip),
                        Err(_) => {
                            return Err(KwErr::Msg(format!(
                                "'{kw}' : unsupported method '{m}' in '{v}'."
                            )));
                        }
                    },
                });
            }
            s.init_addr = list;
            return Ok(2);
        }
        "resolve-prefer" => {
            if v != "ipv4" && v != "ipv6" {
                return Err(KwErr::Msg(format!(
                    "'{kw}' expects either ipv4 or ipv6 as argument."
                )));
            }
            s.resolve_prefer = Some(v.to_string());
            return Ok(2);
        }
        "observe" => {
            s.observe = Some(match v {
                "layer4" => Observe::Layer4,
                "layer7" => Observe::Layer7,
                "none" => return Ok(2),
                _ => {
                    return Err(KwErr::Msg(format!(
                        "'{kw}' expects one of 'none', 'layer4', 'layer7' but got '{v}'"
                    )));
                }
            });
            return Ok(2);
        }
        "on-error" => {
            s.on_error = match v {
                "fastinter" => OnError::Fastinter,
                "fail-check" => OnError::FailCheck,
                "sudden-death" => OnError::SuddenDeath,
                "mark-down" => OnError::MarkDown,
                _ => {
                    return Err(KwErr::Msg(format!(
                        "'{kw}' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{v}'"
                    )));
                }
            };
            return Ok(2);
        }
        "on-marked-down" => {
            if v != "shutdown-sessions" {
                return Err(KwErr::Msg(format!(
                    "'{kw}' expects 'shutdown-sessions' but got '{v}'"
                )));
            }
            s.on_marked_down_shutdown = true;
            return Ok(2);
        }
        "on-marked-up" => {
            if v != "shutdown-backup-sessions" {
                return Err(KwErr::Msg(format!(
                    "'{kw}' expects 'shutdown-backup-sessions' but got '{v}'"
                )));
            }
            s.on_marked_up_shutdown_backup = true;
            return Ok(2);
        }
        "check-port" | "port" => {
            if kw == "check-port" {
                ctx.warn(
                    l.loc,
                    "'check-port' is a switchyard alias; HAProxy 2.6 only knows 'port' for the check port.",
                );
            }
            s.check_port = Some(port_value(v, kw)?);
            return Ok(2);
        }
        "addr" => {
            need("an address")?;
            match v.parse() {
                Ok(ip) => s.check_addr = Some(ip),
                Err(_) => return Err(KwErr::Msg(format!("'{kw}' : invalid address: '{v}'."))),
            }
            return Ok(2);
        }
        "agent-check" => s.agent_check = true,
        "agent-addr" => {
            need("an address")?;
            match v.parse() {
                Ok(ip) => s.agent_addr = Some(ip),
                Err(_) => {
                    return Err(KwErr::Msg(format!(
                        "parsing agent-addr failed. Check if '{v}' is correct address."
                    )))
                }
            }
            return Ok(2);
        }
        "no-agent-check" => s.agent_check = false,
        "agent-port" => {
            s.agent_port = Some(port_value(v, kw)?);
            return Ok(2);
        }
        "agent-inter" => {
            s.agent_inter = Some(time_value(v, kw, srv, false)?);
            return Ok(2);
        }
        "agent-send" => {
            need("a string")?;
            s.agent_send = Some(v.to_string());
            return Ok(2);
        }
        "track" => {
            need("[<backend>/]<server>")?;
            s.track = Some(v.to_string());
            return Ok(2);
        }
        "ssl" => {
            s.ssl = true;
            s.ssl_ctx = true;
        }
        "no-ssl" => s.ssl = false,
        "verify" => {
            if v != "none" && v != "required" {
                return Err(KwErr::Msg(format!(
                    "'{kw}' : unknown verify method '{v}', only 'none' and 'required' are supported."
                )));
            }
            s.verify = Some(v.to_string());
            return Ok(2);
        }
        "sni" => {
            if v.is_empty() {
                return Err(KwErr::Msg(format!("'{kw}' : missing sni expression.")));
            }
            s.sni_expr = Some(crate::server_tls::sni_expr(ctx, l.loc, v).map_err(KwErr::Msg)?);
            s.sni = Some(v.to_string());
            return Ok(2);
        }
        "alpn" => {
            if v.is_empty() {
                return Err(KwErr::Msg(format!(
                    "'{kw}' : missing the comma-delimited ALPN protocol suite."
                )));
            }
            s.alpn = v.split(',').map(str::to_string).collect();
            if s.alpn.iter().any(|p| p != "http/1.1") {
                ctx.warn(l.loc, crate::server_tls::alpn_warning(srv, v));
            }
            return Ok(2);
        }
        "ca-file" => {
            if v.is_empty() {
                return Err(KwErr::Msg(format!("'{kw}' : missing CAfile path.")));
            }
            let path = crate_path(ctx.ca_base.as_deref(), v);
            if let Err(e) = std::fs::File::open(&path) {
                return Err(KwErr::CaFile(path, e));
            }
            s.ca_file = Some(path);
            return Ok(2);
        }
        "crt" => {
            if v.is_empty() {
                return Err(KwErr::Msg(format!(
                    "'{kw}' : missing certificate file path."
                )));
            }
            s.crt = Some(crate_path(ctx.crt_base.as_deref(), v));
            return Ok(2);
        }
        "check-ssl" => s.check_ssl = Some(true),
        "no-check-ssl" => s.check_ssl = Some(false),
        "check-sni" => {
            if v.is_empty() {
                return Err(KwErr::Msg(format!("'{kw}' : missing SNI.")));
            }
            s.check_sni = Some(v.to_string());
            return Ok(2);
        }
        "verifyhost" => {
            if v.is_empty() {
                return Err(KwErr::Msg(format!(
                    "'{kw}' : missing hostname to verify against."
                )));
            }
            s.verifyhost = Some(v.to_string());
            return Ok(2);
        }
        "no-verifyhost" => s.verifyhost = None,
        "proto" => {
            match v {
                "h2" => s.proto_h2 = true,
                "h1" => s.proto_h2 = false,
                "" => return Err(KwErr::Msg(format!("'{kw}' : missing value"))),
                other => {
                    return Err(KwErr::Msg(format!(
                        "'{kw}' : protocol '{other}' is not supported by switchyard"
                    )))
                }
            }
            return Ok(2);
        }
        "send-proxy" => s.send_proxy = true,
        "no-send-proxy" => s.send_proxy = false,
        "id" => {
            if is_default {
                return Err(KwErr::Msg(
                    "'id' : not supported in default-server.".to_string(),
                ));
            }
            need("an integer")?;
            match v.parse::<i64>() {
                Ok(n) if n > 0 && n <= i64::from(i32::MAX) => {
                    s.id = n as u32;
                    s.forced_id = true;
                }
                _ => return Err(KwErr::Msg("custom id has to be > 0.".to_string())),
            }
            return Ok(2);
        }
        _ => {
            if let Some((_, n)) = HARMLESS_SERVER_KEYWORDS.iter().find(|(k, _)| *k == kw) {
                if *n > 0 && v.is_empty() {
                    return Err(KwErr::Msg(format!("'{kw}' expects an argument.")));
                }
                ctx.warn(
                    l.loc,
                    format!("server keyword '{kw}' is ignored by switchyard."),
                );
                return Ok(1 + n);
            }
            if UNSUPPORTED.contains(&kw) {
                return Err(KwErr::Msg(format!(
                    "keyword '{kw}' is not supported by switchyard."
                )));
            }
            let mut msg = format!("unknown keyword '{kw}'.");
            // HAProxy suggests from all its server keywords.
            let all = SERVER_KEYWORDS
                .iter()
                .copied()
                .chain(HARMLESS_SERVER_KEYWORDS.iter().map(|(k, _)| *k))
                .chain(UNSUPPORTED.iter().copied());
            if let Some(b) = best_match(kw, all) {
                msg = format!("unknown keyword '{kw}'; did you mean '{b}' maybe ?");
            }
            return Err(KwErr::Msg(msg));
        }
    }
    Ok(1)
}

fn crate_path(base: Option<&str>, v: &str) -> PathBuf {
    match base {
        Some(b) if !v.starts_with('/') => PathBuf::from(b).join(v),
        _ => PathBuf::from(v),
    }
}

pub(crate) fn parse_server_line(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let kw = l.kw();
    let is_default = kw == "default-server";
    if !is_default && d.is_defaults {
        ctx.error(l.loc, "'server' not allowed in 'defaults' section.");
        return;
    }
    if d.fail_if_not_be(ctx, l.loc, kw) {
        return;
    }
    let mut s = d.default_server.clone();
    s.location = l.loc.clone();
    let (first_opt, label) = if is_default {
        (1, "default-server".to_string())
    } else {
        let name = l.arg(1);
        let addr = l.arg(2);
        if name.is_empty() || addr.is_empty() {
            ctx.error_bare(
                l.loc,
                "'server' expects <name> and <addr>[:<port>] as arguments.",
            );
            return;
        }
        if let Some(c) = invalid_name_char(name) {
            ctx.error(
                l.loc,
                format!("character '{c}' is not permitted in server name '{name}'."),
            );
            return;
        }
        let label = format!("server {}/{name}", d.name);
        match server_addr(addr) {
            Ok(a) => s.addr = a,
            Err(e) => {
                ctx.error_bare(l.loc, format!("'{label}' : {e}"));
                return;
            }
        }
        s.name = name.to_string();
        // Only the default-server's own options carry over, not an id.
        s.id = 0;
        s.forced_id = false;
        (3, label)
    };
    let srv_name = if is_default {
        String::new()
    } else {
        s.name.clone()
    };
    let mut i = first_opt;
    while !l.arg(i).is_empty() {
        match apply(ctx, &mut s, l, i, is_default, &srv_name) {
            Ok(n) => i += n,
            Err(KwErr::Msg(m)) => {
                ctx.error_bare(l.loc, format!("'{label}' : {m}"));
                return;
            }
            Err(KwErr::CaFile(path, e)) => {
                let (shown, why) = (path.display(), crate::server_tls::os_error_text(&e));
                ctx.error_bare(
                    l.loc,
                    format!("'{label}' : Couldn't open the ca-file '{shown}' ({why})."),
                );
                ctx.error(
                    &Location::default(),
                    format!("'ca-file' : unable to load {shown}."),
                );
                return;
            }
        }
    }
    if is_default {
        d.default_server = s;
        return;
    }
    if let Some(prev) = d.be.servers.iter().find(|p| p.name == s.name) {
        ctx.error(
            l.loc,
            format!(
                "{} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                d.type_str(),
                d.name,
                s.name,
                prev.location.line
            ),
        );
        return;
    }
    if s.forced_id {
        if let Some(prev) = d.be.servers.iter().find(|p| p.forced_id && p.id == s.id) {
            ctx.error(
                l.loc,
                format!(
                    "'{label}' : custom id {} already used at line {} for server '{}'.",
                    s.id, prev.location.line, prev.name
                ),
            );
            return;
        }
    }
    d.be.servers.push(s);
}
