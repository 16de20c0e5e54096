//! Address syntax shared by `bind`, `stats socket`, `server`, `nameserver`
//! and `log` (HAProxy's `str2sa_range`): optional family prefix (`ipv4@`,
//! `ipv6@`, `unix@`, ...), `/path` for UNIX sockets, `[v6]:port`,
//! `host:port[-end]`, `*:port` and `:port` for "any address".
//!
//! No name is resolved here (config is pure): literal IPs, `*`, and
//! `localhost` (127.0.0.1) are accepted where an address must be known now;
//! a server keeps its host name for the later resolver.

use crate::model::{ListenAddr, ServerAddr};
use crate::units::parse_u32;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Any,
    V4,
    V6,
}

#[derive(Debug, Clone, Copy, Default)]
struct Opts {
    port_mand: bool,
    port_range: bool,
    allow_unix: bool,
    keep_fqdn: bool,
}

#[derive(Debug)]
enum Parsed {
    Unix(PathBuf),
    Ip {
        host: String,
        ip: Option<IpAddr>,
        port: Option<(u16, u16)>,
    },
}

fn parse(text: &str, opts: Opts) -> Result<Parsed, String> {
    if text.is_empty() {
        return Err(format!(
            "'{text}' resolves to an empty address (environment variable missing?)"
        ));
    }
    let prefixes: [(&str, Option<Family>); 12] = [
        ("unix@", None),
        ("uxst@", None),
        ("ipv4@", Some(Family::V4)),
        ("ipv6@", Some(Family::V6)),
        ("tcp4@", Some(Family::V4)),
        ("tcp6@", Some(Family::V6)),
        ("udp4@", Some(Family::V4)),
        ("udp6@", Some(Family::V6)),
        ("tcp@", Some(Family::Any)),
        ("udp@", Some(Family::Any)),
        ("ip@", Some(Family::Any)),
        ("stream+", Some(Family::Any)),
    ];
    let mut rest = text;
    let mut family = Family::Any;
    let mut unix = false;
    for (p, fam) in prefixes {
        if let Some(r) = rest.strip_prefix(p) {
            rest = r;
            match fam {
                Some(f) => family = f,
                None => unix = true,
            }
            break;
        }
    }
    for unsupported in [
        "abns@",
        "fd@",
        "sockpair@",
        "uxdg@",
        "quic4@",
        "quic6@",
        "dgram+",
    ] {
        if rest.starts_with(unsupported) {
            return Err(format!(
                "address family '{unsupported}' in '{text}' is not supported by switchyard"
            ));
        }
    }
    if unix || rest.starts_with('/') {
        if !opts.allow_unix {
            return Err(format!(
                "UNIX socket address not acceptable here in '{text}'"
            ));
        }
        if rest.is_empty() {
            return Err(format!("missing socket path in '{text}'"));
        }
        // sun_path minus room for HAProxy's ".<pid>.tmp" suffix.
        if rest.len() > 97 {
            return Err(format!("socket path '{text}' too long (max 97)"));
        }
        return Ok(Parsed::Unix(PathBuf::from(rest)));
    }

    // The port separator is the last ':' unless a ']' comes after it.
    let (host, port_txt) = match rest.rfind([':', ']']) {
        Some(i) if rest.as_bytes()[i] == b':' => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    let port = match port_txt {
        None | Some("") if opts.port_mand => {
            return Err(format!("missing port specification in '{text}'"));
        }
        None | Some("") => None,
        Some(p) if p.starts_with(['+', '-']) => {
            return Err(format!("port offset not permitted here in '{text}'"));
        }
        Some(p) if p.starts_with(|c: char| c.is_ascii_digit()) => {
            let (lo, hi) = match p.split_once('-') {
                Some(_) if !opts.port_range => {
                    return Err(format!("port range not permitted here in '{text}'"));
                }
                Some((a, b)) => (a, b),
                None => (p, p),
            };
            let lo_n = port_number(lo, opts.port_mand)?;
            let hi_n = port_number(hi, opts.port_mand)?;
            if lo_n > hi_n {
                return Err(format!("invalid port range '{lo_n}-{hi_n}'"));
            }
            Some((lo_n, hi_n))
        }
        Some(p) => {
            let c = p.chars().next().unwrap_or('?');
            return Err(format!(
                "invalid character '{c}' in port number '{p}' in '{text}'"
            ));
        }
    };

    let ip = literal_ip(host, family);
    match ip {
        Some(ip) => Ok(Parsed::Ip {
            host: host.to_string(),
            ip: Some(ip),
            port,
        }),
        None if host == "localhost" && family != Family::V6 => Ok(Parsed::Ip {
            host: host.to_string(),
            ip: if opts.keep_fqdn {
                None
            } else {
                Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
            },
            port,
        }),
        None if opts.keep_fqdn && valid_hostname(host) => Ok(Parsed::Ip {
            host: host.to_string(),
            ip: None,
            port,
        }),
        None => Err(format!("invalid address: '{host}' in '{text}'")),
    }
}

fn port_number(p: &str, mandatory: bool) -> Result<u16, String> {
    // HAProxy reads the digits with atoi(), so "80x" is 80; we are stricter.
    match parse_u32(p) {
        Some(n) if n <= 65535 && (n > 0 || !mandatory) => Ok(n as u16),
        _ => Err(format!("invalid port '{p}'")),
    }
}

/// `str2ip2` without resolution: `*`/empty is "any", `::` is IPv6 any,
/// `[v6]` brackets are stripped.
fn literal_ip(host: &str, family: Family) -> Option<IpAddr> {
    let inner = match host.strip_prefix('[') {
        Some(h) => h.strip_suffix(']')?,
        None => host,
    };
    if inner == "::" {
        return (family != Family::V4).then_some(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    }
    if inner.is_empty() || inner == "*" {
        return Some(match family {
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        });
    }
    if family != Family::V4 {
        if let Ok(v6) = inner.parse::<Ipv6Addr>() {
            return Some(IpAddr::V6(v6));
        }
    }
    if family != Family::V6 {
        if let Ok(v4) = inner.parse::<Ipv4Addr>() {
            return Some(IpAddr::V4(v4));
        }
    }
    None
}

fn valid_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
}

/// `bind` address list: comma-separated, each with a mandatory port or port
/// range; every port of every range becomes one address.
pub(crate) fn bind_addrs(text: &str) -> Result<Vec<ListenAddr>, String> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let opts = Opts {
            port_mand: true,
            port_range: true,
            allow_unix: true,
            keep_fqdn: false,
        };
        match parse(part, opts)? {
            Parsed::Unix(p) => out.push(ListenAddr::Unix(p)),
            Parsed::Ip { ip, port, .. } => {
                let (Some(ip), Some((lo, hi))) = (ip, port) else {
                    return Err(format!("missing port specification in '{part}'"));
                };
                if usize::from(hi - lo) >= 1024 {
                    return Err(format!("port range '{lo}-{hi}' in '{part}' is too large"));
                }
                for p in lo..=hi {
                    out.push(ListenAddr::Tcp(SocketAddr::new(ip, p)));
                }
            }
        }
    }
    Ok(out)
}

