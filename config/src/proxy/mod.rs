//! Proxy sections (`defaults`, `frontend`, `backend`, `listen`): the draft
//! being built while a section is parsed, inheritance from `defaults`, and
//! the keyword dispatch.

mod backend;
mod common;
mod frontend;
mod httpcheck;
pub(crate) mod options;

use crate::ctx::{Ctx, Kwm, Line};
use crate::diag::unknown_keyword;
use crate::model::*;
use crate::server::default_server;

/// A proxy (or defaults section) while its lines are read. Both sides are
/// kept; the one the section kind lacks is dropped when it is finished.
#[derive(Debug, Clone)]
pub(crate) struct ProxyDraft {
    pub name: String,
    pub kind: ProxyKind,
    pub is_defaults: bool,
    pub location: Location,
    pub forced_id: Option<u32>,
    pub mode: Mode,
    pub timeouts: Timeouts,
    pub options: ProxyOptions,
    pub logs: Vec<LogTarget>,
    pub log_format: Option<String>,
    pub acls: Vec<Acl>,
    pub http_request: Vec<HttpRequestRule>,
    /// `redirect` rules: HAProxy runs them after every `http-request` rule.
    pub redirects: Vec<HttpRequestRule>,
    pub http_response: Vec<HttpResponseRule>,
    pub fe: FrontendSide,
    pub be: BackendSide,
    pub disabled: bool,
    pub description: Option<String>,
    /// `default-server` settings applied to every later `server`.
    pub default_server: Server,
    pub load_server_state: Option<LoadServerState>,
    /// A `use_backend` was seen (for HAProxy's rule-order warnings).
    pub seen_use_backend: bool,
    /// `stats` keywords seen in this section (not inherited).
    pub stats_here: bool,
    /// `http-check send` fields, merged over `option httpchk` at the end.
    pub check_send: Option<httpcheck::CheckSend>,
    /// `http-check send/expect/comment` rules so far (HAProxy's steps).
    pub check_rules: usize,
    pub seen_expect: bool,
    /// Where `default_backend` was set (for reference errors).
    pub default_backend_loc: Location,
}

/// HAProxy's built-in defaults (`proxy_preset_defaults`): TCP mode, no
/// timeouts, round robin, 3 retries, retry on connection failure.
pub(crate) fn builtin_defaults() -> ProxyDraft {
    ProxyDraft {
        name: String::new(),
        kind: ProxyKind::Listen,
        is_defaults: true,
        location: Location::default(),
        forced_id: None,
        mode: Mode::Tcp,
        timeouts: Timeouts::default(),
        options: ProxyOptions::default(),
        logs: Vec::new(),
        log_format: None,
        acls: Vec::new(),
        http_request: Vec::new(),
        redirects: Vec::new(),
        http_response: Vec::new(),
        fe: FrontendSide {
            binds: Vec::new(),
            maxconn: None,
            default_backend: None,
            use_backends: Vec::new(),
            monitor_uri: None,
            monitor_fail: None,
            stats: None,
        },
        be: BackendSide {
            balance: Balance::RoundRobin,
            retries: 3,
            retry_on: RetryOn::default(),
            cookie: None,
            http_check: HttpCheck::default(),
            http_reuse: HttpReuse::Safe,
            fullconn: None,
            servers: Vec::new(),
            hash_type: None,
            load_server_state: LoadServerState::None,
        },
        disabled: false,
        description: None,
        default_server: default_server(),
        load_server_state: None,
        seen_use_backend: false,
        stats_here: false,
        check_send: None,
        check_rules: 0,
        seen_expect: false,
        default_backend_loc: Location::default(),
    }
}

impl ProxyDraft {
    pub(crate) fn type_str(&self) -> &'static str {
        if self.is_defaults {
            return "defaults";
        }
        match self.kind {
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "listen",
        }
    }

    fn has_fe(&self) -> bool {
        self.is_defaults || self.kind.has_frontend()
    }

    fn has_be(&self) -> bool {
        self.is_defaults || self.kind.has_backend()
    }

    /// HAProxy's `warnifnotcap`: warn and return true when the keyword is
    /// for a side this section does not have.
    pub(crate) fn warn_if_not_fe(
        &self,
        ctx: &mut Ctx,
        loc: &Location,
        kw: &str,
        hint: &str,
    ) -> bool {
        if self.has_fe() {
            return false;
        }
        ctx.warn(
            loc,
            format!(
                "'{kw}' ignored because {} '{}' has no frontend capability.{hint}",
                self.type_str(),
                self.name
            ),
        );
        true
    }

    pub(crate) fn warn_if_not_be(
        &self,
        ctx: &mut Ctx,
        loc: &Location,
        kw: &str,
        hint: &str,
    ) -> bool {
        if self.has_be() {
            return false;
        }
        ctx.warn(
            loc,
            format!(
                "'{kw}' ignored because {} '{}' has no backend capability.{hint}",
                self.type_str(),
                self.name
            ),
        );
        true
    }

    /// `failifnotcap` for the backend side.
    pub(crate) fn fail_if_not_be(&self, ctx: &mut Ctx, loc: &Location, kw: &str) -> bool {
        if self.has_be() {
            return false;
        }
        ctx.error(
            loc,
            format!(
                "'{kw}' not allowed because {} '{}' has no backend capability.",
                self.type_str(),
                self.name
            ),
        );
        true
    }

    /// Error for keywords that a `defaults` section cannot hold.
    pub(crate) fn deny_in_defaults(&self, ctx: &mut Ctx, loc: &Location, kw: &str) -> bool {
        if self.is_defaults {
            ctx.error(loc, format!("'{kw}' not allowed in 'defaults' section."));
            return true;
        }
        false
    }
}

