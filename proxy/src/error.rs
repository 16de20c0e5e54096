//! Errors: [`ProxyError`] for the API (binding), and [`Cause`], why a request
//! failed, mapped to the status HAProxy sends in one exhaustive match.

use switchyard_config::ListenAddr;

/// An error the binary sees from this crate.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// A `bind` could not be opened. Displayed as HAProxy's alert:
    /// `Starting frontend fe: cannot bind socket (Address already in use) [127.0.0.1:80]`.
    #[error("Starting frontend {frontend}: cannot bind {kind} ({reason}) [{addr}]")]
    Bind {
        frontend: String,
        /// `socket` or `UNIX socket`, as HAProxy words it.
        kind: &'static str,
        addr: String,
        reason: String,
        #[source]
        source: std::io::Error,
    },
}

impl ProxyError {
    pub(crate) fn bind(frontend: &str, addr: &ListenAddr, source: std::io::Error) -> ProxyError {
        let (kind, addr) = match addr {
            ListenAddr::Tcp(a) => ("socket", a.to_string()),
            ListenAddr::Unix(p) => ("UNIX socket", p.display().to_string()),
        };
        ProxyError::Bind {
            frontend: frontend.to_string(),
            kind,
            addr,
            reason: strerror(&source),
            source,
        }
    }
}

/// The C library's wording of an I/O error, without Rust's `(os error N)`.
pub(crate) fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Why a request could not be answered by a server: which side failed and
/// how. Each maps to the status HAProxy sends and to its termination code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// No backend chosen (no `default_backend`, unknown dynamic name).
    NoBackend,
    /// The backend has no usable server (`SC--` with `<NOSRV>`).
    NoServer,
    /// Every connection attempt failed (`SC--`).
    ConnectFailed,
    /// Connection attempt timed out (`sC--`).
    ConnectTimeout,
    /// The queue was full (`sQ--`): HAProxy answers 503.
    QueueFull,
    /// Waited in the queue past `timeout queue` (`sQ--`).
    QueueTimeout,
    /// The server closed or reset before a complete response head (`SH--`).
    UpstreamClosed,
    /// The server sent something that is not HTTP (`PH--`).
    UpstreamInvalid,
    /// No response head within `timeout server` (`sH--`).
    UpstreamTimeout,
    /// The request body from the client failed while we forwarded it (`CH--`).
    ClientAborted,
    /// The client went away (reset its HTTP/2 stream) while the request
    /// waited for the server's answer (`CD--`): HAProxy drops the server
    /// connection at once.
    ClientGone,
    /// The client went away while the request waited in a queue (`CQ--`):
    /// it leaves the queue at once, as in HAProxy.
    QueueAborted,
    /// The request body is not valid chunked encoding: HAProxy's 400, with
    /// `PH--` once the request went to a server.
    ClientInvalid,
    /// Client body stalled past `timeout client` (`cD--`).
    ClientTimeout,
    /// The process is hard-stopping, or `shutdown sessions server` (`KH--`).
    Killed,
    /// The server was marked DOWN with `on-marked-down shutdown-sessions`
    /// (`DH--`).
    Down,
    /// A backup server's stream ended by an active server's return with
    /// `on-marked-up shutdown-backup-sessions` (`UH--`).
    Up,
}

impl Cause {
    /// The status sent to the client; `None` means send nothing (the client
    /// is gone).
    pub(crate) fn status(self) -> Option<u16> {
        match self {
            Cause::NoBackend => Some(503),
            Cause::NoServer => Some(503),
            Cause::ConnectFailed => Some(503),
            Cause::ConnectTimeout => Some(503),
            Cause::QueueFull => Some(503),
            Cause::QueueTimeout => Some(503),
            Cause::UpstreamClosed => Some(502),
            Cause::UpstreamInvalid => Some(502),
            Cause::UpstreamTimeout => Some(504),
            Cause::ClientAborted => None,
            Cause::ClientGone => None,
            Cause::QueueAborted => None,
            Cause::ClientInvalid => Some(400),
            Cause::ClientTimeout => Some(408),
            Cause::Killed => Some(502),
            Cause::Down => Some(502),
            Cause::Up => Some(502),
        }
    }

    /// The two-character termination state for the log.
    pub(crate) fn term(self) -> [u8; 2] {
        match self {
            Cause::NoBackend => *b"SC",
            Cause::NoServer => *b"SC",
            Cause::ConnectFailed => *b"SC",
            Cause::ConnectTimeout => *b"sC",
            Cause::QueueFull => *b"sQ",
            Cause::QueueTimeout => *b"sQ",
            Cause::UpstreamClosed => *b"SH",
            Cause::UpstreamInvalid => *b"PH",
            Cause::UpstreamTimeout => *b"sH",
            Cause::ClientAborted => *b"CH",
            Cause::ClientGone => *b"CD",
            Cause::QueueAborted => *b"CQ",
            Cause::ClientInvalid => *b"PH",
            Cause::ClientTimeout => *b"cD",
            Cause::Killed => *b"KH",
            Cause::Down => *b"DH",
            Cause::Up => *b"UH",
        }
    }

    /// The stream was killed (hard stop, shutdown sessions, server down).
    pub(crate) fn is_kill(self) -> bool {
        matches!(self, Cause::Killed | Cause::Down | Cause::Up)
    }

    pub(crate) fn killed_by(r: crate::kill::KillReason) -> Cause {
        match r {
            crate::kill::KillReason::Admin => Cause::Killed,
            crate::kill::KillReason::Down => Cause::Down,
            crate::kill::KillReason::Up => Cause::Up,
        }
    }
}
