//! Frontend-side keywords: `bind`, `default_backend`, `use_backend`,
//! `monitor-uri`, `monitor fail`, `stats ...`, `maxconn`.

use super::ProxyDraft;
use crate::bind::parse_bind;
use crate::condition::parse_condition;
use crate::ctx::{Ctx, Line};
use crate::logformat::parse_log_format;
use crate::model::{BackendTarget, ConditionEq, StatsPage, UseBackend};
use crate::units::{parse_time, parse_u32, TimeError, TimeUnit};

pub(super) fn bind(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.deny_in_defaults(ctx, l.loc, "bind") {
        return;
    }
    let ignored = d.warn_if_not_fe(ctx, l.loc, "bind", "");
    if l.arg(1).is_empty() {
        ctx.error(
            l.loc,
            "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
        );
        return;
    }
    let section = d.type_str();
    if let Some(binds) = parse_bind(ctx, l, section) {
        if !ignored {
            d.fe.binds.extend(binds);
        }
    }
}

pub(super) fn default_backend(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let ignored = d.warn_if_not_fe(ctx, l.loc, "default_backend", "");
    if l.arg(1).is_empty() {
        ctx.error(l.loc, "'default_backend' expects a backend name.");
        return;
    }
    if l.too_many(ctx, 0, 1) || ignored {
        return;
    }
    d.fe.default_backend = Some(l.arg(1).to_string());
    d.default_backend_loc = l.loc.clone();
}

pub(super) fn use_backend(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.deny_in_defaults(ctx, l.loc, "use_backend") {
        return;
    }
    let ignored = d.warn_if_not_fe(ctx, l.loc, "use_backend", "");
    let name = l.arg(1);
    if name.is_empty() {
        ctx.error(l.loc, "'use_backend' expects a backend name.");
        return;
    }
    let cond = match l.arg(2) {
        "if" | "unless" => match parse_condition(ctx, l.loc, l.rest(2), &d.acls) {
            Ok(c) => Some(c),
            Err(e) => {
                ctx.error(
                    l.loc,
                    format!("error detected while parsing switching rule : {e}."),
                );
                return;
            }
        },
        "" => None,
        other => {
            ctx.error(
                l.loc,
                format!("unexpected keyword '{other}' after switching rule, only 'if' and 'unless' are allowed."),
            );
            return;
        }
    };
    let target = if name.contains('%') {
        match parse_log_format(ctx, l.loc, name) {
            Ok(f) => match f.as_literal() {
                Some(lit) => BackendTarget::Static(lit),
                None => BackendTarget::Dynamic(f),
            },
            Err(e) => {
                ctx.error(
                    l.loc,
                    format!("failed to parse use_backend rule '{name}' : {e}."),
                );
                return;
            }
        }
    } else {
        BackendTarget::Static(name.to_string())
    };
    if ignored {
        return;
    }
    d.seen_use_backend = true;
    d.fe.use_backends.push(UseBackend {
        target,
        cond,
        location: l.loc.clone(),
    });
}

pub(super) fn monitor_uri(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let ignored = d.warn_if_not_fe(ctx, l.loc, "monitor-uri", "");
    if l.too_many(ctx, 0, 1) {
        return;
    }
    if l.arg(1).is_empty() {
        ctx.error(l.loc, "'monitor-uri' expects an URI.");
        return;
    }
    if !ignored {
        d.fe.monitor_uri = Some(l.arg(1).to_string());
    }
}

pub(super) fn monitor(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    if d.deny_in_defaults(ctx, l.loc, "monitor") {
        return;
    }
    let ignored = d.warn_if_not_fe(ctx, l.loc, "monitor", "");
    if l.arg(1) != "fail" {
        ctx.error(l.loc, "'monitor' only supports 'fail'.");
        return;
    }
    if !matches!(l.arg(2), "if" | "unless") {
        ctx.error(
            l.loc,
            "'monitor fail' requires either 'if' or 'unless' followed by a condition.",
        );
        return;
    }
    match parse_condition(ctx, l.loc, l.rest(2), &d.acls) {
        Ok(c) if !ignored => {
            // Several `monitor fail` lines are OR'ed together.
            match d.fe.monitor_fail.as_mut() {
                Some(prev) if prev.unless == c.unless => {
                    prev.any_of.extend(c.any_of);
                    prev.source = format!("{} / {}", prev.source, c.source);
                }
                _ => d.fe.monitor_fail = Some(c),
            }
        }
        Ok(_) => {}
        Err(e) => ctx.error(
            l.loc,
            format!("error detected while parsing a 'monitor fail' condition : {e}."),
        ),
    }
}

