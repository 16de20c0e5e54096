//! What became of one request: a status code, or an error of a known kind. Error
//! messages follow Go's `net/http` wording so the summary reads like hey's.

use serde::Serialize;
use std::fmt;
use std::io;

/// Why a request got no (complete) response. The timeline counts these per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// TCP connect refused (nothing listening).
    Refused,
    /// Other connect failure (unreachable, DNS, ...).
    Connect,
    /// The request did not finish within `-t`.
    Timeout,
    /// Connection reset (or broken pipe) by the peer.
    Reset,
    /// Connection closed before a complete response.
    Eof,
    /// The response was not valid HTTP/1.x.
    Protocol,
    /// Anything else.
    Other,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Refused,
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Eof,
        ErrorKind::Protocol,
        ErrorKind::Other,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Refused => "refused",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Eof => "eof",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where in the exchange an error happened; it picks Go's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Dial,
    Exchange,
    Body,
}

/// A failed request: its kind and a hey-style detail (without the `Get "URL": ` prefix,
/// which the summary adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub detail: String,
}

impl Failure {
    pub fn timeout(phase: Phase) -> Self {
        let detail = match phase {
            Phase::Body => {
                "context deadline exceeded (Client.Timeout or context cancellation while reading body)"
            }
            Phase::Dial | Phase::Exchange => {
                "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            }
        };
        Failure {
            kind: ErrorKind::Timeout,
            detail: detail.to_owned(),
        }
    }

    /// A dial failure: `dial tcp ADDR: connect: connection refused`.
    pub fn dial(addr: &str, err: &io::Error) -> Self {
        let kind = match err.kind() {
            io::ErrorKind::ConnectionRefused => ErrorKind::Refused,
            io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Connect,
        };
        Failure {
            kind,
            detail: format!("dial tcp {addr}: connect: {}", io_text(err)),
        }
    }

    pub fn resolve(host: &str, err: &io::Error) -> Self {
        Failure {
            kind: ErrorKind::Connect,
            detail: format!("dial tcp: lookup {host}: {err}"),
        }
    }

    /// A failure reported by hyper while sending or receiving.
    pub fn from_hyper(err: &hyper::Error, peer: &str, phase: Phase) -> Self {
        if let Some(io) = find_io(err) {
            return Failure::from_io(io, peer, phase);
        }
        if err.is_incomplete_message() {
            let detail = match phase {
                Phase::Body => "unexpected EOF",
                Phase::Dial | Phase::Exchange => "EOF",
            };
            return Failure {
                kind: ErrorKind::Eof,
                detail: detail.to_owned(),
            };
        }
        if err.is_parse() || err.is_parse_status() {
            return Failure {
                kind: ErrorKind::Protocol,
                detail: format!("net/http: HTTP/1.x transport connection broken: {err}"),
            };
        }
        if err.is_timeout() {
            return Failure::timeout(phase);
        }
        if err.is_canceled() || err.is_closed() {
            return Failure {
                kind: ErrorKind::Eof,
                detail: "EOF".to_owned(),
            };
        }
        Failure {
            kind: ErrorKind::Other,
            detail: err.to_string(),
        }
    }

    /// An I/O failure on an established connection.
    pub fn from_io(err: &io::Error, peer: &str, phase: Phase) -> Self {
        let (kind, op) = match err.kind() {
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                (ErrorKind::Reset, "read")
            }
            io::ErrorKind::BrokenPipe => (ErrorKind::Reset, "write"),
            io::ErrorKind::UnexpectedEof => {
                let detail = match phase {
                    Phase::Body => "unexpected EOF",
                    Phase::Dial | Phase::Exchange => "EOF",
                };
                return Failure {
                    kind: ErrorKind::Eof,
                    detail: detail.to_owned(),
                };
            }
            io::ErrorKind::TimedOut => return Failure::timeout(phase),
            _ => (ErrorKind::Other, "read"),
        };
        Failure {
            kind,
            detail: format!("{op} tcp {peer}: {op}: {}", io_text(err)),
        }
    }
}

/// hyper wraps the socket error; the kind we classify by is at the bottom of the chain.
fn find_io(err: &hyper::Error) -> Option<&io::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io);
        }
        source = e.source();
    }
    None
}

/// The OS wording Go prints (`connection refused`), without Rust's ` (os error 111)`.
fn io_text(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset by peer".to_owned(),
        io::ErrorKind::BrokenPipe => "broken pipe".to_owned(),
        io::ErrorKind::ConnectionAborted => "software caused connection abort".to_owned(),
        io::ErrorKind::TimedOut => "connection timed out".to_owned(),
        _ => {
            let text = err.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_lowercase(),
                None => text,
            }
        }
    }
}

/// Go's operation name in client errors: the method with only its first letter upper.
pub fn go_method_op(method: &str) -> String {
    let mut out = String::with_capacity(method.len());
    for (i, c) in method.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_refused_reads_like_go() {
        let err = io::Error::from(io::ErrorKind::ConnectionRefused);
        let f = Failure::dial("127.0.0.1:9", &err);
        assert_eq!(f.kind, ErrorKind::Refused);
        assert_eq!(
            f.detail,
            "dial tcp 127.0.0.1:9: connect: connection refused"
        );
    }

    #[test]
    fn reset_and_eof() {
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        let f = Failure::from_io(&reset, "127.0.0.1:80", Phase::Exchange);
        assert_eq!(f.kind, ErrorKind::Reset);
        assert_eq!(
            f.detail,
            "read tcp 127.0.0.1:80: read: connection reset by peer"
        );
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        let f = Failure::from_io(&eof, "x", Phase::Body);
        assert_eq!(
            (f.kind, f.detail.as_str()),
            (ErrorKind::Eof, "unexpected EOF")
        );
    }

    #[test]
    fn method_op() {
        assert_eq!(go_method_op("GET"), "Get");
        assert_eq!(go_method_op("POST"), "Post");
    }

    #[test]
    fn kinds_are_indexed_in_order() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}
