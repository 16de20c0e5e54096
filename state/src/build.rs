//! Building a snapshot from a validated config: compile rules, load maps,
//! resolve names to indices, and carry live state over from the previous
//! snapshot by identity (proxy name, server name).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use regex::Regex;
use switchyard_config::{
    AclMatch, AclRef, AclTest, BackendTarget, Condition, Config, Converter, FmtPart,
    HttpRequestAction, HttpResponseAction, InitAddr, LogFormat, Proxy, RedirectKind, SampleExpr,
    Server,
};

use crate::admin_state::AdminState;
use crate::compiled::http_name::HeaderNameText;
use crate::compiled::*;
use crate::ext::Ext;
use crate::ids::{MapIdx, ProxyIdx};
use crate::live::{ProxyLive, ServerLive};
use crate::map::MapRt;
use crate::matching;
use crate::snapshot::{BackendRt, FrontendRt, ProxyRt, ServerRt, Snapshot};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("parsing [{location}] : unable to find required backend '{name}'")]
    UnknownBackend { name: String, location: String },
    #[error("parsing [{location}] : no such ACL : '{name}'")]
    UnknownAcl { name: String, location: String },
    #[error("map '{0}' was not loaded")]
    UnknownMap(String),
    #[error("parsing [{location}] : '{pattern}' is not a valid regex: {reason}")]
    BadRegex {
        pattern: String,
        reason: String,
        location: String,
    },
    #[error("parsing [{location}] : '{server}' : could not resolve address '{host}'")]
    Unresolvable {
        server: String,
        host: String,
        location: String,
    },
    #[error("map '{map}': {reason}")]
    BadMap { map: String, reason: String },
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// A certificate or CA of an `ssl` bind (HAProxy reports these while
    /// parsing the bind line, with the same wording).
    #[error("parsing [{location}] : 'bind {bind}' in section '{section}' : {message}")]
    BindTls {
        location: String,
        bind: String,
        section: &'static str,
        message: String,
    },
}

struct Ctx<'a> {
    backends: &'a HashMap<Arc<str>, ProxyIdx>,
    maps: &'a HashMap<Arc<str>, MapIdx>,
}

