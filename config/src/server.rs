//! `server <name> <addr> [options]` and `default-server [options]`.

use crate::acl::{invalid_name_char, invalid_prefix_char};
use crate::addr::{server_addr, socket_addr};
use crate::cnum::atoi;
use crate::ctx::{Ctx, Line};
use crate::diag::best_match;
use crate::model::{Diagnostic, InitAddr, IpNet, Location, Observe, OnError, Server, ServerAddr};
use crate::proxy::ProxyDraft;
use crate::server_kw::{
    check_harmless, check_unsupported, is_mux_proto, msg, KwErr, HARMLESS_SERVER_KEYWORDS,
    NOT_IN_DEFAULT_SERVER, UNSUPPORTED,
};
use crate::units::{parse_time, TimeError, TimeUnit};
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
        resolve_net: Vec::new(),
        allow_dup_ip: false,
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
        forced_id_flag: false,
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
    "resolve-net",
    "resolve-opts",
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

/// `inter`, `fastinter`, `downinter`, `agent-inter`: a non-zero delay in ms.
fn time_value(v: &str, kw: &str, srv: &str) -> Result<Duration, KwErr> {
    if v.is_empty() {
        return Err(msg(format!("'{kw}' expects a delay as argument.")));
    }
    match parse_time(v, TimeUnit::Ms) {
        Ok(t) if t.value == 0 => Err(msg(format!(
            "invalid value 0 for argument '{kw}' of server {srv}."
        ))),
        Ok(t) => Ok(TimeUnit::Ms.to_duration(t.value)),
        Err(TimeError::Overflow) => Err(msg(format!(
            "timer overflow in argument <{v}> to <{kw}> of server {srv}, maximum value is 2147483647 ms (~24.8 days)."
        ))),
        Err(TimeError::Underflow) => Err(msg(format!(
            "timer underflow in argument <{v}> to <{kw}> of server {srv}, minimum non-null value is 1 ms."
        ))),
        // HAProxy 2.6 names 'agent-inter' for all four keywords here.
        Err(TimeError::BadChar(c)) => Err(msg(format!(
            "unexpected character '{c}' in 'agent-inter' argument of server {srv}."
        ))),
        Err(TimeError::Empty) => Err(msg(format!("'{kw}' expects a delay as argument."))),
    }
}

/// `slowstart`: zero allowed (off); HAProxy keeps whole seconds, rounded up.
fn slowstart_value(v: &str, srv: &str) -> Result<Option<Duration>, KwErr> {
    match parse_time(v, TimeUnit::Ms) {
        Ok(t) => {
            let secs = t.value.div_ceil(1000);
            Ok((secs > 0).then(|| Duration::from_secs(u64::from(secs))))
        }
        Err(TimeError::Overflow) => Err(msg(format!(
            "overflow in argument <{v}> to <slowstart> of server {srv}, maximum value is 2147483647 ms (~24.8 days)."
        ))),
        Err(TimeError::Underflow) => Err(msg(format!(
            "underflow in argument <{v}> to <slowstart> of server {srv}, minimum non-null value is 1 ms."
        ))),
        Err(TimeError::BadChar(c)) => Err(msg(format!(
            "unexpected character '{c}' in 'slowstart' argument of server {srv}."
        ))),
        // HAProxy prints the string's NUL with %c, which ends the message.
        Err(TimeError::Empty) => Err(msg("unexpected character '")),
    }
}

/// `rise`/`fall`: atol, then > 0.
fn positive(v: &str, kw: &str) -> Result<u32, KwErr> {
    if v.is_empty() {
        return Err(msg(format!("'{kw}' expects an integer argument.")));
    }
    match u32::try_from(atoi(v)) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(msg(format!("'{kw}' has to be > 0."))),
    }
}

/// `maxconn`/`maxqueue`: atol into an int; 0 means no limit, and so does a
/// negative value (HAProxy compares it as unsigned: never reached).
fn limit(v: &str) -> Option<u32> {
    u32::try_from(atoi(v)).ok().filter(|n| *n > 0)
}

