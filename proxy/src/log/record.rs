//! What one log line knows about a request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use switchyard_config::{LogLevel, Proxy};

/// The server name before one is chosen: shared, not made per request.
static NOSRV: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from("<NOSRV>"));

/// The timers of `%TR/%Tw/%Tc/%Tr/%Ta` in milliseconds; -1 = never reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Times {
    pub(crate) tr: i64,
    pub(crate) tw: i64,
    pub(crate) tc: i64,
    pub(crate) tresp: i64,
    pub(crate) ta: i64,
}

impl Default for Times {
    fn default() -> Self {
        Times {
            tr: -1,
            tw: -1,
            tc: -1,
            tresp: -1,
            ta: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LogRecord {
    /// The proxy whose `log` targets and `log-format` apply (the frontend).
    pub(crate) proxy: Option<Arc<Proxy>>,
    pub(crate) level: LogLevel,
    pub(crate) client: Option<SocketAddr>,
    pub(crate) frontend_addr: Option<SocketAddr>,
    /// When the request started (its first byte, or the accept).
    pub(crate) date: SystemTime,
    pub(crate) frontend: Arc<str>,
    /// Set on a TLS connection.
    pub(crate) tls: Option<std::sync::Arc<crate::tls::TlsParams>>,
    pub(crate) backend: Arc<str>,
    pub(crate) server: Arc<str>,
    pub(crate) times: Times,
    pub(crate) status: i32,
    pub(crate) bytes: u64,
    /// `%U`: bytes from the client (HAProxy's HTX count, as `bin`).
    pub(crate) bytes_in: u64,
    /// `%tsc`: termination state and cookie flags.
    pub(crate) term: [u8; 4],
    pub(crate) actconn: u32,
    pub(crate) feconn: u32,
    pub(crate) beconn: u32,
    pub(crate) srvconn: u32,
    pub(crate) retries: u32,
    pub(crate) redispatched: bool,
    pub(crate) srv_queue: u32,
    pub(crate) be_queue: u32,
    /// The request line, `None` for `<BADREQ>`.
    pub(crate) request: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) uri: Option<String>,
}

impl LogRecord {
    pub(crate) fn new(
        proxy: Option<Arc<Proxy>>,
        frontend: Arc<str>,
        date: SystemTime,
    ) -> LogRecord {
        LogRecord {
            proxy,
            level: LogLevel::Info,
            client: None,
            frontend_addr: None,
            date,
            backend: frontend.clone(),
            frontend,
            tls: None,
            server: NOSRV.clone(),
            times: Times::default(),
            status: -1,
            bytes: 0,
            bytes_in: 0,
            term: *b"----",
            actconn: 0,
            feconn: 0,
            beconn: 0,
            srvconn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            be_queue: 0,
            request: None,
            method: None,
            uri: None,
        }
    }
}
