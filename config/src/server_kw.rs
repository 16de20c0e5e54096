//! The server keywords switchyard knows but does not act on: the ones it
//! ignores (tuning knobs) and the ones it refuses (they would change
//! behaviour). Their arguments are still checked as HAProxy checks them, so
//! a line HAProxy rejects is rejected here with the same words.

use crate::cnum::atoi;
use crate::units::{parse_time, TimeError, TimeUnit};

/// Why a server option failed.
pub(crate) enum KwErr {
    /// A keyword parser's message: printed with a "." appended, as HAProxy's
    /// `display_parser_err` does (so a message ending in "." shows "..").
    Msg(String),
    /// Printed as is (unknown keyword, checks after the options).
    Raw(String),
    /// A `ca-file` that cannot be opened: HAProxy reports it on two lines.
    CaFile(std::path::PathBuf, std::io::Error),
}

pub(crate) fn msg(s: impl Into<String>) -> KwErr {
    KwErr::Msg(s.into())
}

/// Server options accepted and ignored with a warning (connection pooling
/// and TLS tuning knobs); the number is how many values follow.
pub const HARMLESS_SERVER_KEYWORDS: &[(&str, usize)] = &[
    ("no-tfo", 0),
    ("tfo", 0),
    ("non-stick", 0),
    ("stick", 0),
    ("no-tls-tickets", 0),
    ("tls-tickets", 0),
    ("ssl-reuse", 0),
    ("no-ssl-reuse", 0),
    ("no-sslv3", 0),
    ("no-tlsv10", 0),
    ("no-tlsv11", 0),
    ("no-tlsv12", 0),
    ("no-tlsv13", 0),
    ("allow-0rtt", 0),
    ("no-send-proxy-v2", 0),
    ("no-check-send-proxy", 0),
    ("no-send-proxy-v2-ssl", 0),
    ("no-send-proxy-v2-ssl-cn", 0),
    ("pool-purge-delay", 1),
    ("pool-max-conn", 1),
    ("pool-low-conn", 1),
    ("max-reuse", 1),
    ("ws", 1),
    ("ciphers", 1),
    ("ciphersuites", 1),
    ("ssl-min-ver", 1),
    ("ssl-max-ver", 1),
    ("log-proto", 1),
];

/// Options HAProxy 2.6 refuses in `default-server` (its `default_ok` 0):
/// it alerts but goes on, so the line still loads.
pub(crate) const NOT_IN_DEFAULT_SERVER: &[&str] = &[
    "id",
    "no-sslv3",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
];

/// Valid HAProxy server options that would change behaviour and are not
/// implemented.
pub(crate) const UNSUPPORTED: &[&str] = &[
    "check-send-proxy",
    "check-proto",
    "check-alpn",
    "check-via-socks4",
    "crl-file",
    "minconn",
    "namespace",
    "npn",
    "proxy-v2-options",
    "redir",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "socks4",
    "source",
    "usesrc",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
];

