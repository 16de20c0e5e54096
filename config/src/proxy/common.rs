//! Keywords every proxy kind has: `mode`, `timeout`, `log`, `log-format`,
//! `acl`, `http-request`, `http-response`, `id`, `description`.

use super::ProxyDraft;
use crate::acl::{invalid_name_char, parse_acl_test};
use crate::ctx::{Ctx, Kwm, Line};
use crate::http_rules::{parse_http_request, parse_http_response};
use crate::log::{parse_log, LogLine};
use crate::logformat::parse_log_format;
use crate::model::{Acl, Global, Mode};
use crate::units::{parse_time, trailing_warning, TimeError, TimeUnit};

pub(super) fn mode(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if l.too_many(ctx, 0, 1) {
        return;
    }
    match l.arg(1) {
        "http" => d.mode = Mode::Http,
        "tcp" => d.mode = Mode::Tcp,
        "health" => ctx.error(
            l.loc,
            "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.",
        ),
        other => ctx.error(l.loc, format!("unknown proxy mode '{other}'.")),
    }
}

pub(super) fn timeout(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let name = l.arg(1);
    let (fe_side, slot): (
        bool,
        fn(&mut ProxyDraft) -> &mut Option<std::time::Duration>,
    ) = match name {
        "client" => (true, |d| &mut d.timeouts.client),
        "client-fin" => (true, |d| &mut d.timeouts.client_fin),
        "tarpit" => (true, |d| &mut d.timeouts.tarpit),
        "http-keep-alive" => (true, |d| &mut d.timeouts.http_keep_alive),
        "http-request" => (true, |d| &mut d.timeouts.http_request),
        "server" => (false, |d| &mut d.timeouts.server),
        "connect" => (false, |d| &mut d.timeouts.connect),
        "check" => (false, |d| &mut d.timeouts.check),
        "queue" => (false, |d| &mut d.timeouts.queue),
        "tunnel" => (false, |d| &mut d.timeouts.tunnel),
        "server-fin" => (false, |d| &mut d.timeouts.server_fin),
        "clitimeout" | "srvtimeout" | "contimeout" => {
            let new = match name {
                "clitimeout" => "client",
                "srvtimeout" => "server",
                _ => "connect",
            };
            ctx.error(
                l.loc,
                format!("the '{name}' directive is not supported anymore since HAProxy 2.1. Use 'timeout {new}'."),
            );
            return;
        }
        other => {
            ctx.error(
                l.loc,
                format!(
                    "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', \
                     'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{other}')"
                ),
            );
            return;
        }
    };
    let text = l.arg(2);
    if text.is_empty() {
        ctx.error(
            l.loc,
            format!("'timeout {name}' expects an integer value (in milliseconds)"),
        );
        return;
    }
    let value = match parse_time(text, TimeUnit::Ms) {
        Ok(t) => {
            if let Some(c) = t.trailing {
                ctx.warn(l.loc, trailing_warning(c, text));
            }
            t.value
        }
        Err(TimeError::Overflow) => {
            ctx.error(
                l.loc,
                format!(
                    "timer overflow in argument '{text}' to 'timeout {name}' (maximum value is 2147483647 ms or ~24.8 days)"
                ),
            );
            return;
        }
        Err(TimeError::Underflow) => {
            ctx.error(
                l.loc,
                format!("timer underflow in argument '{text}' to 'timeout {name}' (minimum non-null value is 1 ms)"),
            );
            return;
        }
        Err(TimeError::BadChar(c)) => {
            ctx.error(
                l.loc,
                format!("unexpected character '{c}' in 'timeout {name}'"),
            );
            return;
        }
        Err(TimeError::Empty) => return,
    };
    if l.too_many(ctx, 1, 1) {
        return;
    }
    let has_cap = if fe_side {
        d.is_defaults || d.kind.has_frontend()
    } else {
        d.is_defaults || d.kind.has_backend()
    };
    // http-request/http-keep-alive/tarpit exist on both sides.
    let both = matches!(name, "tarpit" | "http-keep-alive" | "http-request");
    if !has_cap && !both {
        ctx.warn(
            l.loc,
            format!(
                "'timeout {name}' will be ignored because {} '{}' has no {} capability",
                d.type_str(),
                d.name,
                if fe_side { "frontend" } else { "backend" }
            ),
        );
        return;
    }
    // HAProxy: 0 means "no timeout".
    *slot(d) = (value > 0).then(|| TimeUnit::Ms.to_duration(value));
}

pub(super) fn log(ctx: &mut Ctx, global: &Global, d: &mut ProxyDraft, l: &Line<'_>) {
    if l.kwm == Kwm::Default {
        ctx.error(
            l.loc,
            "negation/default currently supported only for options, log, busy-polling, set-dumpable, \
             strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
        );
        return;
    }
    match parse_log(l.words, l.kwm == Kwm::No, false) {
        Ok(LogLine::Global) => {
            for t in &global.logs {
                if !d.logs.contains(t) {
                    d.logs.push(t.clone());
                }
            }
        }
        Ok(LogLine::Clear) => d.logs.clear(),
        Ok(LogLine::Target(t)) => d.logs.push(t),
        Err(e) => ctx.error(l.loc, format!("log : {e}")),
    }
}

