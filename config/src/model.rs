//! The validated configuration model: what `haproxy.cfg` means, with every
//! default applied. Later stages (state, proxy, health, admin) read only this.
//!
//! The model carries settings whose behaviour arrives in later work (TLS,
//! agent checks, ...) so that adding the behaviour needs no model change.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where a directive came from: `file:line`, as HAProxy prints it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The whole configuration, every `-f` file merged in order.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub global: Global,
    /// Frontends, backends and listen sections in config order. A `listen`
    /// section is one proxy with both sides, as in HAProxy.
    pub proxies: Vec<Proxy>,
    pub resolvers: Vec<Resolvers>,
    /// Map files named anywhere in the config, keyed by the literal path string
    /// used in the config (that string is the map's identity on the CLI).
    pub maps: BTreeMap<String, MapFile>,
    /// Non-fatal diagnostics (ignored keywords, suspicious ordering).
    pub warnings: Vec<Diagnostic>,
    /// Every config file read, in order (for reload).
    pub files: Vec<PathBuf>,
}

/// A warning or error tied to a config location, printed HAProxy-style:
/// `parsing [file:line] : message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub location: Location,
    pub message: String,
    /// Printed `[file:line] : message`, without `parsing `: HAProxy words
    /// its `server`/`default-server` line errors that way.
    pub bare: bool,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A diagnostic with no location (a file that cannot be opened) is
        // printed bare, as HAProxy does.
        if self.location.file.is_empty() {
            write!(f, "{}", self.message)
        } else if self.bare {
            write!(f, "[{}] : {}", self.location, self.message)
        } else {
            write!(f, "parsing [{}] : {}", self.location, self.message)
        }
    }
}

// ---------------------------------------------------------------- global