/// Build a snapshot. `resolve` answers libc-style name lookups for servers
/// named by hostname (HAProxy's `init-addr libc`); `prev` lends live state,
/// last-known addresses (`init-addr last`) and map ids.
pub fn build(
    config: Arc<Config>,
    prev: Option<&Snapshot>,
    resolve: &dyn Fn(&str) -> Option<IpAddr>,
) -> Result<Snapshot, BuildError> {
    let mut names = HashMap::new();
    let mut backends = HashMap::new();
    for (i, p) in config.proxies.iter().enumerate() {
        let name: Arc<str> = Arc::from(p.name.as_str());
        names.insert(name.clone(), ProxyIdx(i as u32));
        if p.kind.has_backend() {
            backends.insert(name, ProxyIdx(i as u32));
        }
    }

    let mut maps = Vec::new();
    let mut map_names = HashMap::new();
    let resolve_be = |n: &str| backends.get(n).copied();
    // Map ids as HAProxy numbers them (see `map_ids`), unless a previous
    // snapshot already gave the same map an id.
    let haproxy_ids = crate::map_ids::haproxy_map_ids(&config);
    for (i, (name, mf)) in config.maps.iter().enumerate() {
        let uid = prev
            .and_then(|p| {
                p.map_idx(name)
                    .and_then(|m| p.maps.get(m.get()))
                    .map(|m| m.uid)
            })
            .or_else(|| haproxy_ids.get(name).copied())
            .unwrap_or(i as u32 + 1);
        let m = MapRt::new(
            name,
            mf.path.clone(),
            uid,
            mf.kind,
            mf.first_use.clone(),
            &mf.entries,
            &resolve_be,
        )
        .map_err(|e| BuildError::BadMap {
            map: name.clone(),
            reason: e.to_string(),
        })?;
        map_names.insert(Arc::from(name.as_str()), MapIdx(i as u32));
        maps.push(Arc::new(m));
    }

    let ctx = Ctx {
        backends: &backends,
        maps: &map_names,
    };
    let fullconn = default_fullconn(&config, &ctx);
    let global_maxconn = config.global.maxconn.unwrap_or(DEFAULT_MAXCONN);

    let mut proxies = Vec::with_capacity(config.proxies.len());
    for (i, p) in config.proxies.iter().enumerate() {
        let prev_px = prev.and_then(|s| s.proxy_idx(&p.name).and_then(|i| s.proxy(i)));
        let live = prev_px
            .map(|x| x.live.clone())
            .unwrap_or_else(|| Arc::new(ProxyLive::default()));
        let frontend = match &p.frontend {
            Some(f) if p.kind.has_frontend() => {
                let mut use_backends = Vec::new();
                for ub in &f.use_backends {
                    let target = match &ub.target {
                        BackendTarget::Static(n) => {
                            CTarget::Static(backends.get(n.as_str()).copied().ok_or_else(|| {
                                BuildError::UnknownBackend {
                                    name: n.clone(),
                                    location: ub.location.to_string(),
                                }
                            })?)
                        }
                        BackendTarget::Dynamic(fmt) => CTarget::Dynamic(compile_format(fmt, &ctx)?),
                    };
                    let cond = ub
                        .cond
                        .as_ref()
                        .map(|c| compile_cond(c, p, &ctx))
                        .transpose()?;
                    use_backends.push(CUseBackend { target, cond });
                }
                let default_backend = match &f.default_backend {
                    Some(n) => Some(backends.get(n.as_str()).copied().ok_or_else(|| {
                        BuildError::UnknownBackend {
                            name: n.clone(),
                            location: p.location.to_string(),
                        }
                    })?),
                    // A listen section is its own default backend.
                    None if p.kind.has_backend() => Some(ProxyIdx(i as u32)),
                    None => None,
                };
                Some(FrontendRt {
                    use_backends,
                    default_backend,
                    http_request: compile_req_rules(p, &ctx)?,
                    http_response: compile_res_rules(p, &ctx)?,
                    monitor_fail: f
                        .monitor_fail
                        .as_ref()
                        .map(|c| compile_cond(c, p, &ctx))
                        .transpose()?,
                    stats_admin: f
                        .stats
                        .as_ref()
                        .and_then(|s| s.admin.as_ref())
                        .map(|c| compile_cond(&c.0, p, &ctx))
                        .transpose()?,
                    maxconn: f.maxconn.unwrap_or(global_maxconn),
                    tls: crate::bind_tls::compile_binds(p, &f.binds)?,
                })
            }
            _ => None,
        };
        let backend = match &p.backend {
            Some(b) if p.kind.has_backend() => {
                let mut servers = Vec::with_capacity(b.servers.len());
                for s in &b.servers {
                    let prev_sv = prev_px
                        .and_then(|x| x.backend.as_ref())
                        .and_then(|be| be.servers.iter().find(|o| *o.name == *s.name));
                    let mut sv = build_server(s, prev_sv, resolve)?;
                    if crate::tls::wants_tls(s) {
                        if p.mode == switchyard_config::Mode::Tcp && s.ssl {
                            // Not silently plaintext: refused until tcp mode speaks TLS.
                            return Err(crate::tls::unsupported(s, &p.name, "'ssl' on a server of a 'mode tcp' backend is not supported by switchyard.").into());
                        }
                        let verify = config.global.ssl_server_verify_required;
                        sv.tls = Some(Arc::new(crate::tls::compile(s, &p.name, verify)?));
                    }
                    servers.push(sv);
                }
                // A listen section's request rules run once, on its frontend side.
                let (http_request, http_response) = if p.kind.has_frontend() {
                    (Vec::new(), Vec::new())
                } else {
                    (compile_req_rules(p, &ctx)?, compile_res_rules(p, &ctx)?)
                };
                Some(BackendRt {
                    servers,
                    http_request,
                    http_response,
                    fullconn: b
                        .fullconn
                        .unwrap_or_else(|| fullconn.get(&ProxyIdx(i as u32)).copied().unwrap_or(1)),
                    lb: Ext::default(),
                })
            }
            _ => None,
        };
        proxies.push(Arc::new(ProxyRt {
            name: Arc::from(p.name.as_str()),
            id: p.id,
            kind: p.kind,
            cfg: Arc::new(p.clone()),
            frontend,
            backend,
            live,
        }));
    }

    Ok(Snapshot {
        generation: prev.map(|p| p.generation + 1).unwrap_or(1),
        config,
        proxies,
        proxy_by_name: Arc::new(names),
        backend_names: Arc::new(backends),
        maps,
        map_by_name: Arc::new(map_names),
    })
}

