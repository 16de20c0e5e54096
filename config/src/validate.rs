//! Checks that need the whole configuration (HAProxy's
//! `check_config_validity`): backend references, server tracking,
//! resolvers, ids, and the usual warnings.

use crate::ctx::Ctx;
use crate::model::*;
use crate::proxy::ProxyDraft;
use std::collections::HashSet;

fn find_backend<'a>(proxies: &'a [ProxyDraft], name: &str) -> Option<&'a ProxyDraft> {
    proxies
        .iter()
        .find(|p| p.name == name && p.kind.has_backend())
}

pub(crate) fn validate(ctx: &mut Ctx, proxies: &mut [ProxyDraft], resolvers: &[Resolvers]) {
    check_references(ctx, proxies, resolvers);
    check_server_names(ctx, proxies);
    assign_server_ids(proxies);
    warnings(ctx, proxies);
}

/// Two servers of one backend with the same name. Like HAProxy, only
/// servers without an explicit `id` are compared, and each reports its
/// first clash.
fn check_server_names(ctx: &mut Ctx, proxies: &[ProxyDraft]) {
    for p in proxies {
        let servers = &p.be.servers;
        for (i, s) in servers.iter().enumerate() {
            if s.forced_id {
                continue;
            }
            if let Some(prev) = servers[..i]
                .iter()
                .find(|o| !o.forced_id && o.name == s.name)
            {
                ctx.error(
                    &s.location,
                    format!(
                        "{} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                        p.type_str(),
                        p.name,
                        s.name,
                        prev.location.line
                    ),
                );
            }
        }
    }
}

fn check_references(ctx: &mut Ctx, proxies: &[ProxyDraft], resolvers: &[Resolvers]) {
    for p in proxies {
        if p.kind.has_frontend() {
            if let Some(name) = &p.fe.default_backend {
                match find_backend(proxies, name) {
                    None => ctx.error(
                        &p.default_backend_loc,
                        format!("Proxy '{}': unable to find required default_backend: '{name}'.", p.name),
                    ),
                    Some(b) if b.mode != p.mode && p.mode == Mode::Http => ctx.error(
                        &p.default_backend_loc,
                        format!(
                            "http frontend '{}' ({}) tries to use incompatible tcp backend '{}' ({}) as its default backend (see 'mode').",
                            p.name, p.location, b.name, b.location
                        ),
                    ),
                    Some(_) => {}
                }
            }
            for ub in &p.fe.use_backends {
                if let BackendTarget::Static(name) = &ub.target {
                    match find_backend(proxies, name) {
                        None => ctx.error(
                            &ub.location,
                            format!("Proxy '{}': unable to find required use_backend: '{name}'.", p.name),
                        ),
                        Some(b) if b.mode != p.mode && p.mode == Mode::Http => ctx.error(
                            &ub.location,
                            format!(
                                "http frontend '{}' ({}) tries to use incompatible tcp backend '{}' ({}) in a 'use_backend' rule (see 'mode').",
                                p.name, p.location, b.name, b.location
                            ),
                        ),
                        Some(_) => {}
                    }
                }
            }
        }
        if !p.kind.has_backend() {
            continue;
        }
        for s in &p.be.servers {
            if let Some(r) = &s.resolvers {
                // HAProxy creates a "default" section from resolv.conf itself.
                if r != "default" && !resolvers.iter().any(|x| &x.name == r) {
                    // HAProxy names no file:line here.
                    ctx.error(
                        &Location::default(),
                        format!(
                            "backend '{}', server '{}': unable to find required resolvers '{r}'",
                            p.name, s.name
                        ),
                    );
                }
            }
            if let Some(t) = &s.track {
                // HAProxy splits at the last '/'.
                let (bname, sname) = match t.rsplit_once('/') {
                    Some((b, s)) => (b, s),
                    None => (p.name.as_str(), t.as_str()),
                };
                let label = format!("'server {}/{}'", p.name, s.name);
                let Some(b) = find_backend(proxies, bname) else {
                    ctx.error_bare(
                        &s.location,
                        format!("{label} : unable to find required proxy '{bname}' for tracking."),
                    );
                    continue;
                };
                let Some(target) = b.be.servers.iter().find(|x| x.name == sname) else {
                    ctx.error_bare(
                        &s.location,
                        format!("{label} : unable to find required server '{sname}' for tracking."),
                    );
                    continue;
                };
                if !target.check && !target.agent_check && target.track.is_none() {
                    ctx.error_bare(
                        &s.location,
                        format!(
                            "{label} : unable to use {bname}/{sname} for tracking as it does not have any check nor agent enabled."
                        ),
                    );
                    continue;
                }
                if tracks_back(proxies, bname, target, &p.name, &s.name) {
                    ctx.error_bare(
                        &s.location,
                        format!(
                            "{label} : unable to track {bname}/{sname} as it belongs to a tracking chain looping back to {bname}/{}.",
                            s.name
                        ),
                    );
                }
            }
        }
    }
}