/// One listening address (`stats socket`): a UNIX path or `ip:port`.
pub(crate) fn listen_addr(text: &str) -> Result<ListenAddr, String> {
    let opts = Opts {
        port_mand: true,
        port_range: false,
        allow_unix: true,
        keep_fqdn: false,
    };
    match parse(text, opts)? {
        Parsed::Unix(p) => Ok(ListenAddr::Unix(p)),
        Parsed::Ip { ip, port, .. } => match (ip, port) {
            (Some(ip), Some((p, _))) => Ok(ListenAddr::Tcp(SocketAddr::new(ip, p))),
            _ => Err(format!("missing port specification in '{text}'")),
        },
    }
}

/// A server address: host name or literal IP, optional port.
pub(crate) fn server_addr(text: &str) -> Result<ServerAddr, String> {
    let opts = Opts {
        port_mand: false,
        port_range: false,
        allow_unix: false,
        keep_fqdn: true,
    };
    match parse(text, opts)? {
        Parsed::Unix(_) => Err(format!(
            "UNIX socket servers are not supported by switchyard ('{text}')"
        )),
        Parsed::Ip { host, ip, port } => {
            if ip.is_some_and(|ip| ip.is_unspecified()) && port.is_none() && host.is_empty() {
                return Err(format!("invalid address: '{text}'"));
            }
            // HAProxy resolves a name starting with '_' as a DNS SRV record;
            // refused rather than asked as A/AAAA, which would never answer.
            if ip.is_none() && host.starts_with('_') {
                return Err(format!(
                    "SRV record names are not supported by switchyard ('{text}'); name the service's A/AAAA records instead"
                ));
            }
            Ok(ServerAddr {
                host,
                ip,
                port: port.map(|(p, _)| p).filter(|p| *p != 0),
            })
        }
    }
}