/// A new proxy (or defaults section) starting from defaults `from`.
pub(crate) fn new_draft(
    from: &ProxyDraft,
    name: &str,
    kind: ProxyKind,
    is_defaults: bool,
    loc: &Location,
) -> ProxyDraft {
    let mut d = from.clone();
    d.name = name.to_string();
    d.kind = kind;
    d.is_defaults = is_defaults;
    d.location = loc.clone();
    d.forced_id = None;
    d.description = None;
    d.seen_use_backend = false;
    d.stats_here = false;
    d.fe.binds.clear();
    d.fe.use_backends.clear();
    d.redirects.clear();
    d.fe.monitor_fail = None;
    d.be.servers.clear();
    if let Some(s) = d.fe.stats.as_mut() {
        s.admin = None;
    }
    // Rules of a named defaults section run before the proxy's own. Its ACLs
    // are private to it: rename them so they cannot mix with the proxy's.
    let prefix = format!("{}/", from.name);
    d.acls = from
        .acls
        .iter()
        .map(|a| Acl {
            name: format!("{prefix}{}", a.name),
            ..a.clone()
        })
        .collect();
    for r in &mut d.http_request {
        if let Some(c) = r.cond.as_mut() {
            rename_acls(c, &prefix);
        }
    }
    for r in &mut d.http_response {
        if let Some(c) = r.cond.as_mut() {
            rename_acls(c, &prefix);
        }
    }
    if is_defaults {
        d.acls.clear();
        d.http_request.clear();
        d.http_response.clear();
    }
    d
}

fn rename_acls(c: &mut Condition, prefix: &str) {
    for group in &mut c.any_of {
        for t in group {
            if let AclRef::Named(n) = &mut t.acl {
                *n = format!("{prefix}{n}");
            }
        }
    }
}

/// Keywords of proxy sections, for suggestions.
const PROXY_KEYWORDS: &[&str] = &[
    "acl",
    "balance",
    "bind",
    "cookie",
    "default-server",
    "default_backend",
    "description",
    "disabled",
    "enabled",
    "fullconn",
    "hash-type",
    "http-check",
    "http-request",
    "http-response",
    "http-reuse",
    "id",
    "load-server-state-from-file",
    "log",
    "log-format",
    "maxconn",
    "mode",
    "monitor",
    "monitor-uri",
    "option",
    "retries",
    "retry-on",
    "server",
    "stats",
    "timeout",
    "use_backend",
];

/// Proxy keywords HAProxy has that switchyard accepts and ignores with a
/// warning, because they only tune things it does not have.
pub const HARMLESS_PROXY_KEYWORDS: &[&str] =
    &["backlog", "log-tag", "bind-process", "max-keep-alive-queue"];

