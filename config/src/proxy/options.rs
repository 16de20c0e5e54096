//! `[no|default] option <name> [args]`.

use super::httpcheck::option_httpchk;
use super::ProxyDraft;
use crate::ctx::{Ctx, Kwm, Line};
use crate::model::{ForwardFor, HttpConnMode, IpNet};

/// Options HAProxy 2.6 has that switchyard accepts and ignores with a
/// warning: they tune TCP, buffering or logging details it does not model.
pub const HARMLESS_OPTIONS: &[&str] = &[
    "abortonclose",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "checkcache",
    "clitcpka",
    "contstats",
    "dontlog-normal",
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "http-buffer-request",
    "http-ignore-probes",
    "http-no-delay",
    "http-pretend-keepalive",
    "http-use-proxy-header",
    "idle-close-on-response",
    "independent-streams",
    "log-separate-errors",
    "logasap",
    "nolinger",
    "prefer-last-server",
    "splice-auto",
    "splice-request",
    "splice-response",
    "srvtcpka",
    "tcp-smart-accept",
    "tcp-smart-connect",
    "tcpka",
];

/// Valid 2.6 options that would change behaviour and are not implemented.
const UNSUPPORTED_OPTIONS: &[&str] = &[
    "httpslog",
    "originalto",
    "ssl-hello-chk",
    "smtpchk",
    "pgsql-check",
    "redis-check",
    "mysql-check",
    "ldap-check",
    "spop-check",
    "tcp-check",
    "external-check",
    "http-restrict-req-hdr-names",
    "transparent",
];

#[derive(Clone, Copy)]
enum Cap {
    Fe,
    Be,
    Both,
}

/// Simple on/off options that are modelled.
fn flag<'a>(d: &'a mut ProxyDraft, name: &str) -> Option<(Cap, &'a mut bool)> {
    Some(match name {
        "dontlognull" => (Cap::Fe, &mut d.options.dontlognull),
        "allbackups" => (Cap::Be, &mut d.options.allbackups),
        "persist" => (Cap::Be, &mut d.options.persist),
        "log-health-checks" => (Cap::Be, &mut d.options.log_health_checks),
        "socket-stats" => (Cap::Fe, &mut d.options.socket_stats),
        "disable-h2-upgrade" => (Cap::Fe, &mut d.options.disable_h2_upgrade),
        _ => return None,
    })
}

fn cap_ok(ctx: &mut Ctx, d: &ProxyDraft, l: &Line<'_>, cap: Cap, name: &str) -> bool {
    match cap {
        Cap::Fe => !d.warn_if_not_fe(ctx, l.loc, name, ""),
        Cap::Be => !d.warn_if_not_be(ctx, l.loc, name, ""),
        Cap::Both => true,
    }
}

