//! `http-request` and `http-response` rules: the action, its arguments and
//! an optional `if`/`unless` condition.

use crate::condition::parse_condition;
use crate::ctx::{Ctx, Line};
use crate::log::log_level;
use crate::logformat::parse_log_format;
use crate::model::{
    Acl, Condition, HttpRequestAction, HttpRequestRule, HttpResponseAction, HttpResponseRule,
    LogFormat, LogLevel, RedirectKind, ReturnBody,
};
use crate::units::parse_u32;

const REQUEST_ACTIONS: &[&str] = &[
    "add-header",
    "allow",
    "del-header",
    "deny",
    "disable-l7-retry",
    "redirect",
    "return",
    "set-header",
    "set-log-level",
    "use-service",
];

/// HAProxy 2.6 request actions switchyard does not implement.
const UNSUPPORTED_REQUEST: &[&str] = &[
    "wait-for-handshake",
    "set-nice",
    "sc-inc-gpc",
    "sc-inc-gpc0",
    "sc-inc-gpc1",
    "sc-set-gpt",
    "sc-set-gpt0",
    "send-spoe-group",
    "do-resolve",
    "cache-use",
    "add-acl",
    "auth",
    "capture",
    "del-acl",
    "del-map",
    "early-hint",
    "normalize-uri",
    "reject",
    "replace-header",
    "replace-path",
    "replace-pathq",
    "replace-uri",
    "replace-value",
    "set-map",
    "set-method",
    "set-path",
    "set-pathq",
    "set-query",
    "set-uri",
    "strict-mode",
    "tarpit",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "set-timeout",
    "wait-for-body",
    "set-var",
    "set-var-fmt",
    "unset-var",
    "set-dst",
    "set-dst-port",
    "set-mark",
    "set-src",
    "set-src-port",
    "set-tos",
    "silent-drop",
    "set-priority-class",
    "set-priority-offset",
];

const RESPONSE_ACTIONS: &[&str] = &["add-header", "del-header", "set-header", "set-log-level"];

impl HttpRequestAction {
    /// Whether the action ends rule processing (HAProxy's ACT_FLAG_FINAL).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            HttpRequestAction::Return { .. }
                | HttpRequestAction::Deny { .. }
                | HttpRequestAction::Allow
                | HttpRequestAction::Redirect { .. }
                | HttpRequestAction::UseService(_)
        )
    }
}

fn base_name(action: &str) -> &str {
    // `set-var(txn.x)` and friends carry their argument in parentheses.
    action.split('(').next().unwrap_or(action)
}

/// Parsed action plus the index where the condition (if any) starts.
type Parsed<A> = Result<(A, usize), String>;

fn lf(ctx: &mut Ctx, l: &Line<'_>, text: &str) -> Result<LogFormat, String> {
    parse_log_format(ctx, l.loc, text)
}

fn cond_at(
    ctx: &mut Ctx,
    l: &Line<'_>,
    i: usize,
    acls: &[Acl],
    kind: &str,
) -> Result<Option<Condition>, ()> {
    let action = l.arg(1);
    match l.arg(i) {
        "" => Ok(None),
        "if" | "unless" => match parse_condition(ctx, l.loc, l.rest(i), acls) {
            Ok(c) => Ok(Some(c)),
            Err(e) => {
                ctx.error(
                    l.loc,
                    format!("error detected while parsing an '{kind} {action}' condition : {e}."),
                );
                Err(())
            }
        },
        other => {
            ctx.error(
                l.loc,
                format!("'{kind} {action}' expects either 'if' or 'unless' followed by a condition but found '{other}'."),
            );
            Err(())
        }
    }
}

fn is_cond_word(w: &str) -> bool {
    w.is_empty() || w == "if" || w == "unless"
}

/// `set-header`/`add-header` name + log-format value; `del-header` name.
fn header_args(
    ctx: &mut Ctx,
    l: &Line<'_>,
    del: bool,
) -> Result<(String, Option<LogFormat>, usize), String> {
    if del {
        let name = l.arg(2);
        if is_cond_word(name) {
            return Err("expects at least 1 argument".to_string());
        }
        let mut i = 3;
        if l.arg(i) == "-m" {
            match l.arg(i + 1) {
                "str" => {}
                "" => return Err("-m flag expects exactly 1 argument".to_string()),
                m @ ("beg" | "end" | "sub" | "reg") => {
                    return Err(format!("-m {m} is not supported by switchyard"));
                }
                m => return Err(format!("-m with unsupported matching method '{m}'")),
            }
            i += 2;
        }
        return Ok((name.to_string(), None, i));
    }
    let (name, value) = (l.arg(2), l.arg(3));
    if name.is_empty() || value.is_empty() {
        return Err("expects exactly 2 arguments".to_string());
    }
    let f = lf(ctx, l, value)?;
    Ok((name.to_string(), Some(f), 4))
}