/// A port stored in an `unsigned short` by HAProxy: the low 16 bits.
fn short_port(v: &str) -> u16 {
    atoi(v) as u16
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
    match kw {
        "check" => s.check = true,
        "no-check" => s.check = false,
        "inter" => {
            s.inter = time_value(v, kw, srv)?;
            return Ok(2);
        }
        "fastinter" => {
            s.fastinter = Some(time_value(v, kw, srv)?);
            return Ok(2);
        }
        "downinter" => {
            s.downinter = Some(time_value(v, kw, srv)?);
            return Ok(2);
        }
        "slowstart" => {
            s.slowstart = slowstart_value(v, srv)?;
            return Ok(2);
        }
        "rise" => {
            s.rise = positive(v, kw)?;
            return Ok(2);
        }
        "fall" => {
            s.fall = positive(v, kw)?;
            return Ok(2);
        }
        "weight" => {
            let n = atoi(v);
            if !(0..=256).contains(&n) {
                return Err(msg(format!(
                    "weight of server {srv} is not within 0 and 256 ({n})."
                )));
            }
            s.weight = n.unsigned_abs();
            return Ok(2);
        }
        "maxconn" => {
            s.maxconn = limit(v);
            return Ok(2);
        }
        "maxqueue" => {
            s.maxqueue = limit(v);
            return Ok(2);
        }
        "error-limit" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' expects an integer argument.")));
            }
            match u32::try_from(atoi(v)) {
                Ok(n) if n > 0 => s.error_limit = n,
                _ => return Err(msg(format!("{kw} has to be > 0."))),
            }
            return Ok(2);
        }
        "backup" => s.backup = true,
        "no-backup" => s.backup = false,
        "disabled" => s.disabled = true,
        "enabled" => s.disabled = false,
        "cookie" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' expects <value> as argument.")));
            }
            s.cookie = Some(v.to_string());
            return Ok(2);
        }
        "resolvers" => {
            // HAProxy takes even an empty name, and fails later to find it.
            s.resolvers = Some(v.to_string());
            return Ok(2);
        }
        "init-addr" => {
            let mut list = Vec::new();
            for m in v.split(',').filter(|m| !m.is_empty()) {
                let method = match m {
                    "last" => InitAddr::Last,
                    "libc" => InitAddr::Libc,
                    "none" => InitAddr::None,
                    ip => match ip.parse() {
                        Ok(ip) => InitAddr::Ip(ip),
                        Err(_) => {
                            return Err(msg(format!(
                                "'{kw}' : unknown init-addr method '{m}', supported methods are 'libc', 'last', 'none'."
                            )));
                        }
                    },
                };
                list.push(method);
            }
            s.init_addr = list;
            return Ok(2);
        }
        "resolve-net" => {
            check_harmless(kw, v)?;
            s.resolve_net = v.split(',').filter_map(IpNet::parse).collect();
            return Ok(2);
        }
        "resolve-opts" => {
            check_harmless(kw, v)?;
            // The last of allow-dup-ip / prevent-dup-ip wins.
            for o in v.split(',') {
                match o {
                    "allow-dup-ip" => s.allow_dup_ip = true,
                    "prevent-dup-ip" => s.allow_dup_ip = false,
                    _ => {}
                }
            }
            return Ok(2);
        }
        "resolve-prefer" => {
            if v != "ipv4" && v != "ipv6" {
                return Err(msg(format!(
                    "'{kw}' expects either ipv4 or ipv6 as argument."
                )));
            }
            s.resolve_prefer = Some(v.to_string());
            return Ok(2);
        }
        "observe" => {
            s.observe = match v {
                "" => return Err(msg(format!("'{kw}' expects <mode> as argument."))),
                "layer4" => Some(Observe::Layer4),
                "layer7" => Some(Observe::Layer7),
                "none" => None,
                _ => {
                    return Err(msg(format!(
                        "'{kw}' expects one of 'none', 'layer4', 'layer7' but got '{v}'"
                    )));
                }
            };
            return Ok(2);
        }
        "on-error" => {
            s.on_error = match v {
                "fastinter" => OnError::Fastinter,
                "fail-check" => OnError::FailCheck,
                "sudden-death" => OnError::SuddenDeath,
                "mark-down" => OnError::MarkDown,
                _ => {
                    return Err(msg(format!(
                        "'{kw}' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{v}'"
                    )));
                }
            };
            return Ok(2);
        }
        "on-marked-down" => {
            if v != "shutdown-sessions" {
                return Err(msg(format!(
                    "'{kw}' expects 'shutdown-sessions' but got '{v}'"
                )));
            }
            s.on_marked_down_shutdown = true;
            return Ok(2);
        }
        "on-marked-up" => {
            if v != "shutdown-backup-sessions" {
                return Err(msg(format!(
                    "'{kw}' expects 'shutdown-backup-sessions' but got '{v}'"
                )));
            }
            s.on_marked_up_shutdown_backup = true;
            return Ok(2);
        }
        "port" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' expects a port number as argument.")));
            }
            // 0 (or junk) means "the server's own port".
            s.check_port = Some(short_port(v)).filter(|p| *p != 0);
            return Ok(2);
        }
        "addr" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' expects <ipv4|ipv6> as argument.")));
            }
            match socket_addr(v, Some(0)) {
                Ok(a) => s.check_addr = Some(a.ip()),
                Err(e) => return Err(msg(format!("'{kw}' : {e}"))),
            }
            return Ok(2);
        }
        "agent-check" => s.agent_check = true,
        "agent-addr" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' expects an address as argument.")));
            }
            match v.parse() {
                Ok(ip) => s.agent_addr = Some(ip),
                Err(_) => {
                    return Err(msg(format!(
                        "parsing agent-addr failed. Check if '{v}' is correct address."
                    )))
                }
            }
            return Ok(2);
        }
        "no-agent-check" => s.agent_check = false,
        "agent-port" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' expects a port number as argument.")));
            }
            // Kept even when 0: an explicit agent port is not replaced by `port`.
            s.agent_port = Some(short_port(v));
            return Ok(2);
        }
        "agent-inter" => {
            s.agent_inter = Some(time_value(v, kw, srv)?);
            return Ok(2);
        }
        "agent-send" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' expects a string as argument.")));
            }
            s.agent_send = Some(v.to_string());
            return Ok(2);
        }
        "track" => {
            if v.is_empty() {
                return Err(msg("'track' expects [<proxy>/]<server> as argument."));
            }
            s.track = Some(v.to_string());
            return Ok(2);
        }
        "ssl" => {
            s.ssl = true;
            s.ssl_ctx = true;
        }
        "no-ssl" => s.ssl = false,
        "verify" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' : missing verify method")));
            }
            if v != "none" && v != "required" {
                return Err(msg(format!(
                    "'{kw}' : unknown verify method '{v}', only 'none' and 'required' are supported"
                )));
            }
            s.verify = Some(v.to_string());
            return Ok(2);
        }
        "sni" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' : missing sni expression")));
            }
            s.sni_expr = Some(crate::server_tls::sni_expr(ctx, l.loc, v).map_err(KwErr::Raw)?);
            s.sni = Some(v.to_string());
            return Ok(2);
        }
        "alpn" => {
            if v.is_empty() {
                return Err(msg(format!(
                    "'{kw}' : missing the comma-delimited ALPN protocol suite"
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
                return Err(msg(format!("'{kw}' : missing CAfile path")));
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
                return Err(msg(format!("'{kw}' : missing certificate file path")));
            }
            s.crt = Some(crate_path(ctx.crt_base.as_deref(), v));
            return Ok(2);
        }
        "check-ssl" => s.check_ssl = Some(true),
        "no-check-ssl" => s.check_ssl = Some(false),
        "check-sni" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' : missing SNI")));
            }
            s.check_sni = Some(v.to_string());
            return Ok(2);
        }
        "verifyhost" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' : missing hostname to verify against")));
            }
            s.verifyhost = Some(v.to_string());
            return Ok(2);
        }
        "no-verifyhost" => s.verifyhost = None,
        "proto" => {
            match v {
                "h2" => s.proto_h2 = true,
                "h1" => s.proto_h2 = false,
                "" => return Err(msg(format!("'{kw}' : missing value"))),
                other if is_mux_proto(other) => {
                    return Err(msg(format!(
                        "'{kw}' : protocol '{other}' is not supported by switchyard"
                    )))
                }
                // Two spaces: HAProxy's own wording.
                other => return Err(msg(format!("'{kw}' :  unknown MUX protocol '{other}'"))),
            }
            return Ok(2);
        }
        "send-proxy" => s.send_proxy = true,
        "no-send-proxy" => s.send_proxy = false,
        "id" => {
            if v.is_empty() {
                return Err(msg(format!("'{kw}' : expects an integer argument")));
            }
            let n = atoi(v);
            let Ok(id) = u32::try_from(n) else {
                return Err(msg(format!("'{kw}' : custom id has to be > 0")));
            };
            if id == 0 {
                return Err(msg(format!("'{kw}' : custom id has to be > 0")));
            }
            s.id = id;
            s.forced_id = true;
            s.forced_id_flag = true;
            return Ok(2);
        }
        _ => return other_keyword(ctx, l, kw, v, is_default),
    }
    Ok(1)
}