/// HAProxy's default global maxconn when none is configured is derived from
/// the file-descriptor limit; we use a fixed, documented value.
pub const DEFAULT_MAXCONN: u32 = 4096;

/// Backend `fullconn` default: 10% (rounded up) of the summed maxconn of the
/// frontends that reference the backend statically; 1 if none does.
fn default_fullconn(config: &Config, ctx: &Ctx<'_>) -> HashMap<ProxyIdx, u32> {
    let gmax = config.global.maxconn.unwrap_or(DEFAULT_MAXCONN);
    let mut sum: HashMap<ProxyIdx, u64> = HashMap::new();
    for (i, p) in config.proxies.iter().enumerate() {
        let Some(f) = &p.frontend else { continue };
        if !p.kind.has_frontend() {
            continue;
        }
        let fmax = u64::from(f.maxconn.unwrap_or(gmax));
        let mut targets: Vec<ProxyIdx> = Vec::new();
        if let Some(d) = f
            .default_backend
            .as_deref()
            .and_then(|n| ctx.backends.get(n))
        {
            targets.push(*d);
        } else if p.kind.has_backend() {
            targets.push(ProxyIdx(i as u32));
        }
        for ub in &f.use_backends {
            if let BackendTarget::Static(n) = &ub.target {
                if let Some(b) = ctx.backends.get(n.as_str()) {
                    targets.push(*b);
                }
            }
        }
        targets.sort();
        targets.dedup();
        for t in targets {
            *sum.entry(t).or_default() += fmax;
        }
    }
    sum.into_iter()
        .map(|(k, v)| (k, v.div_ceil(10).max(1) as u32))
        .collect()
}

fn build_server(
    s: &Server,
    prev: Option<&ServerRt>,
    resolve: &dyn Fn(&str) -> Option<IpAddr>,
) -> Result<ServerRt, BuildError> {
    let port = s.addr.port.unwrap_or(0);
    let mut admin = AdminState::default();
    if s.disabled {
        admin.set(AdminState::CMAINT | AdminState::FMAINT);
    }
    let addr = match s.addr.ip {
        Some(ip) => Some(SocketAddr::new(ip, port)),
        None => {
            let methods: &[InitAddr] = if s.init_addr.is_empty() {
                &[InitAddr::Last, InitAddr::Libc]
            } else {
                &s.init_addr
            };
            let mut found = None;
            let mut allow_none = false;
            for m in methods {
                match m {
                    InitAddr::Last => found = prev.and_then(|p| p.addr).map(|a| a.ip()),
                    InitAddr::Libc => found = resolve(&s.addr.host),
                    InitAddr::Ip(ip) => found = Some(*ip),
                    InitAddr::None => allow_none = true,
                }
                if found.is_some() || allow_none {
                    break;
                }
            }
            match found {
                Some(ip) => Some(SocketAddr::new(ip, port)),
                None if allow_none => {
                    admin.set(AdminState::RMAINT);
                    None
                }
                None => {
                    return Err(BuildError::Unresolvable {
                        server: s.name.clone(),
                        host: s.addr.host.clone(),
                        location: s.location.to_string(),
                    })
                }
            }
        }
    };
    let live = prev
        .map(|p| p.live.clone())
        .unwrap_or_else(|| Arc::new(ServerLive::new(s.check, s.rise)));
    Ok(ServerRt {
        name: Arc::from(s.name.as_str()),
        id: s.id,
        cfg: Arc::new(s.clone()),
        addr,
        admin,
        uweight: s.weight,
        iweight: s.weight,
        maint_weight: None,
        maxconn: None,
        live,
        tls: None,
    })
}