pub(super) fn option(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let name = l.arg(1);
    if name.is_empty() {
        ctx.error(l.loc, "'option' expects an option name.");
        return;
    }
    let kwm = l.kwm;

    if flag(d, name).is_some() {
        if l.too_many(ctx, 1, 0) {
            return;
        }
        let cap = flag(d, name).map(|(c, _)| c).unwrap_or(Cap::Both);
        if !cap_ok(ctx, d, l, cap, name) {
            return;
        }
        if let Some((_, slot)) = flag(d, name) {
            *slot = kwm == Kwm::Std;
        }
        return;
    }
    if HARMLESS_OPTIONS.contains(&name) {
        if l.too_many(ctx, 1, 0) {
            return;
        }
        if kwm == Kwm::Std {
            ctx.warn(l.loc, format!("option '{name}' is ignored by switchyard."));
        }
        return;
    }
    let conn_mode = match name {
        "httpclose" => Some(HttpConnMode::Close),
        "http-server-close" => Some(HttpConnMode::ServerClose),
        "http-keep-alive" => Some(HttpConnMode::KeepAlive),
        _ => None,
    };
    if let Some(mode) = conn_mode {
        if l.too_many(ctx, 1, 0) {
            return;
        }
        match kwm {
            Kwm::Std => d.options.conn_mode = mode,
            // `no option x` only cancels x; keep-alive is the default mode.
            Kwm::No | Kwm::Default => {
                if d.options.conn_mode == mode {
                    d.options.conn_mode = HttpConnMode::KeepAlive;
                }
            }
        }
        return;
    }
    match name {
        "forceclose" => {
            ctx.error(
                l.loc,
                "option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use \
                 'option httpclose' if absolutely needed.",
            );
            return;
        }
        "http-tunnel" => {
            ctx.error(
                l.loc,
                "option 'http-tunnel' is not supported any more since HAProxy 2.1, please just remove it, it \
                 shouldn't be needed.",
            );
            return;
        }
        "redispatch" => {
            if d.warn_if_not_be(ctx, l.loc, "redispatch", "") {
                return;
            }
            d.options.redispatch = match kwm {
                Kwm::Std => {
                    let n = l.arg(2);
                    if n.is_empty() {
                        Some(-1)
                    } else {
                        match n.parse::<i32>() {
                            Ok(0) => None,
                            Ok(v) => Some(v),
                            Err(_) => {
                                ctx.error(
                                    l.loc,
                                    format!("'option redispatch' expects an integer (got '{n}')."),
                                );
                                return;
                            }
                        }
                    }
                }
                Kwm::No | Kwm::Default => None,
            };
            return;
        }
        "http_proxy" => {
            ctx.error(
                l.loc,
                "option 'http_proxy' is not supported any more since HAProxy 2.5.",
            );
            return;
        }
        _ => {}
    }
    if kwm != Kwm::Std {
        ctx.error(
            l.loc,
            format!("negation/default is not supported for option '{name}'."),
        );
        return;
    }
    match name {
        "httplog" => {
            match l.arg(2) {
                "" => {}
                "clf" => {
                    ctx.error(
                        l.loc,
                        "option 'httplog clf' is not supported by switchyard.",
                    );
                    return;
                }
                _ => {
                    ctx.error(l.loc, "keyword 'httplog' only supports option 'clf'.");
                    return;
                }
            }
            d.options.httplog = true;
            d.options.tcplog = false;
            d.log_format = None;
            if !d.is_defaults && !d.kind.has_frontend() {
                ctx.warn(
                    l.loc,
                    format!(
                        "backend '{}' : 'option httplog' directive is ignored in backends.",
                        d.name
                    ),
                );
            }
        }
        "tcplog" => {
            if l.too_many(ctx, 1, 0) {
                return;
            }
            d.options.tcplog = true;
            d.options.httplog = false;
            d.log_format = None;
            if !d.is_defaults && !d.kind.has_frontend() {
                ctx.warn(
                    l.loc,
                    format!(
                        "backend '{}' : 'option tcplog' directive is ignored in backends.",
                        d.name
                    ),
                );
            }
        }
        "forwardfor" => forwardfor(ctx, d, l),
        "httpchk" => option_httpchk(ctx, d, l),
        _ if UNSUPPORTED_OPTIONS.contains(&name) => {
            ctx.error(
                l.loc,
                format!("option '{name}' is not supported by switchyard."),
            );
        }
        _ => ctx.error(l.loc, format!("unknown option '{name}'.")),
    }
}

fn forwardfor(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let mut ff = ForwardFor {
        header: "X-Forwarded-For".to_string(),
        except: None,
        if_none: false,
    };
    let mut i = 2;
    while !l.arg(i).is_empty() {
        match l.arg(i) {
            "except" => match IpNet::parse(l.arg(i + 1)) {
                Some(n) => {
                    ff.except = Some(n);
                    i += 2;
                }
                None => {
                    ctx.error(
                        l.loc,
                        "'option forwardfor except' expects <address>[/mask] as argument.",
                    );
                    return;
                }
            },
            "header" => {
                let h = l.arg(i + 1);
                if h.is_empty() {
                    ctx.error(
                        l.loc,
                        "'option forwardfor header' expects <header_name> as argument.",
                    );
                    return;
                }
                if let Some(c) = h
                    .chars()
                    .find(|c| c.is_whitespace() || c.is_control() || *c == ':')
                {
                    ctx.error(
                        l.loc,
                        format!("character '{c}' is not permitted in header name '{h}'."),
                    );
                    return;
                }
                ff.header = h.to_string();
                i += 2;
            }
            "if-none" => {
                ff.if_none = true;
                i += 1;
            }
            _ => {
                ctx.error(
                    l.loc,
                    "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.",
                );
                return;
            }
        }
    }
    d.options.forwardfor = Some(ff);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets() {
        assert_eq!(IpNet::parse("10.0.0.0/8").map(|n| n.prefix), Some(8));
        assert_eq!(IpNet::parse("127.0.0.1").map(|n| n.prefix), Some(32));
        assert_eq!(
            IpNet::parse("10.0.0.0/255.255.0.0").map(|n| n.prefix),
            Some(16)
        );
        assert_eq!(IpNet::parse("::1/128").map(|n| n.prefix), Some(128));
        assert!(IpNet::parse("x").is_none());
        assert!(IpNet::parse("10.0.0.0/33").is_none());
    }
}