/// HAProxy's loop check when it applies `track` to server `sname` of
/// backend `pname`: the target itself, or a chain of tracks already applied,
/// i.e. set on servers that come earlier in the file, that comes back.
fn tracks_back(
    proxies: &[ProxyDraft],
    tb: &str,
    target: &Server,
    pname: &str,
    sname: &str,
) -> bool {
    let pos = |b: &str, n: &str| {
        let pi = proxies
            .iter()
            .position(|p| p.name == b && p.kind.has_backend())?;
        let si = proxies[pi].be.servers.iter().position(|x| x.name == n)?;
        Some((pi, si))
    };
    let Some(me) = pos(pname, sname) else {
        return false;
    };
    let (mut b, mut cur) = (tb.to_string(), target);
    // A chain can be no longer than the number of servers.
    let bound: usize = proxies.iter().map(|p| p.be.servers.len()).sum();
    for _ in 0..=bound {
        if b == pname && cur.name == sname {
            return true;
        }
        // Only servers handled before this one have their track applied.
        if pos(&b, &cur.name).is_none_or(|p| p >= me) {
            return false;
        }
        let Some(t) = &cur.track else {
            return false;
        };
        let (nb, ns) = match t.rsplit_once('/') {
            Some((x, y)) => (x.to_string(), y),
            None => (b.clone(), t.as_str()),
        };
        let Some(next) =
            find_backend(proxies, &nb).and_then(|p| p.be.servers.iter().find(|x| x.name == ns))
        else {
            return false;
        };
        (b, cur) = (nb, next);
    }
    false
}

/// Server ids: 1-based positions, skipping ids forced with `id N`.
fn assign_server_ids(proxies: &mut [ProxyDraft]) {
    for p in proxies.iter_mut() {
        let used: HashSet<u32> =
            p.be.servers
                .iter()
                .filter(|s| s.forced_id)
                .map(|s| s.id)
                .collect();
        // As in HAProxy, the counter steps past every server, numbered or
        // not: after `server a id 5`, the next unnumbered server is 2.
        let mut next = 1u32;
        for s in p.be.servers.iter_mut() {
            if !s.forced_id {
                while used.contains(&next) {
                    next += 1;
                }
                s.id = next;
            }
            next += 1;
        }
    }
}

/// Proxy ids (HAProxy's `iid`): from 2 in config order over frontend,
/// backend and listen sections, skipping ids forced with `id N`; a section
/// with a forced id still moves the counter on, as in HAProxy.
pub(crate) fn assign_proxy_ids(ctx: &mut Ctx, proxies: &mut [Proxy]) {
    let mut used: HashSet<u32> = HashSet::new();
    // `finish_draft` leaves id 0 unless `id N` forced one.
    for p in proxies.iter().filter(|p| p.id != 0) {
        if !used.insert(p.id) {
            ctx.error(
                &p.location,
                format!(
                    "custom id {} of {} '{}' is already used by another proxy.",
                    p.id,
                    kind_str(p.kind),
                    p.name
                ),
            );
        }
    }
    let mut next = 2u32;
    for p in proxies.iter_mut() {
        if p.id == 0 {
            while used.contains(&next) {
                next += 1;
            }
            p.id = next;
        }
        next += 1;
    }
}

