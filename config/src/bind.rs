//! `bind <addr>[,<addr>...] [options]`: one [`Bind`] per address (port
//! ranges and comma lists expand), all sharing the options.

use crate::addr::bind_addrs;
use crate::ctx::{Ctx, Line};
use crate::model::{Bind, BindProto, BindSsl};
use std::path::PathBuf;

/// Bind options accepted and ignored with a warning, with how many values
/// follow each.
pub const HARMLESS_BIND_OPTIONS: &[(&str, usize)] = &[
    ("transparent", 0),
    ("defer-accept", 0),
    ("tfo", 0),
    ("strict-sni", 0),
    ("allow-0rtt", 0),
    ("no-tls-tickets", 0),
    ("no-sslv3", 0),
    ("no-tlsv10", 0),
    ("no-tlsv11", 0),
    ("no-tlsv12", 0),
    ("no-tlsv13", 0),
    ("prefer-client-ciphers", 0),
    ("maxconn", 1),
    ("backlog", 1),
    ("process", 1),
    ("thread", 1),
    ("id", 1),
    ("nice", 1),
    ("user", 1),
    ("group", 1),
    ("uid", 1),
    ("gid", 1),
    ("ciphers", 1),
    ("ciphersuites", 1),
    ("ssl-min-ver", 1),
    ("ssl-max-ver", 1),
    ("curves", 1),
    ("ecdhe", 1),
    ("npn", 1),
    ("severity-output", 1),
    ("level", 1),
    ("tcp-ut", 1),
    ("mss", 1),
];

fn with_base(base: Option<&str>, v: &str) -> PathBuf {
    match base {
        Some(b) if !v.starts_with('/') => PathBuf::from(b).join(v),
        _ => PathBuf::from(v),
    }
}