/// `ip:port` (nameserver: port mandatory) or `ip[:port]` (log: default port).
pub(crate) fn socket_addr(text: &str, default_port: Option<u16>) -> Result<SocketAddr, String> {
    let opts = Opts {
        port_mand: default_port.is_none(),
        port_range: false,
        allow_unix: false,
        keep_fqdn: false,
    };
    match parse(text, opts)? {
        Parsed::Unix(_) => Err(format!(
            "UNIX socket address not acceptable here in '{text}'"
        )),
        Parsed::Ip { ip, port, .. } => {
            let ip = ip.ok_or_else(|| format!("invalid address: '{text}'"))?;
            let port = port.map(|(p, _)| p).or(default_port).unwrap_or(0);
            Ok(SocketAddr::new(ip, port))
        }
    }
}

/// `unix@/path` or `/path` for log targets.
pub(crate) fn unix_path(text: &str) -> Option<PathBuf> {
    let rest = text.strip_prefix("unix@").unwrap_or(text);
    (text.starts_with("unix@") || rest.starts_with('/')).then(|| PathBuf::from(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(s: &str) -> ListenAddr {
        ListenAddr::Tcp(s.parse().expect("addr"))
    }

    #[test]
    fn bind_forms() {
        assert_eq!(bind_addrs("*:8785"), Ok(vec![tcp("0.0.0.0:8785")]));
        assert_eq!(bind_addrs(":80"), Ok(vec![tcp("0.0.0.0:80")]));
        assert_eq!(
            bind_addrs("127.0.0.1:8080"),
            Ok(vec![tcp("127.0.0.1:8080")])
        );
        assert_eq!(
            bind_addrs("ipv4@127.0.0.1:9000"),
            Ok(vec![tcp("127.0.0.1:9000")])
        );
        assert_eq!(bind_addrs("ipv6@:80"), Ok(vec![tcp("[::]:80")]));
        assert_eq!(bind_addrs("[::]:80"), Ok(vec![tcp("[::]:80")]));
        assert_eq!(bind_addrs(":::80"), Ok(vec![tcp("[::]:80")]));
        assert_eq!(bind_addrs("[::1]:81"), Ok(vec![tcp("[::1]:81")]));
        assert_eq!(
            bind_addrs("127.0.0.1:8000-8001,127.0.0.1:8002"),
            Ok(vec![
                tcp("127.0.0.1:8000"),
                tcp("127.0.0.1:8001"),
                tcp("127.0.0.1:8002")
            ])
        );
        assert_eq!(
            bind_addrs("unix@/tmp/x.sock"),
            Ok(vec![ListenAddr::Unix("/tmp/x.sock".into())])
        );
        assert_eq!(
            bind_addrs("/tmp/y.sock"),
            Ok(vec![ListenAddr::Unix("/tmp/y.sock".into())])
        );
        assert!(bind_addrs("127.0.0.1").is_err());
        assert!(bind_addrs("foo.example:80").is_err());
        assert!(bind_addrs("127.0.0.1:99999").is_err());
        assert!(bind_addrs("127.0.0.1:0").is_err());
        assert!(bind_addrs("").is_err());
        assert!(bind_addrs("abns@x").is_err());
    }

    #[test]
    fn server_forms() {
        let s = server_addr("localhost:3000").expect("s");
        assert_eq!(
            (s.host.as_str(), s.ip, s.port),
            ("localhost", None, Some(3000))
        );
        let s = server_addr("10.0.0.1:8080").expect("s");
        assert_eq!(s.ip, Some("10.0.0.1".parse().expect("ip")));
        let s = server_addr("[::1]:80").expect("s");
        assert_eq!((s.host.as_str(), s.port), ("[::1]", Some(80)));
        assert_eq!(s.ip, Some("::1".parse().expect("ip")));
        let s = server_addr("10.0.0.1").expect("s");
        assert_eq!(s.port, None);
        assert!(server_addr("10.0.0.1:+1").is_err());
        assert!(server_addr("bad host:80").is_err());
    }

    #[test]
    fn socket_forms() {
        assert_eq!(
            socket_addr("127.0.0.53:53", None),
            Ok("127.0.0.53:53".parse().expect("a"))
        );
        assert!(socket_addr("127.0.0.1", None).is_err());
        assert_eq!(
            socket_addr("127.0.0.1", Some(514)),
            Ok("127.0.0.1:514".parse().expect("a"))
        );
        assert!(socket_addr("notanaddr:53", None).is_err());
    }
}