pub(super) fn log_format(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if l.arg(1).is_empty() {
        ctx.error(l.loc, "log-format expects an argument.");
        return;
    }
    if !l.arg(2).is_empty() {
        ctx.error(
            l.loc,
            "log-format expects only one argument, don't forget to escape spaces!",
        );
        return;
    }
    if let Err(e) = parse_log_format(ctx, l.loc, l.arg(1)) {
        ctx.error(l.loc, format!("failed to parse log-format : {e}."));
        return;
    }
    if !d.is_defaults && !d.kind.has_frontend() {
        ctx.warn(
            l.loc,
            format!(
                "backend '{}' : 'log-format' directive is ignored in backends.",
                d.name
            ),
        );
    }
    d.log_format = Some(l.arg(1).to_string());
    d.options.httplog = false;
    d.options.tcplog = false;
}

pub(super) fn acl(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.is_defaults && d.name.is_empty() {
        ctx.error(l.loc, "'acl' not allowed in anonymous 'defaults' section.");
        return;
    }
    let name = l.arg(1);
    if name.is_empty() {
        ctx.error(l.loc, "'acl' expects an ACL name and an expression.");
        return;
    }
    if let Some(c) = invalid_name_char(name) {
        ctx.error(
            l.loc,
            format!("character '{c}' is not permitted in acl name '{name}'."),
        );
        return;
    }
    if name.eq_ignore_ascii_case("or") {
        ctx.error(
            l.loc,
            format!("acl name '{name}' will never match. 'or' is used to express a logical disjunction within a condition."),
        );
        return;
    }
    match parse_acl_test(ctx, l.loc, l.rest(2)) {
        Ok(test) => d.acls.push(Acl {
            name: name.to_string(),
            test,
            location: l.loc.clone(),
        }),
        Err(e) => ctx.error(
            l.loc,
            format!("error detected while parsing ACL '{name}' : {e}."),
        ),
    }
}

pub(super) fn http_request(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.is_defaults && d.name.is_empty() {
        ctx.error(
            l.loc,
            "'http-request' not allowed in anonymous 'defaults' section.",
        );
        return;
    }
    if d.http_request
        .last()
        .is_some_and(|r| r.cond.is_none() && r.action.is_final())
    {
        ctx.warn(
            l.loc,
            "previous 'http-request' action is final and has no condition attached, further entries are NOOP.",
        );
    }
    let who = format!("{} '{}'", d.type_str(), d.name);
    if let Some(rule) = parse_http_request(ctx, l, &d.acls, &who) {
        if d.seen_use_backend {
            ctx.warn(
                l.loc,
                "a 'http-request' rule placed after a 'use_backend' rule will still be processed before.",
            );
        }
        d.http_request.push(rule);
    }
}

/// `redirect <location|prefix|scheme> ... [if cond]`: the same rule as
/// `http-request redirect`, kept apart because HAProxy evaluates these
/// after all `http-request` rules.
pub(super) fn redirect(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.is_defaults {
        ctx.error(l.loc, "'redirect' not allowed in 'defaults' section.");
        return;
    }
    let words: Vec<String> = std::iter::once("http-request".to_string())
        .chain(l.words.iter().cloned())
        .collect();
    let as_rule = Line {
        words: &words,
        ..*l
    };
    let who = format!("{} '{}'", d.type_str(), d.name);
    if let Some(rule) = parse_http_request(ctx, &as_rule, &d.acls, &who) {
        d.redirects.push(rule);
    }
}

pub(super) fn http_response(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.is_defaults && d.name.is_empty() {
        ctx.error(
            l.loc,
            "'http-response' not allowed in anonymous 'defaults' section.",
        );
        return;
    }
    let who = format!("{} '{}'", d.type_str(), d.name);
    if let Some(rule) = parse_http_response(ctx, l, &d.acls, &who) {
        d.http_response.push(rule);
    }
}

pub(super) fn id(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.is_defaults {
        ctx.error(l.loc, "'id' not allowed in 'defaults' section.");
        return;
    }
    if l.too_many(ctx, 0, 1) {
        return;
    }
    if l.arg(1).is_empty() {
        ctx.error(l.loc, "'id' expects an integer argument.");
        return;
    }
    match l.arg(1).parse::<i64>() {
        Ok(n) if n > 0 && n <= i64::from(i32::MAX) => d.forced_id = Some(n as u32),
        Ok(_) => ctx.error(l.loc, "custom id has to be > 0."),
        Err(_) => ctx.error(
            l.loc,
            format!("'id' expects an integer argument (got '{}').", l.arg(1)),
        ),
    }
}

pub(super) fn description(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.is_defaults {
        ctx.error(l.loc, "'description' not allowed in 'defaults' section.");
        return;
    }
    if l.arg(1).is_empty() {
        ctx.error(l.loc, "'description' expects a string argument.");
        return;
    }
    d.description = Some(l.rest(1).join(" "));
}
