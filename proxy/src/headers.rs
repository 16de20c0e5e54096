//! Header handling when forwarding: hop-by-hop removal (RFC 9110 §7.6.1)
//! and `option forwardfor`.

use std::net::IpAddr;

use http::header::{
    HeaderName, HeaderValue, CONNECTION, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, TE, TRAILER,
    TRANSFER_ENCODING, UPGRADE,
};
use http::HeaderMap;
use switchyard_config::Proxy;

/// Headers that only concern one connection. `Connection` itself and the
/// headers it names are removed too.
/// Names, not strings: a lookup by string parses the name every time.
static HOP_BY_HOP: [HeaderName; 8] = [
    HeaderName::from_static("keep-alive"),
    TE,
    TRAILER,
    TRANSFER_ENCODING,
    UPGRADE,
    HeaderName::from_static("proxy-connection"),
    PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
];

/// Position of `n` in [`HOP_BY_HOP`], by its text: one `match` instead of
/// comparing with each name.
fn hop_by_hop_index(n: &str) -> Option<usize> {
    Some(match n {
        "keep-alive" => 0,
        "te" => 1,
        "trailer" => 2,
        "transfer-encoding" => 3,
        "upgrade" => 4,
        "proxy-connection" => 5,
        "proxy-authenticate" => 6,
        "proxy-authorization" => 7,
        _ => return None,
    })
}

/// Bit for `Connection` itself in the presence mask.
const CONNECTION_BIT: u16 = 1 << HOP_BY_HOP.len();

/// Remove hop-by-hop headers in place.
pub(crate) fn strip_hop_by_hop(h: &mut HeaderMap) {
    // One pass over the names finds which are present (most messages carry
    // only `Connection`, if any); only those are removed.
    let mut present = 0u16;
    for k in h.keys() {
        if *k == CONNECTION {
            present |= CONNECTION_BIT;
        } else if let Some(i) = hop_by_hop_index(k.as_str()) {
            present |= 1 << i;
        }
    }
    if present == 0 {
        return;
    }
    if present & CONNECTION_BIT != 0 {
        // Other headers `Connection` names go too; the fixed ones are
        // removed below anyway (`Connection: keep-alive`). No allocation
        // unless it names another.
        let mut named: Vec<HeaderName> = Vec::new();
        for v in h.get_all(CONNECTION) {
            let Ok(s) = v.to_str() else { continue };
            for t in s.split(',').map(str::trim) {
                let fixed = HOP_BY_HOP
                    .iter()
                    .any(|n| n.as_str().eq_ignore_ascii_case(t));
                if t.is_empty() || fixed {
                    continue;
                }
                if let Ok(n) = HeaderName::from_bytes(t.as_bytes()) {
                    named.push(n);
                }
            }
        }
        h.remove(CONNECTION);
        for n in named {
            h.remove(n);
        }
    }
    for (i, n) in HOP_BY_HOP.iter().enumerate() {
        if present & (1 << i) != 0 {
            h.remove(n);
        }
    }
}

/// The `Upgrade` value of an HTTP/1.1 protocol-upgrade request (a
/// `Connection: upgrade` token and an `Upgrade` header), if it is one.
pub(crate) fn upgrade_request(
    h: &HeaderMap,
    method: &http::Method,
    version: http::Version,
) -> Option<HeaderValue> {
    if version != http::Version::HTTP_11 || method != http::Method::GET {
        return None;
    }
    let tokened = h
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    if !tokened {
        return None;
    }
    h.get(http::header::UPGRADE).cloned()
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// An address as text. IPv4 by hand: its `Display` goes through the
/// formatter's padding machinery (about 1,300 instructions a request).
fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut s = String::with_capacity(15);
    for (i, o) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        if o >= 100 {
            s.push(char::from(b'0' + o / 100));
        }
        if o >= 10 {
            s.push(char::from(b'0' + o / 10 % 10));
        }
        s.push(char::from(b'0' + o % 10));
    }
    s
}

/// Apply `option forwardfor` from the frontend and/or backend: append a new
/// header with the client address at the end (an existing one is kept),
/// unless the client is in an `except` network or `if-none` finds one.
/// The backend's header name wins over the frontend's.
pub(crate) fn forwarded_for(h: &mut HeaderMap, fe: &Proxy, be: &Proxy, src: IpAddr) {
    let (fo, bo) = (
        fe.options.forwardfor.as_ref(),
        be.options.forwardfor.as_ref(),
    );
    if fo.is_none() && bo.is_none() {
        return;
    }
    let src_n = match src {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    for o in [fo, bo].into_iter().flatten() {
        if o.except.map(|n| n.contains(src_n)).unwrap_or(false) {
            return;
        }
    }
    let Some(opt) = bo.or(fo) else { return };
    // The usual name needs no parsing; `from_bytes` lowercases any other.
    let name = if opt.header.eq_ignore_ascii_case(X_FORWARDED_FOR.as_str()) {
        X_FORWARDED_FOR.clone()
    } else {
        let Ok(n) = HeaderName::from_bytes(opt.header.as_bytes()) else {
            return;
        };
        n
    };
    if opt.if_none && h.contains_key(&name) {
        return;
    }
    if let Ok(v) = HeaderValue::try_from(ip_text(src)) {
        h.append(name, v);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ip_text_matches_display() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.20.30.40",
            "255.255.255.255",
            "100.9.99.199",
            "::1",
            "2001:db8::8a2e:370:7334",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    /// The name match and the name table are two lists: keep them in step.
    #[test]
    fn hop_by_hop_index_matches_the_table() {
        for (i, n) in HOP_BY_HOP.iter().enumerate() {
            assert_eq!(hop_by_hop_index(n.as_str()), Some(i), "{n}");
        }
        assert_eq!(hop_by_hop_index("connection"), None);
        assert_eq!(hop_by_hop_index("x-keep"), None);
    }

    #[test]
    fn strips_fixed_names_without_connection() {
        let mut h = HeaderMap::new();
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("proxy-connection", HeaderValue::from_static("keep-alive"));
        h.insert("x-keep", HeaderValue::from_static("y"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-keep"));
    }

    #[test]
    fn strips_connection_named_headers() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("keep-alive, X-Foo"));
        h.insert("x-foo", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("5"));
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("x-keep", HeaderValue::from_static("y"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-keep"));
    }
}