fn compile_sample(s: &SampleExpr, ctx: &Ctx<'_>) -> Result<CSample, BuildError> {
    let mut convs = Vec::with_capacity(s.converters.len());
    for c in &s.converters {
        convs.push(match c {
            Converter::Lower => CConv::Lower,
            Converter::Upper => CConv::Upper,
            Converter::Hex => CConv::Hex,
            Converter::Map { file, default, .. } => CConv::Map {
                map: ctx
                    .maps
                    .get(file.as_str())
                    .copied()
                    .ok_or_else(|| BuildError::UnknownMap(file.clone()))?,
                default: default.as_deref().map(Arc::from),
            },
        });
    }
    Ok(CSample {
        fetch: s.fetch.clone(),
        convs,
    })
}

fn compile_format(f: &LogFormat, ctx: &Ctx<'_>) -> Result<CFormat, BuildError> {
    let mut parts = Vec::with_capacity(f.parts.len());
    for p in &f.parts {
        parts.push(match p {
            FmtPart::Lit(t) => CPart::Lit(Arc::from(t.as_str())),
            FmtPart::Sample(s) => CPart::Sample(compile_sample(s, ctx)?),
            FmtPart::Var(v) => CPart::Var(Arc::from(v.as_str())),
        });
    }
    Ok(CFormat { parts })
}

fn compile_test(t: &AclTest, location: &str) -> Result<CAclTest, BuildError> {
    let mut regexes = Vec::new();
    let mut nets = Vec::new();
    let patterns: Vec<String> = t.patterns.clone();
    match t.match_kind {
        AclMatch::Reg => {
            for p in &patterns {
                let src = if t.ignore_case {
                    format!("(?i){p}")
                } else {
                    p.clone()
                };
                regexes.push(Regex::new(&src).map_err(|e| BuildError::BadRegex {
                    pattern: p.clone(),
                    reason: e.to_string(),
                    location: location.to_string(),
                })?);
            }
        }
        AclMatch::Ip => nets.extend(patterns.iter().filter_map(|p| matching::parse_net(p))),
        _ => {}
    }
    Ok(CAclTest {
        fetch: t.fetch.clone(),
        kind: t.match_kind,
        icase: t.ignore_case,
        patterns,
        regexes,
        nets,
    })
}

fn compile_cond(c: &Condition, p: &Proxy, _ctx: &Ctx<'_>) -> Result<CCondition, BuildError> {
    let loc = p.location.to_string();
    let mut any_of = Vec::with_capacity(c.any_of.len());
    for group in &c.any_of {
        let mut terms = Vec::with_capacity(group.len());
        for t in group {
            let tests = match &t.acl {
                AclRef::Inline(test) => vec![compile_test(test, &loc)?],
                AclRef::Named(name) => {
                    let found: Vec<&AclTest> = p
                        .acls
                        .iter()
                        .filter(|a| a.name == *name)
                        .map(|a| &a.test)
                        .collect();
                    if found.is_empty() {
                        match builtin_acl(name) {
                            Some(t) => vec![t],
                            None => {
                                return Err(BuildError::UnknownAcl {
                                    name: name.clone(),
                                    location: loc,
                                })
                            }
                        }
                    } else {
                        found
                            .into_iter()
                            .map(|t| compile_test(t, &loc))
                            .collect::<Result<_, _>>()?
                    }
                }
            };
            terms.push(CTerm {
                negate: t.negate,
                tests,
            });
        }
        any_of.push(terms);
    }
    Ok(CCondition {
        unless: c.unless,
        any_of,
    })
}