/// Ignored, refused and unknown keywords.
fn other_keyword(
    ctx: &mut Ctx,
    l: &Line<'_>,
    kw: &str,
    v: &str,
    is_default: bool,
) -> Result<usize, KwErr> {
    if let Some((_, n)) = HARMLESS_SERVER_KEYWORDS.iter().find(|(k, _)| *k == kw) {
        check_harmless(kw, v)?;
        ctx.warn(
            l.loc,
            format!("server keyword '{kw}' is ignored by switchyard."),
        );
        return Ok(1 + n);
    }
    if UNSUPPORTED.contains(&kw) {
        check_unsupported(kw, v)?;
        return Err(msg(format!(
            "keyword '{kw}' is not supported by switchyard"
        )));
    }
    // HAProxy suggests from all its server keywords.
    let all = SERVER_KEYWORDS
        .iter()
        .copied()
        .chain(HARMLESS_SERVER_KEYWORDS.iter().map(|(k, _)| *k))
        .chain(UNSUPPORTED.iter().copied());
    let mut text = match best_match(kw, all) {
        Some(b) => format!("unknown keyword '{kw}'; did you mean '{b}' maybe ?"),
        None => format!("unknown keyword '{kw}'."),
    };
    if is_default {
        text.push_str(" Hint: no address was expected for this server.");
    }
    Err(KwErr::Raw(text))
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
    let is_template = kw == "server-template";
    if !is_default && d.is_defaults {
        ctx.error(l.loc, format!("'{kw}' not allowed in 'defaults' section."));
        return;
    }
    if d.fail_if_not_be(ctx, l.loc, kw) {
        return;
    }
    let mut s = d.default_server.clone();
    s.location = l.loc.clone();
    let mut range = None;
    let (first_opt, label) = if is_default {
        (1, "default-server".to_string())
    } else if is_template {
        let Some((r, a)) = template_head(ctx, d, l) else {
            return;
        };
        range = Some(r);
        s.addr = a;
        // HAProxy names the template "(null)" until it is expanded.
        s.name = "(null)".to_string();
        s.id = 0;
        s.forced_id = false;
        s.forced_id_flag = false;
        (4, format!("server {}/(null)", d.name))
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
        s.forced_id_flag = false;
        (3, label)
    };
    // HAProxy names the default server "default-server" in its messages,
    // and prints its errors without a 'server' label.
    let srv_name = if is_default {
        "default-server".to_string()
    } else {
        s.name.clone()
    };
    let prefix = if is_default {
        String::new()
    } else {
        format!("'{label}' : ")
    };
    let mut i = first_opt;
    while !l.arg(i).is_empty() {
        let kw = l.arg(i);
        if is_default && NOT_IN_DEFAULT_SERVER.contains(&kw) {
            // HAProxy alerts but carries on: the line still loads.
            ctx.diags.warnings.push(Diagnostic {
                location: l.loc.clone(),
                message: format!("'{kw}' option is not accepted in default-server sections"),
                bare: true,
            });
            i += if kw == "id" { 2 } else { 1 };
            continue;
        }
        match apply(ctx, &mut s, l, i, is_default, &srv_name) {
            Ok(n) => i += n,
            Err(KwErr::Msg(m)) => {
                ctx.error_bare(l.loc, format!("{prefix}{m}."));
                return;
            }
            Err(KwErr::Raw(m)) => {
                ctx.error_bare(l.loc, format!("{prefix}{m}"));
                return;
            }
            Err(KwErr::CaFile(path, e)) => {
                let (shown, why) = (path.display(), crate::server_tls::os_error_text(&e));
                ctx.error_bare(
                    l.loc,
                    format!("{prefix}Couldn't open the ca-file '{shown}' ({why})."),
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
    // An explicit `port` is the agent's port too unless `agent-port` was given.
    s.agent_port = s.agent_port.or(s.check_port);
    if s.agent_check && s.agent_port.unwrap_or(0) == 0 {
        ctx.error_bare(
            l.loc,
            format!(
                "{prefix}server {} does not have agent port. Agent check has been disabled.",
                s.name
            ),
        );
        return;
    }
    match range {
        Some(r) => expand_template(ctx, d, l, s, r),
        None => add_server(ctx, d, l, &label, s),
    }
}

/// `server-template <prefix> <nb | low-high> <addr>`: the range (numbered
/// servers) and the address, or HAProxy's complaint.
fn template_head(
    ctx: &mut Ctx,
    d: &ProxyDraft,
    l: &Line<'_>,
) -> Option<(std::ops::RangeInclusive<u32>, ServerAddr)> {
    let (prefix, nb, addr) = (l.arg(1), l.arg(2), l.arg(3));
    if addr.is_empty() {
        ctx.error_bare(
            l.loc,
            "'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments.",
        );
        return None;
    }
    if let Some(c) = invalid_prefix_char(prefix) {
        ctx.error_bare(
            l.loc,
            format!("character '{c}' is not permitted in server-template prefix '{prefix}'."),
        );
        return None;
    }
    let Some(range) = template_range(nb) else {
        ctx.error_bare(
            l.loc,
            format!("Wrong server-template number or range arg '{nb}'."),
        );
        return None;
    };
    if range.end() - range.start() >= MAX_TEMPLATE_SERVERS {
        ctx.error_bare(
            l.loc,
            format!("server-template range '{nb}' makes more than {MAX_TEMPLATE_SERVERS} servers."),
        );
        return None;
    }
    match server_addr(addr) {
        Ok(a) => Some((range, a)),
        Err(e) => {
            ctx.error_bare(l.loc, format!("'server {}/(null)' : {e}", d.name));
            None
        }
    }
}

/// Far more than any backend needs; HAProxy would allocate whatever
/// `atoi` returns (and hang on `99999999999`).
const MAX_TEMPLATE_SERVERS: u32 = 100_000;

/// HAProxy's `<nb>` (servers 1..=nb) or `<low>-<high>`, read with `atoi`
/// as it does (`2x` is 2); `None` when low < 0 or high < low.
fn template_range(arg: &str) -> Option<std::ops::RangeInclusive<u32>> {
    // The low end is read from the whole argument: `-3` is low -3.
    let (low, high) = match arg.split_once('-') {
        Some((_, hi)) => (atoi(arg), atoi(hi)),
        None => (1, atoi(arg)),
    };
    if low < 0 || high < low {
        return None;
    }
    Some(u32::try_from(low).ok()?..=u32::try_from(high).ok()?)
}

/// The servers of a template, `<prefix><n>` for each n of the range; an
/// `id` goes to the first one only, its flag (cloned) to all.
fn expand_template(
    ctx: &mut Ctx,
    d: &mut ProxyDraft,
    l: &Line<'_>,
    tmpl: Server,
    range: std::ops::RangeInclusive<u32>,
) {
    let prefix = l.arg(1);
    for (i, n) in range.enumerate() {
        let mut s = tmpl.clone();
        s.name = format!("{prefix}{n}");
        if i > 0 {
            s.id = 0;
            s.forced_id = false;
        }
        let label = format!("server {}/{}", d.name, s.name);
        add_server(ctx, d, l, &label, s);
    }
}

/// Add one parsed server, unless its forced id is taken (two servers of one
/// name are found after parsing, as HAProxy does).
fn add_server(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>, label: &str, s: Server) {
    if s.forced_id {
        if let Some(prev) = d.be.servers.iter().find(|p| p.forced_id && p.id == s.id) {
            ctx.error_bare(
                l.loc,
                format!(
                    "'{label}' : 'id' : custom id {} already used at {}:{} ('server {}').",
                    s.id, prev.location.file, prev.location.line, prev.name
                ),
            );
            return;
        }
    }
    d.be.servers.push(s);
}