fn set_log_level(l: &Line<'_>) -> Result<(LogLevel, usize), String> {
    let v = l.arg(2);
    let err = || "expects exactly 1 argument (log level name or 'silent')".to_string();
    if is_cond_word(v) {
        return Err(err());
    }
    let level = if v == "silent" {
        LogLevel::Silent
    } else {
        log_level(v).ok_or_else(err)?
    };
    Ok((level, 3))
}

fn http_return(
    ctx: &mut Ctx,
    l: &Line<'_>,
    start: usize,
    default_status: u16,
) -> Parsed<HttpRequestAction> {
    let mut status = default_status;
    let mut content_type: Option<String> = None;
    let mut body = ReturnBody::None;
    let mut body_kw: Option<&str> = None;
    let mut headers = Vec::new();
    let mut i = start;
    loop {
        let kw = l.arg(i);
        let v = l.arg(i + 1);
        match kw {
            "status" => {
                if v.is_empty() {
                    return Err(format!("'{kw}' expects <status_code> as argument"));
                }
                match parse_u32(v).filter(|s| (200..=599).contains(s)) {
                    Some(s) => status = s as u16,
                    None => {
                        return Err(format!(
                            "Unexpected status code '{}'",
                            v.parse::<i64>().unwrap_or(0)
                        ))
                    }
                }
                i += 2;
            }
            "content-type" => {
                if v.is_empty() {
                    return Err(format!("'{kw}' expects <ctype> as argument"));
                }
                content_type = Some(v.to_string());
                i += 2;
            }
            "string" | "lf-string" | "file" | "lf-file" | "errorfile" | "errorfiles"
            | "default-errorfiles" => {
                if let Some(prev) = body_kw {
                    return Err(format!(
                        "unexpected '{kw}' argument, '{prev}' already defined"
                    ));
                }
                body_kw = Some(kw);
                if kw == "default-errorfiles" {
                    i += 1;
                    continue;
                }
                if v.is_empty() {
                    let what = match kw {
                        "string" => "<str>",
                        "lf-string" | "errorfile" => "<fmt>",
                        "errorfiles" => "<name>",
                        _ => "<file>",
                    };
                    return Err(format!("'{kw}' expects {what} as argument"));
                }
                body = match kw {
                    "string" => ReturnBody::String(v.to_string()),
                    "lf-string" => ReturnBody::LfString(lf(ctx, l, v)?),
                    "file" | "errorfile" => {
                        let path = ctx.paths.resolve(v);
                        let data = std::fs::read(&path)
                            .map_err(|_| format!("error opening file '{v}'"))?;
                        ReturnBody::Loaded(data)
                    }
                    "lf-file" => {
                        let path = ctx.paths.resolve(v);
                        let data = std::fs::read(&path)
                            .map_err(|_| format!("error opening file '{v}'"))?;
                        ReturnBody::LfString(lf(ctx, l, &String::from_utf8_lossy(&data))?)
                    }
                    _ => return Err(format!("'{kw}' is not supported by switchyard")),
                };
                i += 2;
            }
            "hdr" => {
                let hv = l.arg(i + 2);
                if v.is_empty() || hv.is_empty() {
                    return Err(format!("'{kw}' expects <name> and <value> as arguments"));
                }
                headers.push((v.to_string(), lf(ctx, l, hv)?));
                i += 3;
            }
            _ => break,
        }
    }
    let non_empty = match &body {
        ReturnBody::None => false,
        ReturnBody::String(s) => !s.is_empty(),
        ReturnBody::Loaded(b) => !b.is_empty(),
        _ => true,
    };
    if matches!(body, ReturnBody::LfString(_)) {
        if status == 204 || status == 304 {
            return Err(format!("No body expected for {status} responses"));
        }
        if content_type.is_none() {
            return Err("a content type must be defined with a log-format payload".to_string());
        }
    } else if non_empty {
        if status == 204 || status == 304 {
            return Err(format!("No body expected for {status} responses"));
        }
        if content_type.is_none() {
            return Err(
                "a content type must be defined when non-empty payload is configured".to_string(),
            );
        }
    } else if let Some(ct) = &content_type {
        ctx.warn(
            l.loc,
            format!(
                "content-type '{ct}' ignored by the http reply because neither errorfile nor payload defined."
            ),
        );
        content_type = None;
    }
    if body_kw == Some("default-errorfiles")
        && !matches!(
            status,
            200 | 400
                | 401
                | 403
                | 404
                | 405
                | 407
                | 408
                | 410
                | 413
                | 425
                | 429
                | 500
                | 501
                | 502
                | 503
                | 504
        )
    {
        return Err(format!(
            "status code '{status}' not handled by default with 'default-errorfiles' argument."
        ));
    }
    Ok((
        HttpRequestAction::Return {
            status,
            content_type,
            body,
            headers,
        },
        i,
    ))
}