/// HAProxy's own complaint about an ignored option's argument, if any.
pub(crate) fn check_harmless(kw: &str, v: &str) -> Result<(), KwErr> {
    let expects_value = || msg(format!("'{kw}' expects <value> as argument."));
    match kw {
        "pool-low-conn" | "max-reuse" if v.is_empty() => Err(expects_value()),
        "pool-max-conn" if v.is_empty() => Err(expects_value()),
        "pool-max-conn" if atoi(v) < -1 => Err(msg(format!("'{kw}' must be >= -1"))),
        "pool-purge-delay" if v.is_empty() => Err(expects_value()),
        "pool-purge-delay" => match parse_time(v, TimeUnit::Ms) {
            Ok(_) => Ok(()),
            Err(TimeError::Overflow) => Err(msg(format!(
                "timer overflow in argument '{v}' to '{kw}' (maximum value is 2147483647 ms or ~24.8 days)"
            ))),
            Err(TimeError::Underflow) => Err(msg(format!(
                "timer underflow in argument '{v}' to '{kw}' (minimum non-null value is 1 ms)"
            ))),
            Err(TimeError::BadChar(c)) => Err(msg(format!(
                "unexpected character '{c}' in argument to <{kw}>."
            ))),
            Err(TimeError::Empty) => Err(expects_value()),
        },
        "ws" if !matches!(v, "h1" | "h2" | "auto") => {
            Err(msg(format!("'{kw}' has to be 'auto', 'h1' or 'h2'")))
        }
        "ciphers" | "ciphersuites" if v.is_empty() => {
            Err(msg(format!("'{kw}' : missing cipher suite")))
        }
        "ssl-min-ver" | "ssl-max-ver" if v.is_empty() => {
            Err(msg(format!("'{kw}' : missing the ssl/tls version")))
        }
        "ssl-min-ver" | "ssl-max-ver"
            if !matches!(v, "SSLv3" | "TLSv1.0" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3") =>
        {
            Err(msg(format!("'{v}' : unknown ssl/tls version")))
        }
        "resolve-net" if v.is_empty() => Err(msg(format!("'{kw}' expects a list of networks."))),
        "resolve-net" => match v.split(',').find(|n| !n.is_empty() && !is_network(n)) {
            Some(bad) => Err(msg(format!("'{kw}' invalid network '{bad}'."))),
            None => Ok(()),
        },
        "resolve-opts" => match v
            .split(',')
            .find(|o| !o.is_empty() && !matches!(*o, "allow-dup-ip" | "ignore-weight" | "prevent-dup-ip"))
        {
            Some(bad) => Err(msg(format!(
                "'{kw}' : unknown resolve-opts option '{bad}', supported methods are 'allow-dup-ip', 'ignore-weight', and 'prevent-dup-ip'."
            ))),
            None => Ok(()),
        },
        "log-proto" if !matches!(v, "legacy" | "octet-count") => Err(msg(format!(
            "'{kw}' expects one of 'legacy' or 'octet-count' but got '{v}'"
        ))),
        _ => Ok(()),
    }
}

/// `addr[/mask]` as `str2net`/`str62net` read it (IPv4 mask may be dotted).
fn is_network(n: &str) -> bool {
    let (ip, mask) = match n.split_once('/') {
        Some((ip, m)) => (ip, Some(m)),
        None => (n, None),
    };
    if let Ok(std::net::IpAddr::V4(_)) = ip.parse() {
        return mask.is_none_or(|m| {
            m.parse::<u8>().is_ok_and(|b| b <= 32) || m.parse::<std::net::Ipv4Addr>().is_ok()
        });
    }
    ip.parse::<std::net::Ipv6Addr>().is_ok()
        && mask.is_none_or(|m| m.parse::<u8>().is_ok_and(|b| b <= 128))
}

/// HAProxy's complaint about a refused option's argument, before ours: a
/// line HAProxy would reject fails with HAProxy's words.
pub(crate) fn check_unsupported(kw: &str, v: &str) -> Result<(), KwErr> {
    let refuse = |m: String| Err(msg(m));
    match kw {
        "usesrc" => refuse("'usesrc' only allowed after a 'source' statement.".into()),
        "redir" if v.is_empty() => refuse(format!("'{kw}' expects <prefix> as argument.")),
        "socks4" if v.is_empty() => refuse(format!("'{kw}' expects <addr>:<port> as argument.")),
        "source" if v.is_empty() => refuse(format!(
            "'{kw}' expects <addr>[:<port>[-<port>]], and optionally 'usesrc' <addr>, and 'interface' <name> as argument."
        )),
        "npn" if v.is_empty() => refuse(format!("'{kw}' : missing the comma-delimited NPN protocol suite")),
        "check-alpn" if v.is_empty() => {
            refuse(format!("'{kw}' : missing the comma-delimited ALPN protocol suite"))
        }
        "crl-file" if v.is_empty() => refuse(format!("'{kw}' : missing CRLfile path")),
        "namespace" if v.is_empty() => refuse(format!("'{kw}' : expects <name> as argument")),
        "check-proto" if v.is_empty() => refuse(format!("'{kw}' : missing value")),
        "check-proto" if !is_mux_proto(v) => {
            refuse(format!("'{kw}' :  unknown MUX protocol '{v}'"))
        }
        "proxy-v2-options" => match v.split(',').find(|o| !is_pp2_option(o)) {
            Some(bad) => refuse(format!("'{bad}' : proxy v2 option not implemented")),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The MUX protocol names HAProxy 2.6 registers for `proto`/`check-proto`.
pub(crate) fn is_mux_proto(v: &str) -> bool {
    matches!(v, "h1" | "h2" | "fcgi" | "none")
}

fn is_pp2_option(o: &str) -> bool {
    matches!(
        o,
        "ssl"
            | "cert-cn"
            | "cert-key"
            | "cert-sig"
            | "ssl-cipher"
            | "authority"
            | "crc32c"
            | "unique-id"
    )
}
