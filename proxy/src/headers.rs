//! Header handling when forwarding: hop-by-hop removal (RFC 9110 §7.6.1)
//! and `option forwardfor`.

use std::net::IpAddr;

use http::header::{HeaderName, HeaderValue, CONNECTION};
use http::HeaderMap;
use switchyard_config::Proxy;

/// Headers that only concern one connection. `Connection` itself and the
/// headers it names are removed too.
const HOP_BY_HOP: &[&str] = &[
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
];

/// Whether `n` is `Connection` or one of [`HOP_BY_HOP`].
fn is_hop_by_hop(n: &HeaderName) -> bool {
    *n == CONNECTION || HOP_BY_HOP.contains(&n.as_str())
}

/// Remove hop-by-hop headers in place.
pub(crate) fn strip_hop_by_hop(h: &mut HeaderMap) {
    // Most messages carry none: one pass over the names instead of a
    // lookup per hop-by-hop name.
    if !h.keys().any(is_hop_by_hop) {
        return;
    }
    let named: Vec<HeaderName> = h
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
        .collect();
    h.remove(CONNECTION);
    for n in named {
        h.remove(n);
    }
    for n in HOP_BY_HOP {
        h.remove(*n);
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
    // (`from_bytes` lowercases the name itself.)
    let Ok(name) = HeaderName::from_bytes(opt.header.as_bytes()) else {
        return;
    };
    if opt.if_none && h.contains_key(&name) {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(&src.to_string()) {
        h.append(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