fn deny(ctx: &mut Ctx, l: &Line<'_>) -> Parsed<HttpRequestAction> {
    let a = l.arg(2);
    if is_cond_word(a) {
        return Ok((HttpRequestAction::Deny { status: 403 }, 2));
    }
    if a == "deny_status" && is_cond_word(l.arg(4)) {
        return match parse_u32(l.arg(3)).filter(|s| (200..=599).contains(s)) {
            Some(s) => Ok((HttpRequestAction::Deny { status: s as u16 }, 4)),
            None => Err(format!(
                "Unexpected status code '{}'",
                l.arg(3).parse::<i64>().unwrap_or(0)
            )),
        };
    }
    // Anything richer (a body, headers) is a full reply; keep only the
    // status when that is all it has.
    let start = 2;
    let mut words: Vec<String> = l.words.to_vec();
    if a == "deny_status" {
        words[2] = "status".to_string();
    }
    let line = Line {
        words: &words,
        loc: l.loc,
        kwm: l.kwm,
    };
    match http_return(ctx, &line, start, 403)? {
        (
            HttpRequestAction::Return {
                status,
                body: ReturnBody::None,
                headers,
                ..
            },
            i,
        ) if headers.is_empty() => Ok((HttpRequestAction::Deny { status }, i)),
        _ => Err(
            "'deny' with a payload or headers is not supported by switchyard; use 'return'"
                .to_string(),
        ),
    }
}

fn redirect(ctx: &mut Ctx, l: &Line<'_>) -> Parsed<HttpRequestAction> {
    let mut kind = None;
    let mut code = 302u16;
    let mut drop_query = false;
    let mut i = 2;
    loop {
        let kw = l.arg(i);
        let v = l.arg(i + 1);
        match kw {
            "location" | "prefix" | "scheme" => {
                if v.is_empty() {
                    return Err(format!("missing argument for '{kw}'"));
                }
                let f = lf(ctx, l, v)?;
                kind = Some(match kw {
                    "location" => RedirectKind::Location(f),
                    "prefix" => RedirectKind::Prefix(f),
                    _ => RedirectKind::Scheme(f),
                });
                i += 2;
            }
            "code" => {
                if v.is_empty() {
                    return Err(format!("missing argument for '{kw}'"));
                }
                match parse_u32(v) {
                    Some(c @ (301 | 302 | 303 | 307 | 308)) => code = c as u16,
                    _ => {
                        return Err(format!(
                            "'{kw}': unsupported HTTP code '{v}' (must be one of 301, 302, 303, 307 or 308)"
                        ))
                    }
                }
                i += 2;
            }
            "drop-query" => {
                drop_query = true;
                i += 1;
            }
            "append-slash" | "ignore-empty" | "set-cookie" | "clear-cookie" => {
                return Err(format!("redirect option '{kw}' is not supported by switchyard"));
            }
            "" | "if" | "unless" => break,
            other => {
                return Err(format!(
                    "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', \
                     'ignore-empty' or 'append-slash' (was '{other}')"
                ))
            }
        }
    }
    let kind = kind.ok_or_else(|| {
        "redirection type expected ('prefix', 'location', or 'scheme')".to_string()
    })?;
    Ok((
        HttpRequestAction::Redirect {
            kind,
            code,
            drop_query,
        },
        i,
    ))
}