fn kind_str(k: ProxyKind) -> &'static str {
    match k {
        ProxyKind::Frontend => "frontend",
        ProxyKind::Backend => "backend",
        ProxyKind::Listen => "listen",
    }
}

fn warnings(ctx: &mut Ctx, proxies: &[ProxyDraft]) {
    for p in proxies {
        if p.disabled {
            continue;
        }
        if p.mode == Mode::Tcp {
            tcp_mode_warnings(ctx, p);
        }
        if p.kind.has_frontend() && p.fe.binds.is_empty() {
            ctx.warn(
                &p.location,
                format!(
                    "{} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.",
                    p.type_str(),
                    p.name
                ),
            );
        }
        let mut missing = p.kind.has_frontend() && p.timeouts.client.is_none();
        if p.kind.has_backend() && (p.timeouts.connect.is_none() || p.timeouts.server.is_none()) {
            missing = true;
        }
        // HAProxy only warns when the proxy has somewhere to send traffic.
        let has_target = !p.kind.has_frontend()
            || p.fe.default_backend.is_some()
            || !p.fe.use_backends.is_empty()
            || !p.be.servers.is_empty();
        if missing && has_target {
            ctx.warn(
                &p.location,
                format!(
                    "missing timeouts for {} '{}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
                    p.type_str(),
                    p.name
                ),
            );
        }
    }
}

/// HTTP-only settings in a TCP-mode proxy are ignored, with HAProxy's
/// warnings (same texts and order as `haproxy -c`).
fn tcp_mode_warnings(ctx: &mut Ctx, p: &ProxyDraft) {
    let (kind, name) = (p.type_str(), &p.name);
    let nowhere = Location::default();
    if p.kind.has_frontend() {
        if p.options.httplog {
            ctx.warn(
                &p.location,
                format!("'option httplog' not usable with {kind} '{name}' (needs 'mode http'). Falling back to 'option tcplog'."),
            );
        }
        if !p.http_request.is_empty() {
            ctx.warn(
                &nowhere,
                format!(
                    "'http-request' rules ignored for {kind} '{name}' as they require HTTP mode."
                ),
            );
        }
        if p.options.forwardfor.is_some() {
            ctx.warn(
                &nowhere,
                format!(
                    "'option forwardfor' ignored for {kind} '{name}' as it requires HTTP mode."
                ),
            );
        }
    }
    if !p.kind.has_backend() {
        return;
    }
    if p.be.cookie.is_some() {
        ctx.warn(
            &nowhere,
            format!("cookie will be ignored for {kind} '{name}' (needs 'mode http')."),
        );
    }
    if !p.http_response.is_empty() {
        ctx.warn(
            &nowhere,
            format!("'http-response' rules ignored for {kind} '{name}' as they require HTTP mode."),
        );
    }
    for s in p.be.servers.iter().filter(|s| s.cookie.is_some()) {
        ctx.warn(
            &nowhere,
            format!(
                "{kind} '{name}' : ignoring cookie for server '{}' as HTTP mode is disabled.",
                s.name
            ),
        );
    }
    if matches!(
        p.be.balance,
        Balance::Uri { .. } | Balance::UrlParam(_) | Balance::Hdr(_)
    ) {
        ctx.warn(
            &nowhere,
            format!("Layer 7 hash not possible for {kind} '{name}' (needs 'mode http'). Falling back to round robin."),
        );
    }
}