#[derive(Debug, Clone)]
pub struct Global {
    pub maxconn: Option<u32>,
    pub nbthread: Option<usize>,
    pub daemon: bool,
    pub master_worker: bool,
    pub user: Option<String>,
    pub group: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub pidfile: Option<PathBuf>,
    pub stats_sockets: Vec<StatsSocket>,
    /// `stats timeout`; HAProxy's default is 10s.
    pub stats_timeout: Duration,
    /// `stats maxconn`; default 10.
    pub stats_maxconn: u32,
    pub logs: Vec<LogTarget>,
    pub hard_stop_after: Option<Duration>,
    pub server_state_file: Option<PathBuf>,
    pub server_state_base: Option<PathBuf>,
    pub load_server_state_from_file: LoadServerState,
    /// `tune.bufsize`, default 16384: the most of a request body kept for replay.
    pub bufsize: usize,
    pub node: Option<String>,
    pub description: Option<String>,
    /// `ssl-server-verify`: `verify` of servers that set none (default
    /// `required`).
    pub ssl_server_verify_required: bool,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            maxconn: None,
            nbthread: None,
            daemon: false,
            master_worker: false,
            user: None,
            group: None,
            uid: None,
            gid: None,
            pidfile: None,
            stats_sockets: Vec::new(),
            stats_timeout: Duration::from_secs(10),
            stats_maxconn: 10,
            logs: Vec::new(),
            hard_stop_after: None,
            server_state_file: None,
            server_state_base: None,
            load_server_state_from_file: LoadServerState::None,
            bufsize: 16384,
            node: None,
            description: None,
            ssl_server_verify_required: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadServerState {
    #[default]
    None,
    Global,
    Local,
}

/// An address a listener or the stats socket binds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Tcp(SocketAddr::V4(a)) => write!(f, "ipv4@{a}"),
            ListenAddr::Tcp(SocketAddr::V6(a)) => write!(f, "ipv6@{a}"),
            ListenAddr::Unix(p) => write!(f, "unix@{}", p.display()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum CliLevel {
    User,
    #[default]
    Operator,
    Admin,
}

impl CliLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            CliLevel::User => "user",
            CliLevel::Operator => "operator",
            CliLevel::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSocket {
    pub addr: ListenAddr,
    /// Unix socket permission bits (`mode 660`).
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub level: CliLevel,
    pub expose_fd_listeners: bool,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDest {
    Stdout,
    Stderr,
    Udp(SocketAddr),
    Unix(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormatKind {
    Rfc3164,
    Rfc5424,
    Raw,
    Short,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub dest: LogDest,
    pub format: LogFormatKind,
    pub facility: String,
    pub level: Option<LogLevel>,
    pub min_level: Option<LogLevel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Emerg,
    Alert,
    Crit,
    Err,
    Warning,
    Notice,
    Info,
    Debug,
    /// `set-log-level silent`: no log line at all.
    Silent,
}

// ---------------------------------------------------------------- proxies

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    Frontend,
    Backend,
    Listen,
}

impl ProxyKind {
    pub fn has_frontend(self) -> bool {
        matches!(self, ProxyKind::Frontend | ProxyKind::Listen)
    }
    pub fn has_backend(self) -> bool {
        matches!(self, ProxyKind::Backend | ProxyKind::Listen)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Http,
    Tcp,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Http => "http",
            Mode::Tcp => "tcp",
        }
    }
}

/// Every `timeout` HAProxy knows; `None` is "not set".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub http_request: Option<Duration>,
    pub http_keep_alive: Option<Duration>,
    pub queue: Option<Duration>,
    pub check: Option<Duration>,
    pub tunnel: Option<Duration>,
    pub client_fin: Option<Duration>,
    pub server_fin: Option<Duration>,
    pub tarpit: Option<Duration>,
}

/// How connections are kept across requests (`option http-keep-alive`,
/// `option httpclose`, `option http-server-close`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpConnMode {
    #[default]
    KeepAlive,
    ServerClose,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    /// Header name, default `X-Forwarded-For`.
    pub header: String,
    /// `except <net>`: source networks that get no header.
    pub except: Option<IpNet>,
    pub if_none: bool,
}

/// An IPv4/IPv6 network with a prefix length (`10.0.0.0/8`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: std::net::IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `::1/128`, or a bare address
    /// (a host network).
    pub fn parse(text: &str) -> Option<IpNet> {
        let (a, m) = match text.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (text, None),
        };
        let addr: std::net::IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match m {
            None => max,
            Some(m) => match m.parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => {
                    // Dotted IPv4 netmask (255.255.0.0).
                    let mask: std::net::Ipv4Addr = m.parse().ok()?;
                    let bits = u32::from(mask);
                    if addr.is_ipv6() || bits.leading_ones() + bits.trailing_zeros() != 32 {
                        return None;
                    }
                    bits.leading_ones() as u8
                }
            },
        };
        Some(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let bits = u32::from(self.prefix.min(32));
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                (u32::from(n) & mask) == (u32::from(a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let bits = u32::from(self.prefix.min(128));
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                (u128::from(n) & mask) == (u128::from(a) & mask)
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyOptions {
    pub forwardfor: Option<ForwardFor>,
    pub conn_mode: HttpConnMode,
    pub httplog: bool,
    pub tcplog: bool,
    pub dontlognull: bool,
    /// `option redispatch [interval]`: `Some(-1)` redispatch on the last retry
    /// (the default interval), `Some(n>0)` every nth retry, `None` off.
    pub redispatch: Option<i32>,
    pub allbackups: bool,
    pub persist: bool,
    pub log_health_checks: bool,
    pub socket_stats: bool,
    /// `option disable-h2-upgrade`: an HTTP/2 preface on an HTTP/1 bind is
    /// not taken as HTTP/2.
    pub disable_h2_upgrade: bool,
}

/// One proxy section: frontend, backend or listen.
#[derive(Debug, Clone)]
pub struct Proxy {
    pub name: String,
    /// HAProxy's proxy uuid (`iid`): user proxies number from 2 in config order.
    pub id: u32,
    /// `id N` was given (HAProxy's `bk_f_forced_id`).
    pub forced_id: bool,
    pub kind: ProxyKind,
    pub location: Location,
    pub mode: Mode,
    pub timeouts: Timeouts,
    pub options: ProxyOptions,
    /// Log targets: `log global` copies the global ones.
    pub logs: Vec<LogTarget>,
    pub log_format: Option<String>,
    /// `acl` lines, in order.
    pub acls: Vec<Acl>,
    pub http_request: Vec<HttpRequestRule>,
    pub http_response: Vec<HttpResponseRule>,
    pub frontend: Option<FrontendSide>,
    pub backend: Option<BackendSide>,
    pub disabled: bool,
}

#[derive(Debug, Clone)]
pub struct FrontendSide {
    pub binds: Vec<Bind>,
    /// Frontend `maxconn`; defaults to the global maxconn (HAProxy's `slim`).
    pub maxconn: Option<u32>,
    pub default_backend: Option<String>,
    pub use_backends: Vec<UseBackend>,
    pub monitor_uri: Option<String>,
    pub monitor_fail: Option<Condition>,
    pub stats: Option<StatsPage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub addr: ListenAddr,
    pub location: Location,
    pub name: Option<String>,
    pub ssl: Option<BindSsl>,
    pub alpn: Vec<String>,
    /// `proto h1|h2`: the only protocol spoken on this bind (no ALPN
    /// choice, no h2 prior-knowledge detection).
    pub proto: Option<BindProto>,
    pub accept_proxy: bool,
    /// Unix socket permission bits.
    pub mode: Option<u32>,
    pub v4v6: bool,
    pub v6only: bool,
}

/// The multiplexer a bind's `proto` forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindProto {
    H1,
    H2,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindSsl {
    pub certs: Vec<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub verify: Option<String>,
    /// Every certificate the `crt` arguments loaded, in load order (the
    /// first is the default one, served without or on an unknown SNI).
    pub files: Vec<CertFile>,
    /// The certificates of `ca-file` (client-certificate trust anchors).
    pub ca_certs: Vec<rustls_pki_types::CertificateDer<'static>>,
}

/// One certificate as read from PEM: the chain (leaf first) and its key.
/// Decoded only; the snapshot checks that key and certificate match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFile {
    pub path: PathBuf,
    pub chain: Vec<rustls_pki_types::CertificateDer<'static>>,
    pub key: std::sync::Arc<rustls_pki_types::PrivateKeyDer<'static>>,
}

#[derive(Debug, Clone)]
pub struct UseBackend {
    pub target: BackendTarget,
    pub cond: Option<Condition>,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub enum BackendTarget {
    Static(String),
    /// `%[...]`: evaluated per request; the result names a backend.
    Dynamic(LogFormat),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsPage {
    pub uri: String,
    pub realm: String,
    pub auth: Vec<(String, String)>,
    pub refresh: Option<Duration>,
    pub hide_version: bool,
    pub show_legends: bool,
    pub show_node: bool,
    pub admin: Option<ConditionEq>,
}

/// A condition stored in a struct that needs `PartialEq`; compared by text.
#[derive(Debug, Clone)]
pub struct ConditionEq(pub Condition);

impl PartialEq for ConditionEq {
    fn eq(&self, other: &Self) -> bool {
        self.0.source == other.0.source
    }
}
impl Eq for ConditionEq {}

// ---------------------------------------------------------------- backend side

#[derive(Debug, Clone)]
pub struct BackendSide {
    pub balance: Balance,
    /// Default 3: connection attempts after the first.
    pub retries: u32,
    pub retry_on: RetryOn,
    pub cookie: Option<CookieCfg>,
    pub http_check: HttpCheck,
    pub http_reuse: HttpReuse,
    pub fullconn: Option<u32>,
    pub servers: Vec<Server>,
    pub hash_type: Option<String>,
    /// `load-server-state-from-file` of this backend (inherited from defaults);
    /// when neither sets it, the global value (a switchyard extension) applies.
    pub load_server_state: LoadServerState,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Balance {
    #[default]
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    Uri {
        len: Option<usize>,
        depth: Option<usize>,
        whole: bool,
        path_only: bool,
    },
    UrlParam(String),
    Hdr(String),
    Random(u32),
}

impl Balance {
    /// The `algo` column of `show stat`.
    pub fn name(&self) -> &'static str {
        match self {
            Balance::RoundRobin => "roundrobin",
            Balance::StaticRr => "static-rr",
            Balance::LeastConn => "leastconn",
            Balance::First => "first",
            Balance::Source => "source",
            Balance::Uri { .. } => "uri",
            Balance::UrlParam(_) => "url_param",
            Balance::Hdr(_) => "hdr",
            Balance::Random(_) => "random",
        }
    }
    /// Static algorithms accept only weights 0% and 100% at runtime.
    pub fn is_static(&self) -> bool {
        matches!(
            self,
            Balance::StaticRr
                | Balance::Source
                | Balance::Uri { .. }
                | Balance::UrlParam(_)
                | Balance::Hdr(_)
        )
    }
}

/// `retry-on` keywords as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryOn(pub u32);

impl RetryOn {
    pub const CONN_FAILURE: u32 = 1 << 0;
    pub const EMPTY_RESPONSE: u32 = 1 << 1;
    pub const JUNK_RESPONSE: u32 = 1 << 2;
    pub const RESPONSE_TIMEOUT: u32 = 1 << 3;
    pub const ZERO_RTT_REJECTED: u32 = 1 << 4;
    pub const S401: u32 = 1 << 5;
    pub const S403: u32 = 1 << 6;
    pub const S404: u32 = 1 << 7;
    pub const S408: u32 = 1 << 8;
    pub const S425: u32 = 1 << 9;
    pub const S500: u32 = 1 << 10;
    pub const S501: u32 = 1 << 11;
    pub const S502: u32 = 1 << 12;
    pub const S503: u32 = 1 << 13;
    pub const S504: u32 = 1 << 14;
    pub const ALL_RETRYABLE: u32 = Self::CONN_FAILURE
        | Self::EMPTY_RESPONSE
        | Self::JUNK_RESPONSE
        | Self::RESPONSE_TIMEOUT
        | Self::ZERO_RTT_REJECTED
        | Self::S500
        | Self::S502
        | Self::S503
        | Self::S504;

    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }
    /// The bit for a response status, if `retry-on` can name it.
    pub fn status_bit(status: u16) -> Option<u32> {
        Some(match status {
            401 => Self::S401,
            403 => Self::S403,
            404 => Self::S404,
            408 => Self::S408,
            425 => Self::S425,
            500 => Self::S500,
            501 => Self::S501,
            502 => Self::S502,
            503 => Self::S503,
            504 => Self::S504,
            _ => return None,
        })
    }
    /// Whether any L7 (response-based) retry is enabled.
    pub fn any_l7(self) -> bool {
        self.0 & !Self::CONN_FAILURE != 0
    }
}

impl Default for RetryOn {
    fn default() -> Self {
        RetryOn(Self::CONN_FAILURE)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpReuse {
    Never,
    #[default]
    Safe,
    Aggressive,
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieMode {
    Insert,
    Rewrite,
    Prefix,
    /// None of insert/rewrite/prefix: the server sets the cookie itself and
    /// HAProxy only reads it for persistence.
    Passive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieCfg {
    pub name: String,
    pub mode: CookieMode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    pub httponly: bool,
    pub secure: bool,
    pub domain: Vec<String>,
    pub maxidle: Option<Duration>,
    pub maxlife: Option<Duration>,
    pub attr: Vec<String>,
}

/// `option httpchk` + `http-check ...`: what an HTTP check sends and expects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpCheck {
    /// `option httpchk` present: checks are HTTP, else TCP connect.
    pub enabled: bool,
    pub method: String,
    pub uri: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub expect: Vec<HttpExpect>,
    pub disable_on_404: bool,
    pub send_state: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpExpect {
    pub negate: bool,
    pub matcher: ExpectMatcher,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectMatcher {
    /// `status 200,201,300-310`
    Status(Vec<(u16, u16)>),
    Rstatus(String),
    String(String),
    Rstring(String),
    /// `hdr name <n> [value <v>]`, kept as text.
    Hdr(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitAddr {
    Last,
    Libc,
    None,
    Ip(std::net::IpAddr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observe {
    Layer4,
    Layer7,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    #[default]
    FailCheck,
    Fastinter,
    SuddenDeath,
    MarkDown,
}

/// Where a server lives: a literal IP or a name to resolve, and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddr {
    /// The text as written (`localhost`, `10.0.0.1`, `[::1]`).
    pub host: String,
    /// Set when `host` is a literal address.
    pub ip: Option<std::net::IpAddr>,
    /// `None` when the config gave no port (the client's port is reused).
    pub port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    /// HAProxy's `puid`: 1-based position in the backend unless `id` is set.
    pub id: u32,
    pub location: Location,
    pub addr: ServerAddr,
    pub check: bool,
    pub inter: Duration,
    pub fastinter: Option<Duration>,
    pub downinter: Option<Duration>,
    pub rise: u32,
    pub fall: u32,
    pub slowstart: Option<Duration>,
    /// 0..=256, default 1.
    pub weight: u32,
    pub maxconn: Option<u32>,
    pub maxqueue: Option<u32>,
    pub backup: bool,
    pub cookie: Option<String>,
    pub resolvers: Option<String>,
    pub init_addr: Vec<InitAddr>,
    pub resolve_prefer: Option<String>,
    /// `resolve-net`: preferred networks when picking a DNS answer's address.
    pub resolve_net: Vec<IpNet>,
    /// `resolve-opts allow-dup-ip`: servers of one backend may share an
    /// address from the same resolution (HAProxy refuses it by default).
    pub allow_dup_ip: bool,
    pub disabled: bool,
    pub observe: Option<Observe>,
    pub error_limit: u32,
    pub on_error: OnError,
    pub on_marked_down_shutdown: bool,
    pub on_marked_up_shutdown_backup: bool,
    pub check_port: Option<u16>,
    pub check_addr: Option<std::net::IpAddr>,
    pub agent_port: Option<u16>,
    pub agent_inter: Option<Duration>,
    pub agent_send: Option<String>,
    pub track: Option<String>,
    pub ssl: bool,
    pub verify: Option<String>,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub proto_h2: bool,
    pub send_proxy: bool,
    /// `id N` was given: `id` is this server's own, not numbered.
    pub forced_id: bool,
    /// HAProxy's `srv_f_forced_id` flag, as `show servers state` prints it:
    /// `id N` was given to this server or, for the copies of a
    /// `server-template`, to the template (they take its flag, not its id).
    pub forced_id_flag: bool,
    /// `agent-check`: the agent is polled (needs `agent-port`).
    pub agent_check: bool,
    /// `agent-addr <ip>`: where the agent is polled (default: the server's).
    pub agent_addr: Option<std::net::IpAddr>,
    /// `ca-file` used with `verify required`.
    pub ca_file: Option<PathBuf>,
    /// `sni <expr>`, parsed (`sni` keeps the text).
    pub sni_expr: Option<SampleExpr>,
    /// `crt <file>`: the client certificate (and key) shown to the server.
    pub crt: Option<PathBuf>,
    /// `check-ssl` (`Some(true)`), `no-check-ssl` (`Some(false)`); `None`:
    /// checks use TLS when the server does.
    pub check_ssl: Option<bool>,
    /// `check-sni <name>`: the SNI a TLS check sends.
    pub check_sni: Option<String>,
    /// `verifyhost <name>`: the name the certificate must carry.
    pub verifyhost: Option<String>,
    /// The server has TLS settings (`ssl` was given on it or its
    /// default-server), so `set server ... ssl on` may turn TLS on (HAProxy's
    /// `ssl_ctx.ctx != NULL`).
    pub ssl_ctx: bool,
}

// ---------------------------------------------------------------- rules, ACLs, samples

/// A sample fetch: where a value comes from in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    /// `str(...)`: a constant.
    Str(String),
    Path,
    /// `base`: Host header + path.
    Base,
    Url,
    Query,
    /// `req.hdr(name[,occ])`, `hdr(name)`: header value (last occurrence by
    /// default, like HAProxy).
    ReqHdr {
        name: String,
        occ: Option<i32>,
    },
    Src,
    Method,
    /// `url_param(name)`
    UrlParam(String),
    /// `req.cook(name)` / `cook(name)`
    Cookie(String),
    DstPort,
    /// `ssl_fc`
    SslFc,
    /// `ssl_c_used`: the client sent a certificate (TLS connections).
    SslCUsed,
    /// `ssl_c_verify`: the client certificate's verify result (0 = ok).
    SslCVerify,
    /// `ssl_c_s_dn` / `ssl_c_i_dn`: the client certificate's subject or
    /// issuer DN, whole (`entry: None`) or one entry (`ssl_c_s_dn(cn[,occ])`).
    SslCDn {
        issuer: bool,
        entry: Option<String>,
        occ: i32,
    },
    /// `ssl_c_serial` (binary in HAProxy; its text here is the serial's
    /// bytes, and `ssl_c_serial,hex` their uppercase hex).
    SslCSerial,
    /// `ssl_c_notbefore`: `YYMMDDhhmmssZ`.
    SslCNotBefore,
    /// `ssl_c_notafter`: `YYMMDDhhmmssZ`.
    SslCNotAfter,
    /// Always true (`TRUE`, `always_true`)
    True,
    False,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapMatch {
    Str,
    Beg,
    Dom,
    End,
    Reg,
    Sub,
    Ip,
    Int,
}

impl MapMatch {
    /// The `type=` word `get map` prints.
    pub fn type_name(self) -> &'static str {
        match self {
            MapMatch::Str => "str",
            MapMatch::Beg => "beg",
            MapMatch::Dom => "dom",
            MapMatch::End => "end",
            MapMatch::Reg => "reg",
            MapMatch::Sub => "sub",
            MapMatch::Ip => "ip",
            MapMatch::Int => "int",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Converter {
    Lower,
    Upper,
    /// `hex`: the sample's bytes as uppercase hex.
    Hex,
    Map {
        kind: MapMatch,
        /// The map's identity: the literal path string from the config.
        file: String,
        default: Option<String>,
    },
}

/// A sample expression: a fetch then converters (`str(X),map(f.map,def)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleExpr {
    pub fetch: Fetch,
    pub converters: Vec<Converter>,
}

/// A log-format string: literal text and `%[sample]` parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    pub parts: Vec<FmtPart>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FmtPart {
    Lit(String),
    Sample(SampleExpr),
    /// A `%X` log variable (`%ci`, `%b`, ...), kept by name.
    Var(String),
}

/// How an ACL compares the fetched value with its patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclMatch {
    Exact,
    Beg,
    End,
    Sub,
    Reg,
    Dom,
    Ip,
    Int,
    Found,
    Len,
    Bool,
}

/// One ACL test: `path_beg -i /api /v2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclTest {
    pub fetch: Fetch,
    pub match_kind: AclMatch,
    pub ignore_case: bool,
    pub patterns: Vec<String>,
    /// Files given with `-f file`. Their patterns are already read and
    /// appended to `patterns`; the names are kept for `show acl`.
    pub pattern_files: Vec<String>,
    /// Converters applied to the fetched value before matching
    /// (`acl a req.hdr(host),lower -m str x`).
    pub converters: Vec<Converter>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub name: String,
    pub test: AclTest,
    pub location: Location,
}

/// One term of a condition: a named ACL or an inline `{ ... }` one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclRef {
    /// Index into the proxy's `acls` (every ACL of that name is OR'ed, as
    /// HAProxy does for repeated `acl` lines).
    Named(String),
    Inline(AclTest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondTerm {
    pub negate: bool,
    pub acl: AclRef,
}

/// `if`/`unless` followed by terms: implicit AND within a group, `||`/`or`
/// between groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub unless: bool,
    pub any_of: Vec<Vec<CondTerm>>,
    /// The text as written, for diagnostics.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnBody {
    None,
    String(String),
    LfString(LogFormat),
    File(PathBuf),
    /// Loaded file content for `file`/`errorfile`.
    Loaded(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectKind {
    Location(LogFormat),
    Prefix(LogFormat),
    Scheme(LogFormat),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpRequestAction {
    Return {
        status: u16,
        content_type: Option<String>,
        body: ReturnBody,
        headers: Vec<(String, LogFormat)>,
    },
    Deny {
        status: u16,
    },
    Allow,
    SetHeader {
        name: String,
        value: LogFormat,
    },
    AddHeader {
        name: String,
        value: LogFormat,
    },
    DelHeader {
        name: String,
    },
    SetLogLevel(LogLevel),
    Redirect {
        kind: RedirectKind,
        code: u16,
        drop_query: bool,
    },
    /// `use-service prometheus-exporter` and friends.
    UseService(String),
    DisableL7Retry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequestRule {
    pub action: HttpRequestAction,
    pub cond: Option<Condition>,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpResponseAction {
    SetHeader { name: String, value: LogFormat },
    AddHeader { name: String, value: LogFormat },
    DelHeader { name: String },
    SetLogLevel(LogLevel),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponseRule {
    pub action: HttpResponseAction,
    pub cond: Option<Condition>,
    pub location: Location,
}

// ---------------------------------------------------------------- resolvers, maps

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolvers {
    pub name: String,
    pub location: Location,
    /// `(name, address)`
    pub nameservers: Vec<(String, SocketAddr)>,
    pub parse_resolv_conf: bool,
    /// `hold valid` and friends: status → duration.
    pub hold: BTreeMap<String, Duration>,
    pub resolve_retries: u32,
    pub timeout_resolve: Duration,
    pub timeout_retry: Duration,
    pub accepted_payload_size: Option<u32>,
}

/// One map entry as loaded from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapFile {
    /// The path string as written in the config (its CLI identity).
    pub name: String,
    /// Where the file was read from (relative names resolve against the cwd,
    /// as HAProxy does).
    pub path: PathBuf,
    pub kind: MapMatch,
    pub entries: Vec<MapEntry>,
    /// First use in the config: `used by map at file 'x' line N`.
    pub first_use: Location,
}
