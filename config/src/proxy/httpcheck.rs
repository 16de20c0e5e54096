//! HTTP health checks: `option httpchk [meth] [uri] [ver]` and
//! `http-check send|expect|disable-on-404|send-state`.

use super::ProxyDraft;
use crate::ctx::{Ctx, Line};
use crate::model::{ExpectMatcher, HttpCheck, HttpExpect};

/// What `http-check send` set; it overrides `option httpchk` field by field
/// whatever the order of the two lines, as HAProxy merges them.
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckSend {
    pub method: Option<String>,
    pub uri: Option<String>,
    pub version: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// `option httpchk` arguments (after `option httpchk`).
pub(super) fn option_httpchk(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.warn_if_not_be(ctx, l.loc, "httpchk", "") {
        return;
    }
    if l.too_many(ctx, 1, 3) {
        return;
    }
    let (meth, uri, ver) = match (l.arg(2), l.arg(3), l.arg(4)) {
        ("", _, _) => ("OPTIONS", "/", "HTTP/1.0"),
        (uri, "", _) => ("OPTIONS", uri, "HTTP/1.0"),
        (m, u, "") => (m, u, "HTTP/1.0"),
        (m, u, v) => (m, u, v),
    };
    let mut parts = ver.split("\r\n");
    let version = parts.next().unwrap_or("HTTP/1.0").to_string();
    let mut headers = Vec::new();
    let mut saw_extra = false;
    for h in parts {
        saw_extra = true;
        if h.is_empty() {
            continue;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    if saw_extra {
        ctx.warn(
            l.loc,
            "'option httpchk' : hiding headers or body at the end of the version string is deprecated. \
             Please, consider to use 'http-check send' directive instead.",
        );
    }
    d.be.http_check.enabled = true;
    d.be.http_check.method = meth.to_string();
    d.be.http_check.uri = uri.to_string();
    d.be.http_check.version = version;
    d.be.http_check.headers = headers;
}

fn parse_status_list(text: &str) -> Option<Vec<(u16, u16)>> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let a: u16 = a.parse().ok()?;
        let b: u16 = b.parse().ok()?;
        if a > b {
            return None;
        }
        out.push((a, b));
    }
    Some(out)
}

pub(super) fn http_check(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.warn_if_not_be(ctx, l.loc, "http-check", "") {
        return;
    }
    match l.arg(1) {
        "disable-on-404" => {
            if !l.too_many(ctx, 1, 0) {
                d.be.http_check.disable_on_404 = true;
            }
        }
        "send-state" => {
            if !l.too_many(ctx, 1, 0) {
                d.be.http_check.send_state = true;
            }
        }
        "send" => send(ctx, d, l),
        "expect" => expect(ctx, d, l),
        "comment" => d.check_rules += 1,
        "connect" | "set-var" | "unset-var" | "set-var-fmt" => {
            ctx.error(l.loc, format!("'http-check {}' is not supported by switchyard.", l.arg(1)));
        }
        other => ctx.error(
            l.loc,
            format!(
                "'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', \
                 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{other}'"
            ),
        ),
    }
}

fn send(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.seen_expect {
        ctx.error(
            l.loc,
            format!(
                "'http-check send' : unable to add http-check send rule at step {} (missing connect rule).",
                d.check_rules + 1
            ),
        );
        return;
    }
    let mut s = d.check_send.clone().unwrap_or_default();
    let mut i = 2;
    while !l.arg(i).is_empty() {
        let opt = l.arg(i);
        let v = l.arg(i + 1);
        let need = |ctx: &mut Ctx, what: &str| {
            ctx.error(
                l.loc,
                format!("'http-check send' : '{opt}' expects {what} as argument."),
            );
        };
        match opt {
            "meth" | "uri" | "ver" | "body" | "comment" => {
                if v.is_empty() {
                    need(ctx, "a string");
                    return;
                }
                match opt {
                    "meth" => s.method = Some(v.to_string()),
                    "uri" => s.uri = Some(v.to_string()),
                    "ver" => s.version = Some(v.to_string()),
                    "body" => s.body = Some(v.to_string()),
                    _ => {}
                }
                i += 2;
            }
            "hdr" => {
                let hv = l.arg(i + 2);
                if v.is_empty() || hv.is_empty() {
                    ctx.error(
                        l.loc,
                        "'http-check send' : 'hdr' expects <name> and <value> as arguments.",
                    );
                    return;
                }
                s.headers.push((v.to_string(), hv.to_string()));
                i += 3;
            }
            "uri-lf" | "body-lf" => {
                ctx.error(
                    l.loc,
                    format!("'http-check send' : '{opt}' is not supported by switchyard."),
                );
                return;
            }
            other => {
                ctx.error(
                    l.loc,
                    format!(
                        "'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or \
                         'body-lf' but got '{other}' as argument."
                    ),
                );
                return;
            }
        }
    }
    d.check_rules += 1;
    d.check_send = Some(s);
}

fn expect(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let mut i = 2;
    // Options that tune reporting only; accepted and not modelled.
    while matches!(
        l.arg(i),
        "min-recv"
            | "comment"
            | "ok-status"
            | "error-status"
            | "tout-status"
            | "on-success"
            | "on-error"
            | "status-code"
    ) {
        if l.arg(i + 1).is_empty() {
            ctx.error(
                l.loc,
                format!("'http-check expect' : '{}' expects an argument.", l.arg(i)),
            );
            return;
        }
        i += 2;
    }
    let mut negate = false;
    let mut m = l.arg(i);
    if m == "!" {
        negate = true;
        i += 1;
        m = l.arg(i);
    } else if let Some(rest) = m.strip_prefix('!') {
        negate = true;
        m = rest;
    }
    let pat = l.arg(i + 1);
    let need_pat = |ctx: &mut Ctx| {
        ctx.error(
            l.loc,
            format!("'http-check expect' : '{m}' expects <pattern> as an argument."),
        );
    };
    let matcher = match m {
        "status" => {
            if pat.is_empty() {
                need_pat(ctx);
                return;
            }
            match parse_status_list(pat) {
                Some(list) => ExpectMatcher::Status(list),
                None => {
                    ctx.error(
                        l.loc,
                        format!("'http-check expect' : invalid status list '{pat}'."),
                    );
                    return;
                }
            }
        }
        "rstatus" | "rstring" => {
            if pat.is_empty() {
                need_pat(ctx);
                return;
            }
            if let Err(e) = regex::Regex::new(pat) {
                let short = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string();
                ctx.error(
                    l.loc,
                    format!("'http-check expect' : regex '{pat}' is invalid ({short})."),
                );
                return;
            }
            if m == "rstatus" {
                ExpectMatcher::Rstatus(pat.to_string())
            } else {
                ExpectMatcher::Rstring(pat.to_string())
            }
        }
        "string" => {
            if pat.is_empty() {
                need_pat(ctx);
                return;
            }
            ExpectMatcher::String(pat.to_string())
        }
        "hdr" => {
            if l.arg(i + 1) != "name" || l.arg(i + 2).is_empty() {
                ctx.error(
                    l.loc,
                    "'http-check expect' : 'hdr' expects 'name' and <pattern> as arguments.",
                );
                return;
            }
            ExpectMatcher::Hdr(l.rest(i + 1).join(" "))
        }
        "fhdr" | "string-lf" | "binary" | "rbinary" | "binary-lf" => {
            ctx.error(
                l.loc,
                format!("'http-check expect {m}' is not supported by switchyard."),
            );
            return;
        }
        other => {
            ctx.error(
                l.loc,
                format!(
                    "'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', \
                     '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '{other}' as argument.."
                ),
            );
            return;
        }
    };
    if m != "hdr" && !l.arg(i + 2).is_empty() {
        ctx.error(
            l.loc,
            format!(
                "'http-check expect' : unexpected argument '{}'.",
                l.arg(i + 2)
            ),
        );
        return;
    }
    d.check_rules += 1;
    d.seen_expect = true;
    d.be.http_check.expect.push(HttpExpect { negate, matcher });
}

/// Apply `http-check send` on top of `option httpchk`.
pub(crate) fn finish_http_check(hc: &mut HttpCheck, send: Option<&CheckSend>) {
    if !hc.enabled {
        return;
    }
    if hc.method.is_empty() {
        hc.method = "OPTIONS".to_string();
        hc.uri = "/".to_string();
        hc.version = "HTTP/1.0".to_string();
    }
    if let Some(s) = send {
        if let Some(m) = &s.method {
            hc.method = m.clone();
        }
        if let Some(u) = &s.uri {
            hc.uri = u.clone();
        }
        if let Some(v) = &s.version {
            hc.version = v.clone();
        }
        hc.headers.extend(s.headers.iter().cloned());
        if s.body.is_some() {
            hc.body = s.body.clone();
        }
    }
}