/// Parse a `bind` line; errors are reported to `ctx` and give `None`.
pub(crate) fn parse_bind(ctx: &mut Ctx, l: &Line<'_>, section: &str) -> Option<Vec<Bind>> {
    let addrs = match bind_addrs(l.arg(1)) {
        Ok(a) => a,
        Err(e) => {
            ctx.error(l.loc, format!("'bind' : {e}"));
            return None;
        }
    };
    let prefix = format!("'bind {}' in section '{section}'", l.arg(1));
    let mut name = None;
    let mut ssl = false;
    let mut certs = Vec::new();
    let mut files = Vec::new();
    let mut ca_certs = Vec::new();
    let mut ca_file = None;
    let mut verify = None;
    let mut alpn = Vec::new();
    let mut proto = None;
    let mut accept_proxy = false;
    let mut mode = None;
    let mut v4v6 = false;
    let mut v6only = false;
    let mut i = 2;
    while !l.arg(i).is_empty() {
        let kw = l.arg(i);
        let v = l.arg(i + 1);
        let missing = |ctx: &mut Ctx, what: &str| {
            ctx.error(l.loc, format!("{prefix} : '{kw}' : missing {what}"));
        };
        let mut used = 1;
        match kw {
            "name" => {
                if v.is_empty() {
                    missing(ctx, "name");
                    return None;
                }
                name = Some(v.to_string());
                used = 2;
            }
            "ssl" => ssl = true,
            "crt" => {
                if v.is_empty() {
                    missing(ctx, "certificate location");
                    return None;
                }
                let p = with_base(ctx.crt_base.as_deref(), v);
                if std::fs::metadata(&p).is_err() {
                    ctx.error(
                        l.loc,
                        format!(
                            "{prefix} : unable to stat SSL certificate from file '{}' : No such file or directory.",
                            p.display()
                        ),
                    );
                    return None;
                }
                match crate::certs::load_crt(&p) {
                    Ok(f) => files.extend(f),
                    Err(e) => {
                        ctx.error(l.loc, format!("{prefix} : {e}"));
                        return None;
                    }
                }
                certs.push(p);
                used = 2;
            }
            "ca-file" => {
                if v.is_empty() {
                    missing(ctx, "CAfile path");
                    return None;
                }
                let p = with_base(ctx.ca_base.as_deref(), v);
                match crate::certs::load_ca(&p) {
                    Some(c) => ca_certs = c,
                    None => {
                        ctx.error(
                            l.loc,
                            format!("{prefix} : '{kw}' : unable to load {}", p.display()),
                        );
                        return None;
                    }
                }
                ca_file = Some(p);
                used = 2;
            }
            "verify" => {
                if !matches!(v, "none" | "optional" | "required") {
                    ctx.error(
                        l.loc,
                        format!(
                            "{prefix} : '{kw}' : unknown verify method '{v}', only 'none', 'optional', and 'required' are supported"
                        ),
                    );
                    return None;
                }
                verify = Some(v.to_string());
                used = 2;
            }
            "alpn" => {
                if v.is_empty() {
                    missing(ctx, "the comma-delimited ALPN protocol suite");
                    return None;
                }
                alpn = v.split(',').map(str::to_string).collect();
                used = 2;
            }
            "proto" => {
                proto = Some(match v {
                    "" => {
                        missing(ctx, "value");
                        return None;
                    }
                    "h1" => BindProto::H1,
                    "h2" => BindProto::H2,
                    // Known to HAProxy 2.6, but not for an HTTP listener.
                    "fcgi" | "none" => {
                        ctx.error(
                            l.loc,
                            format!("{prefix} : '{kw}' : MUX protocol '{v}' is not usable for 'bind {}'.", l.arg(1)),
                        );
                        return None;
                    }
                    _ => {
                        ctx.error(
                            l.loc,
                            format!("{prefix} : '{kw}' :  unknown MUX protocol '{v}'"),
                        );
                        return None;
                    }
                });
                used = 2;
            }
            "accept-proxy" => accept_proxy = true,
            "mode" => {
                match u32::from_str_radix(v, 8) {
                    Ok(m) if !v.is_empty() && m <= 0o7777 => mode = Some(m),
                    _ => {
                        ctx.error(
                            l.loc,
                            format!("{prefix} : '{kw}' : missing or invalid mode '{v}' (octal integer expected)"),
                        );
                        return None;
                    }
                }
                used = 2;
            }
            "v4v6" => v4v6 = true,
            "v6only" => v6only = true,
            "crt-list" | "interface" | "namespace" | "quic-cc-algo" | "accept-netscaler-cip" => {
                ctx.error(
                    l.loc,
                    format!("{prefix} : '{kw}' is not supported by switchyard."),
                );
                return None;
            }
            _ => match HARMLESS_BIND_OPTIONS.iter().find(|(k, _)| *k == kw) {
                Some((_, n)) => {
                    if *n > 0 && v.is_empty() {
                        missing(ctx, "value");
                        return None;
                    }
                    ctx.warn(
                        l.loc,
                        format!("bind option '{kw}' is ignored by switchyard."),
                    );
                    used = 1 + n;
                }
                None => {
                    ctx.error(l.loc, format!("{prefix}: unknown keyword '{kw}'."));
                    return None;
                }
            },
        }
        i += used;
    }
    if !certs.is_empty() && !ssl {
        ctx.warn(l.loc, format!("{prefix} : 'crt' is only used with 'ssl'."));
    }
    if ssl && ca_file.is_none() && matches!(verify.as_deref(), Some("optional" | "required")) {
        ctx.error(
            l.loc,
            format!(
                "verify is enabled but no CA file specified for bind '{}'.",
                l.arg(1)
            ),
        );
        return None;
    }
    if ssl && !alpn.is_empty() {
        // We speak HTTP/1.1 and HTTP/2: other protocols are not advertised,
        // so a client falls back to one of those instead of failing.
        let dropped: Vec<&str> = alpn
            .iter()
            .map(String::as_str)
            .filter(|p| !matches!(*p, "http/1.1" | "h2"))
            .collect();
        if !dropped.is_empty() {
            ctx.warn(
                l.loc,
                format!(
                    "{prefix} : 'alpn' : switchyard serves HTTP/1.1 and h2 only; not advertising '{}'.",
                    dropped.join(",")
                ),
            );
        }
    }
    let bind_ssl = ssl.then(|| BindSsl {
        certs: certs.clone(),
        ca_file: ca_file.clone(),
        verify: verify.clone(),
        files,
        ca_certs,
    });
    if ssl && certs.is_empty() {
        ctx.error(
            l.loc,
            format!("{prefix} : 'ssl' needs at least one certificate ('crt')."),
        );
        return None;
    }
    Some(
        addrs
            .into_iter()
            .map(|addr| Bind {
                addr,
                location: l.loc.clone(),
                name: name.clone(),
                ssl: bind_ssl.clone(),
                alpn: alpn.clone(),
                proto,
                accept_proxy,
                mode,
                v4v6,
                v6only,
            })
            .collect(),
    )
}