fn request_action(ctx: &mut Ctx, l: &Line<'_>) -> Parsed<HttpRequestAction> {
    match l.arg(1) {
        "return" => http_return(ctx, l, 2, 200),
        "deny" => deny(ctx, l),
        "allow" => Ok((HttpRequestAction::Allow, 2)),
        "disable-l7-retry" => Ok((HttpRequestAction::DisableL7Retry, 2)),
        a @ ("set-header" | "add-header" | "del-header") => {
            let (name, value, i) = header_args(ctx, l, a == "del-header")?;
            Ok((
                match (a, value) {
                    ("set-header", Some(value)) => HttpRequestAction::SetHeader { name, value },
                    ("add-header", Some(value)) => HttpRequestAction::AddHeader { name, value },
                    _ => HttpRequestAction::DelHeader { name },
                },
                i,
            ))
        }
        "set-log-level" => set_log_level(l).map(|(lv, i)| (HttpRequestAction::SetLogLevel(lv), i)),
        "redirect" => redirect(ctx, l),
        "use-service" => {
            let svc = l.arg(2);
            if is_cond_word(svc) {
                return Err("expects a service name.".to_string());
            }
            if svc != "prometheus-exporter" {
                return Err(format!("unknown service name '{svc}'."));
            }
            Ok((HttpRequestAction::UseService(svc.to_string()), 3))
        }
        _ => Err(String::new()),
    }
}

fn unknown_action(ctx: &mut Ctx, l: &Line<'_>, kind: &str, known: &[&str], unsupported: &[&str]) {
    let a = l.arg(1);
    if unsupported.contains(&base_name(a)) {
        ctx.error(
            l.loc,
            format!("'{kind} {a}' is not supported by switchyard."),
        );
        return;
    }
    let list = known
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let missing = if a.is_empty() {
        " (missing argument)"
    } else {
        ""
    };
    ctx.error(
        l.loc,
        format!("'{kind}' expects {list}, but got '{a}'{missing}."),
    );
}

/// `words` start with `http-request`; `who` is "frontend 'x'" for messages.
pub(crate) fn parse_http_request(
    ctx: &mut Ctx,
    l: &Line<'_>,
    acls: &[Acl],
    who: &str,
) -> Option<HttpRequestRule> {
    let (action, i) = match request_action(ctx, l) {
        Ok(v) => v,
        Err(e) if e.is_empty() => {
            unknown_action(ctx, l, "http-request", REQUEST_ACTIONS, UNSUPPORTED_REQUEST);
            return None;
        }
        Err(e) => {
            ctx.error(
                l.loc,
                format!(
                    "error detected in {who} while parsing 'http-request {}' rule : {e}.",
                    l.arg(1)
                ),
            );
            return None;
        }
    };
    let cond = cond_at(ctx, l, i, acls, "http-request").ok()?;
    Some(HttpRequestRule {
        action,
        cond,
        location: l.loc.clone(),
    })
}

const UNSUPPORTED_RESPONSE: &[&str] = &[
    "set-nice",
    "sc-inc-gpc",
    "sc-inc-gpc0",
    "sc-inc-gpc1",
    "sc-set-gpt",
    "sc-set-gpt0",
    "send-spoe-group",
    "cache-store",
    "add-acl",
    "allow",
    "capture",
    "del-acl",
    "del-map",
    "deny",
    "redirect",
    "replace-header",
    "replace-value",
    "return",
    "set-map",
    "set-status",
    "strict-mode",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "wait-for-body",
    "set-var",
    "set-var-fmt",
    "unset-var",
    "set-mark",
    "set-tos",
    "silent-drop",
];

pub(crate) fn parse_http_response(
    ctx: &mut Ctx,
    l: &Line<'_>,
    acls: &[Acl],
    who: &str,
) -> Option<HttpResponseRule> {
    let parsed: Result<(HttpResponseAction, usize), String> = match l.arg(1) {
        a @ ("set-header" | "add-header" | "del-header") => header_args(ctx, l, a == "del-header")
            .map(|(name, value, i)| {
                (
                    match (a, value) {
                        ("set-header", Some(value)) => {
                            HttpResponseAction::SetHeader { name, value }
                        }
                        ("add-header", Some(value)) => {
                            HttpResponseAction::AddHeader { name, value }
                        }
                        _ => HttpResponseAction::DelHeader { name },
                    },
                    i,
                )
            }),
        "set-log-level" => set_log_level(l).map(|(lv, i)| (HttpResponseAction::SetLogLevel(lv), i)),
        _ => {
            unknown_action(
                ctx,
                l,
                "http-response",
                RESPONSE_ACTIONS,
                UNSUPPORTED_RESPONSE,
            );
            return None;
        }
    };
    let (action, i) = match parsed {
        Ok(v) => v,
        Err(e) => {
            ctx.error(
                l.loc,
                format!(
                    "error detected in {who} while parsing 'http-response {}' rule : {e}.",
                    l.arg(1)
                ),
            );
            return None;
        }
    };
    let cond = cond_at(ctx, l, i, acls, "http-response").ok()?;
    Some(HttpResponseRule {
        action,
        cond,
        location: l.loc.clone(),
    })
}
