//! `resolvers <name>` sections.

use crate::acl::invalid_name_char;
use crate::addr::socket_addr;
use crate::ctx::{Ctx, Line};
use crate::diag::unknown_keyword;
use crate::model::{Location, Resolvers};
use crate::units::{parse_u32, TimeUnit};
use std::collections::BTreeMap;
use std::time::Duration;

const KEYWORDS: &[&str] = &[
    "nameserver",
    "parse-resolv-conf",
    "hold",
    "resolve_retries",
    "timeout",
    "accepted_payload_size",
];

/// A new section with HAProxy's defaults (hold nx/other/refused/timeout 30s,
/// valid 10s, obsolete 0s; 3 retries; resolve and retry timeouts 1s).
pub(crate) fn new_resolvers(name: &str, loc: &Location) -> Resolvers {
    let mut hold = BTreeMap::new();
    for (k, ms) in [
        ("nx", 30_000),
        ("other", 30_000),
        ("refused", 30_000),
        ("timeout", 30_000),
        ("valid", 10_000),
        ("obsolete", 0),
    ] {
        hold.insert(k.to_string(), Duration::from_millis(ms));
    }
    Resolvers {
        name: name.to_string(),
        location: loc.clone(),
        nameservers: Vec::new(),
        parse_resolv_conf: false,
        hold,
        resolve_retries: 3,
        timeout_resolve: Duration::from_secs(1),
        timeout_retry: Duration::from_secs(1),
        accepted_payload_size: None,
    }
}

/// Check the section header; `None` means the section is unusable.
pub(crate) fn start_resolvers(
    ctx: &mut Ctx,
    existing: &[Resolvers],
    l: &Line<'_>,
) -> Option<Resolvers> {
    let name = l.arg(1);
    if name.is_empty() {
        ctx.error(l.loc, "missing name for resolvers section.");
        return None;
    }
    if let Some(c) = invalid_name_char(name) {
        ctx.error(
            l.loc,
            format!("character '{c}' is not permitted in 'resolvers' name '{name}'."),
        );
        return None;
    }
    if let Some(prev) = existing.iter().find(|r| r.name == name) {
        ctx.error(
            l.loc,
            format!(
                "resolvers '{name}' has same name as another resolvers (declared at {}).",
                prev.location
            ),
        );
    }
    Some(new_resolvers(name, l.loc))
}

fn time(ctx: &mut Ctx, l: &Line<'_>, text: &str, what: &str) -> Option<Duration> {
    crate::global::time_arg(ctx, l, text, TimeUnit::Ms, what).map(|v| TimeUnit::Ms.to_duration(v))
}

pub(crate) fn parse_resolvers_line(ctx: &mut Ctx, r: &mut Resolvers, l: &Line<'_>) {
    match l.kw() {
        "nameserver" => {
            if l.arg(2).is_empty() {
                ctx.error(l.loc, "'nameserver' expects <name> and <addr>[:<port>] as arguments.");
                return;
            }
            let name = l.arg(1);
            if let Some(c) = invalid_name_char(name) {
                ctx.error(l.loc, format!("character '{c}' is not permitted in server name '{name}'."));
                return;
            }
            if r.nameservers.iter().any(|(n, _)| n == name) {
                ctx.error(l.loc, format!("nameserver '{name}' has same name as another nameserver."));
            }
            match socket_addr(l.arg(2), None) {
                Ok(a) => r.nameservers.push((name.to_string(), a)),
                Err(e) => ctx.error(l.loc, format!("'nameserver {name}' : {e}")),
            }
        }
        "parse-resolv-conf" => r.parse_resolv_conf = true,
        "hold" => {
            if l.arg(2).is_empty() {
                ctx.error(l.loc, "'hold' expects an <event> and a <time> as arguments.");
                return;
            }
            let Some(d) = time(ctx, l, l.arg(2), "hold") else {
                return;
            };
            match l.arg(1) {
                ev @ ("nx" | "other" | "refused" | "timeout" | "valid" | "obsolete") => {
                    r.hold.insert(ev.to_string(), d);
                }
                ev => ctx.error(
                    l.loc,
                    format!(
                        "'hold' unknown <event>: '{ev}', expects either 'nx', 'timeout', 'valid', 'obsolete' or 'other'."
                    ),
                ),
            }
        }
        "resolve_retries" => match parse_u32(l.arg(1)) {
            Some(n) => r.resolve_retries = n,
            None if l.arg(1).is_empty() => ctx.error(l.loc, "'resolve_retries' expects <nb> as argument."),
            None => ctx.error(l.loc, format!("'resolve_retries' expects an integer (got '{}').", l.arg(1))),
        },
        "timeout" => match l.arg(1) {
            "" => ctx.error(l.loc, "'timeout' expects 'retry' or 'resolve' and <time> as arguments."),
            which @ ("retry" | "resolve") => {
                if l.arg(2).is_empty() {
                    ctx.error(l.loc, format!("'timeout {which}' expects <time> as argument."));
                    return;
                }
                if let Some(d) = time(ctx, l, l.arg(2), &format!("timeout {which}")) {
                    if which == "retry" {
                        r.timeout_retry = d;
                    } else {
                        r.timeout_resolve = d;
                    }
                }
            }
            other => ctx.error(
                l.loc,
                format!("'timeout' expects 'retry' or 'resolve' and <time> as arguments got '{other}'."),
            ),
        },
        "accepted_payload_size" => {
            if l.arg(1).is_empty() {
                ctx.error(l.loc, "'accepted_payload_size' expects <nb> as argument.");
                return;
            }
            match parse_u32(l.arg(1)) {
                Some(n) if (12..=65535).contains(&n) => r.accepted_payload_size = Some(n),
                _ => ctx.error(
                    l.loc,
                    format!(
                        "'accepted_payload_size' must be between 12 and 65535 inclusive (was {}).",
                        l.arg(1)
                    ),
                ),
            }
        }
        "resolution_pool_size" => ctx.error(
            l.loc,
            "'resolution_pool_size' directive is not supported anymore (it never appeared in a stable release).",
        ),
        kw => ctx.error(l.loc, unknown_keyword(kw, "resolvers", KEYWORDS.iter().copied())),
    }
}

/// End of a resolvers section.
pub(crate) fn finish_resolvers(ctx: &mut Ctx, r: &Resolvers) {
    if r.nameservers.is_empty() && !r.parse_resolv_conf {
        ctx.warn(
            &r.location,
            format!(
                "resolvers '{}' [{}] has no nameservers configured!",
                r.name, r.location
            ),
        );
    }
}
