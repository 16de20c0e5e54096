//! Where a Runtime API listens: a UNIX socket path or a TCP `host:port`, written the way
//! HAProxy's `stats socket` line and socat users write them.

use serde::{Serialize, Serializer};
use std::fmt;
use std::path::PathBuf;

/// One proxy's Runtime API endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Unix(PathBuf),
    /// `host` keeps IPv6 brackets off (`::1`); `port` is never 0.
    Tcp {
        host: String,
        port: u16,
    },
}

impl Target {
    /// Accepts `/path/admin.sock`, `unix@/path`, `127.0.0.1:9000`, `ipv4@127.0.0.1:9000`,
    /// `ipv6@[::1]:9000`, `[::1]:9000`, `localhost:9000`, `tcp:host:port`,
    /// `tcp4-connect:host:port` (socat's spelling) and `unix-connect:/path`.
    pub fn parse(text: &str) -> Result<Target, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty --socket value".into());
        }
        if let Some(path) = strip_any(text, &["unix@", "unix-connect:", "unix:"]) {
            return unix(path, text);
        }
        if let Some(rest) = strip_any(
            text,
            &[
                "ipv4@",
                "ipv6@",
                "tcp4-connect:",
                "tcp6-connect:",
                "tcp-connect:",
                "tcp:",
            ],
        ) {
            return tcp(rest).ok_or_else(|| format!("`{text}`: expected host:port"));
        }
        if text.starts_with("abns@") {
            return Err(format!(
                "`{text}`: abstract sockets are not supported, use a path or host:port"
            ));
        }
        if text.contains('/') {
            return unix(text, text);
        }
        tcp(text).ok_or_else(|| {
            format!("`{text}`: not a socket path (needs a `/`) nor host:port (e.g. 127.0.0.1:9000)")
        })
    }
}

fn strip_any<'a>(text: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    prefixes.iter().find_map(|p| text.strip_prefix(p))
}

fn unix(path: &str, whole: &str) -> Result<Target, String> {
    if path.is_empty() {
        return Err(format!("`{whole}`: empty socket path"));
    }
    Ok(Target::Unix(PathBuf::from(path)))
}

fn tcp(text: &str) -> Option<Target> {
    let (host, port) = text.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']')?,
        None if host.contains(':') => return None, // bare IPv6 needs brackets
        None => host,
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    Some(Target::Tcp {
        host: host.to_owned(),
        port,
    })
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Unix(path) => write!(f, "{}", path.display()),
            Target::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Target {
        Target::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parses_haproxy_and_socat_spellings() {
        let cases = [
            ("127.0.0.1:9000", tcp("127.0.0.1", 9000)),
            ("ipv4@127.0.0.1:9000", tcp("127.0.0.1", 9000)),
            ("tcp4-connect:127.0.0.1:9000", tcp("127.0.0.1", 9000)),
            ("ipv6@[::1]:9000", tcp("::1", 9000)),
            ("[::1]:9000", tcp("::1", 9000)),
            ("localhost:9000", tcp("localhost", 9000)),
            (
                "/run/haproxy/admin.sock",
                Target::Unix("/run/haproxy/admin.sock".into()),
            ),
            ("unix@/run/a.sock", Target::Unix("/run/a.sock".into())),
            ("unix-connect:./a.sock", Target::Unix("./a.sock".into())),
        ];
        for (text, want) in cases {
            assert_eq!(Target::parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        for text in [
            "",
            "admin.sock",
            "host",
            "host:0",
            "host:99999",
            "::1:9000",
            "ipv4@nohost",
            "abns@x",
            "unix@",
        ] {
            assert!(Target::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn displays_round_trip() {
        for text in ["127.0.0.1:9000", "[::1]:9000", "/tmp/a.sock"] {
            let target = Target::parse(text).expect("parses");
            assert_eq!(target.to_string(), text);
        }
    }
}