/// Parse one line of a proxy or defaults section.
pub(crate) fn parse_proxy_line(ctx: &mut Ctx, global: &Global, d: &mut ProxyDraft, l: &Line<'_>) {
    let kw = l.kw();
    if l.kwm != Kwm::Std && kw != "option" && kw != "log" {
        ctx.error(
            l.loc,
            "negation/default currently supported only for options, log, busy-polling, set-dumpable, \
             strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
        );
        return;
    }
    match kw {
        "bind" => frontend::bind(ctx, d, l),
        "default_backend" => frontend::default_backend(ctx, d, l),
        "use_backend" => frontend::use_backend(ctx, d, l),
        "monitor-uri" => frontend::monitor_uri(ctx, d, l),
        "monitor" => frontend::monitor(ctx, d, l),
        "monitor-net" => ctx.error(
            l.loc,
            format!(
                "'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if {{ src {} }}' instead.",
                l.arg(1)
            ),
        ),
        "stats" => frontend::stats(ctx, d, l),
        "maxconn" => frontend::maxconn(ctx, d, l),
        "balance" => backend::balance(ctx, d, l),
        "hash-type" => backend::hash_type(ctx, d, l),
        "retries" => backend::retries(ctx, d, l),
        "retry-on" => backend::retry_on(ctx, d, l),
        "cookie" => backend::cookie(ctx, d, l),
        "fullconn" => backend::fullconn(ctx, d, l),
        "http-reuse" => backend::http_reuse(ctx, d, l),
        "load-server-state-from-file" => backend::load_state(ctx, d, l),
        "server" | "default-server" | "server-template" => {
            crate::server::parse_server_line(ctx, d, l)
        }
        "http-check" => httpcheck::http_check(ctx, d, l),
        "option" => options::option(ctx, d, l),
        "mode" => common::mode(ctx, d, l),
        "timeout" => common::timeout(ctx, d, l),
        "log" => common::log(ctx, global, d, l),
        "log-format" => common::log_format(ctx, d, l),
        "acl" => common::acl(ctx, d, l),
        "http-request" => common::http_request(ctx, d, l),
        "redirect" => common::redirect(ctx, d, l),
        "http-response" => common::http_response(ctx, d, l),
        "disabled" => {
            if !l.too_many(ctx, 0, 0) {
                d.disabled = true;
            }
        }
        "enabled" => {
            if !l.too_many(ctx, 0, 0) {
                d.disabled = false;
            }
        }
        "id" => common::id(ctx, d, l),
        "description" => common::description(ctx, d, l),
        "redispatch" | "redisp" => ctx.error(
            l.loc,
            format!("keyword '{kw}' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'."),
        ),
        "grace" => ctx.error(
            l.loc,
            "the 'grace' keyword is not supported any more since HAProxy version 2.5.",
        ),
        _ if crate::global::is_harmless(HARMLESS_PROXY_KEYWORDS, kw) => {
            ctx.warn(l.loc, format!("keyword '{kw}' is ignored by switchyard."));
        }
        _ if KNOWN_UNSUPPORTED.contains(&kw) => {
            ctx.error(l.loc, format!("keyword '{kw}' is not supported by switchyard."));
        }
        _ => {
            let section = if d.is_defaults { "defaults" } else { d.type_str() };
            ctx.error(l.loc, unknown_keyword(kw, section, PROXY_KEYWORDS.iter().copied()));
        }
    }
}

/// Valid HAProxy 2.6 proxy keywords switchyard does not implement.
const KNOWN_UNSUPPORTED: &[&str] = &[
    "capture",
    "compression",
    "declare",
    "dispatch",
    "dynamic-cookie-key",
    "email-alert",
    "errorfile",
    "errorfiles",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "error-log-format",
    "filter",
    "force-persist",
    "http-after-response",
    "http-error",
    "http-send-name-header",
    "ignore-persist",
    "log-format-sd",
    "max-session-srv-conns",
    "persist",
    "rate-limit",
    "server-state-file-name",
    "source",
    "stick",
    "stick-table",
    "tcp-check",
    "tcp-request",
    "tcp-response",
    "transparent",
    "unique-id-format",
    "unique-id-header",
    "use-fcgi-app",
    "use-server",
    "external-check",
];

/// Turn a finished draft into the model (ids are assigned later).
pub(crate) fn finish_draft(ctx: &mut Ctx, d: ProxyDraft, global: &Global) -> Proxy {
    if d.kind.has_backend() && d.check_rules > 0 && !d.be.http_check.enabled {
        // A whole-config check in HAProxy: its warning names no line.
        ctx.warn(
            &Location::default(),
            format!(
                "backend '{}' uses http-check rules without 'option httpchk', so the rules are ignored.",
                d.name
            ),
        );
    }
    let mut fe = d.fe;
    if fe.maxconn.is_none() {
        fe.maxconn = global.maxconn;
    }
    let mut be = d.be;
    httpcheck::finish_http_check(&mut be.http_check, d.check_send.as_ref());
    be.load_server_state = d
        .load_server_state
        .unwrap_or(global.load_server_state_from_file);
    // `timeout connect` presets `timeout queue` and `timeout tarpit`.
    let mut timeouts = d.timeouts;
    if timeouts.queue.is_none() {
        timeouts.queue = timeouts.connect;
    }
    if timeouts.tarpit.is_none() {
        timeouts.tarpit = timeouts.connect;
    }
    Proxy {
        name: d.name,
        id: d.forced_id.unwrap_or(0),
        forced_id: d.forced_id.is_some(),
        kind: d.kind,
        location: d.location,
        mode: d.mode,
        timeouts,
        options: d.options,
        logs: d.logs,
        log_format: d.log_format,
        acls: d.acls,
        http_request: d.http_request.into_iter().chain(d.redirects).collect(),
        http_response: d.http_response,
        frontend: d.kind.has_frontend().then_some(fe),
        backend: d.kind.has_backend().then_some(be),
        disabled: d.disabled,
    }
}