fn stats_page(d: &mut ProxyDraft) -> &mut StatsPage {
    if !d.stats_here {
        // The first `stats` line of a section detaches it from the defaults'
        // settings, as HAProxy does.
        d.stats_here = true;
        d.fe.stats = None;
    }
    d.fe.stats.get_or_insert_with(|| StatsPage {
        uri: "/haproxy?stats".to_string(),
        realm: "HAProxy Statistics".to_string(),
        auth: Vec::new(),
        refresh: None,
        hide_version: false,
        show_legends: false,
        show_node: false,
        admin: None,
    })
}

pub(super) fn stats(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    match l.arg(1) {
        "enable" => {
            stats_page(d);
        }
        "uri" => {
            if l.arg(2).is_empty() {
                ctx.error(l.loc, "'uri' needs an URI prefix.");
                return;
            }
            stats_page(d).uri = l.arg(2).to_string();
        }
        "realm" => {
            if l.arg(2).is_empty() {
                ctx.error(l.loc, "'realm' needs an realm name.");
                return;
            }
            stats_page(d).realm = l.rest(2).join(" ");
        }
        "auth" => {
            let Some((user, pass)) = l.arg(2).split_once(':') else {
                ctx.error(l.loc, "'auth' needs a user:password account.");
                return;
            };
            let pair = (user.to_string(), pass.to_string());
            stats_page(d).auth.push(pair);
        }
        "refresh" => match parse_time(l.arg(2), TimeUnit::S) {
            Ok(t) => stats_page(d).refresh = Some(TimeUnit::S.to_duration(t.value)),
            Err(TimeError::BadChar(c)) => ctx.error(
                l.loc,
                format!("unexpected character '{c}' in argument to stats refresh interval."),
            ),
            Err(TimeError::Empty) => ctx.error(
                l.loc,
                "unexpected character '' in argument to stats refresh interval.",
            ),
            Err(_) => ctx.error(
                l.loc,
                format!("timer overflow in argument <{}> to stats refresh interval, maximum value is 2147483647 s (~68 years).", l.arg(2)),
            ),
        },
        "hide-version" => stats_page(d).hide_version = true,
        "show-legends" => stats_page(d).show_legends = true,
        "show-node" => {
            let n = l.arg(2);
            if !n.is_empty() && !n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
                ctx.error(
                    l.loc,
                    "'stats show-node' invalid node name - should be a stringwith digits(0-9), letters(A-Z, a-z), \
                     hyphen(-) or underscode(_).",
                );
                return;
            }
            stats_page(d).show_node = true;
        }
        "show-desc" | "show-modules" | "scope" => {
            ctx.warn(l.loc, format!("'stats {}' is ignored by switchyard.", l.arg(1)));
            stats_page(d);
        }
        "admin" => {
            if d.deny_in_defaults(ctx, l.loc, "stats admin") {
                return;
            }
            if !matches!(l.arg(2), "if" | "unless") {
                ctx.error(
                    l.loc,
                    "'stats admin' requires either 'if' or 'unless' followed by a condition.",
                );
                return;
            }
            match parse_condition(ctx, l.loc, l.rest(2), &d.acls) {
                Ok(c) => stats_page(d).admin = Some(ConditionEq(c)),
                Err(e) => ctx.error(
                    l.loc,
                    format!("error detected while parsing a 'stats admin' rule : {e}."),
                ),
            }
        }
        "http-request" => ctx.error(l.loc, "'stats http-request' is not supported by switchyard."),
        other => {
            let (what, word) = if other.is_empty() {
                ("missing keyword in", "stats")
            } else {
                ("unknown stats parameter", other)
            };
            ctx.error(
                l.loc,
                format!(
                    "{what} '{word}', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', \
                     'show-node', 'show-desc' or 'show-legends'."
                ),
            );
        }
    }
}

pub(super) fn maxconn(ctx: &mut Ctx, d: &mut ProxyDraft, l: &Line<'_>) {
    let ignored = d.warn_if_not_fe(
        ctx,
        l.loc,
        "maxconn",
        " Maybe you want 'fullconn' instead ?",
    );
    if l.arg(1).is_empty() {
        ctx.error(l.loc, "'maxconn' expects an integer argument.");
        return;
    }
    if l.too_many(ctx, 0, 1) {
        return;
    }
    match parse_u32(l.arg(1)) {
        Some(n) if !ignored => d.fe.maxconn = Some(n),
        Some(_) => {}
        None => ctx.error(
            l.loc,
            format!(
                "'maxconn' expects an integer argument (got '{}').",
                l.arg(1)
            ),
        ),
    }
}