/// HAProxy's predefined ACLs that a condition may name without an `acl` line.
fn builtin_acl(name: &str) -> Option<CAclTest> {
    use switchyard_config::Fetch;
    let t = |fetch: Fetch, kind: AclMatch, pats: &[&str]| CAclTest {
        fetch,
        kind,
        icase: false,
        patterns: pats.iter().map(|s| s.to_string()).collect(),
        regexes: Vec::new(),
        nets: Vec::new(),
    };
    Some(match name {
        "TRUE" => t(Fetch::True, AclMatch::Bool, &[]),
        "FALSE" => t(Fetch::False, AclMatch::Bool, &[]),
        "METH_GET" => t(Fetch::Method, AclMatch::Exact, &["GET", "HEAD"]),
        "METH_HEAD" => t(Fetch::Method, AclMatch::Exact, &["HEAD"]),
        "METH_POST" => t(Fetch::Method, AclMatch::Exact, &["POST"]),
        "METH_PUT" => t(Fetch::Method, AclMatch::Exact, &["PUT"]),
        "METH_DELETE" => t(Fetch::Method, AclMatch::Exact, &["DELETE"]),
        "METH_OPTIONS" => t(Fetch::Method, AclMatch::Exact, &["OPTIONS"]),
        "LOCALHOST" => CAclTest {
            nets: vec![matching::parse_net("127.0.0.0/8")?],
            ..t(Fetch::Src, AclMatch::Ip, &["127.0.0.0/8"])
        },
        "HTTP" | "HTTP_1.1" => t(Fetch::True, AclMatch::Bool, &[]),
        _ => return None,
    })
}

fn compile_req_rules(p: &Proxy, ctx: &Ctx<'_>) -> Result<Vec<CReqRule>, BuildError> {
    let mut out = Vec::with_capacity(p.http_request.len());
    for r in &p.http_request {
        let action = match &r.action {
            HttpRequestAction::Return {
                status,
                content_type,
                body,
                headers,
            } => CReqAction::Return {
                status: *status,
                content_type: content_type.clone(),
                body: body.clone(),
                headers: headers
                    .iter()
                    .map(|(n, v)| Ok((n.clone(), compile_format(v, ctx)?)))
                    .collect::<Result<_, BuildError>>()?,
            },
            HttpRequestAction::Deny { status } => CReqAction::Deny { status: *status },
            HttpRequestAction::Allow => CReqAction::Allow,
            HttpRequestAction::SetHeader { name, value } => CReqAction::SetHeader {
                name: HeaderNameText::new(name),
                value: compile_format(value, ctx)?,
            },
            HttpRequestAction::AddHeader { name, value } => CReqAction::AddHeader {
                name: HeaderNameText::new(name),
                value: compile_format(value, ctx)?,
            },
            HttpRequestAction::DelHeader { name } => CReqAction::DelHeader {
                name: HeaderNameText::new(name),
            },
            HttpRequestAction::SetLogLevel(l) => CReqAction::SetLogLevel(*l),
            HttpRequestAction::Redirect {
                kind,
                code,
                drop_query,
            } => {
                let fmt = match kind {
                    RedirectKind::Location(f)
                    | RedirectKind::Prefix(f)
                    | RedirectKind::Scheme(f) => f,
                };
                CReqAction::Redirect {
                    kind: CRedirect::kind_of(kind)(compile_format(fmt, ctx)?),
                    code: *code,
                    drop_query: *drop_query,
                }
            }
            HttpRequestAction::UseService(s) => CReqAction::UseService(s.clone()),
            HttpRequestAction::DisableL7Retry => CReqAction::DisableL7Retry,
        };
        let cond = r
            .cond
            .as_ref()
            .map(|c| compile_cond(c, p, ctx))
            .transpose()?;
        out.push(CReqRule { action, cond });
    }
    Ok(out)
}

fn compile_res_rules(p: &Proxy, ctx: &Ctx<'_>) -> Result<Vec<CResRule>, BuildError> {
    let mut out = Vec::with_capacity(p.http_response.len());
    for r in &p.http_response {
        let action = match &r.action {
            HttpResponseAction::SetHeader { name, value } => CResAction::SetHeader {
                name: HeaderNameText::new(name),
                value: compile_format(value, ctx)?,
            },
            HttpResponseAction::AddHeader { name, value } => CResAction::AddHeader {
                name: HeaderNameText::new(name),
                value: compile_format(value, ctx)?,
            },
            HttpResponseAction::DelHeader { name } => CResAction::DelHeader {
                name: HeaderNameText::new(name),
            },
            HttpResponseAction::SetLogLevel(l) => CResAction::SetLogLevel(*l),
        };
        let cond = r
            .cond
            .as_ref()
            .map(|c| compile_cond(c, p, ctx))
            .transpose()?;
        out.push(CResRule { action, cond });
    }
    Ok(out)
}
