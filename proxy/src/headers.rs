//! Header handling when forwarding: the `Connection` header as HAProxy
//! 2.6's H1 layer rewrites it, and `option forwardfor`.

use std::net::IpAddr;

use http::header::{HeaderName, HeaderValue, CONNECTION, TE, TRANSFER_ENCODING};
use http::HeaderMap;
use switchyard_config::Proxy;

/// What HAProxy 2.6 does to a forwarded message's headers: the `close`
/// and `keep-alive` tokens leave `Connection` (which goes when no token is
/// left), `TE` keeps only its `trailers` token, and `Transfer-Encoding`
/// goes because the framing is written anew, except that a chunked body
/// going on chunked (`keep_coding`) keeps its first `Transfer-Encoding`
/// where it was, as the client spelt it. Every other header, hop-by-hop or not, goes on: checked against
/// haproxy 2.6, `keep-alive`, `proxy-connection`, `te`, `trailer`,
/// `upgrade` and headers that `Connection` names all reach the other side
/// (proxy/tests/request_oracle.rs, upstream_oracle.rs).
pub(crate) fn connection_header(h: &mut HeaderMap, keep_coding: bool) {
    // One pass over the names: most messages carry neither, or only
    // `Connection: keep-alive`.
    let (mut conn, mut coding, mut te) = (false, false, false);
    for k in h.keys() {
        conn |= *k == CONNECTION;
        coding |= *k == TRANSFER_ENCODING;
        te |= *k == TE;
    }
    if coding {
        match h.get(TRANSFER_ENCODING).cloned() {
            Some(first) if keep_coding => {
                h.insert(TRANSFER_ENCODING, first);
            }
            _ => remove_ordered(h, &TRANSFER_ENCODING),
        }
    }
    if te {
        te_trailers_only(h);
    }
    if !conn {
        return;
    }
    // The usual case (nginx answers `Connection: keep-alive`): one value
    // that is just the token to drop.
    let mut all = h.get_all(CONNECTION).iter();
    if let (Some(v), None) = (all.next(), all.next()) {
        if crate::h1::close_or_keep_alive(v.as_bytes()).is_some() {
            remove_ordered(h, &CONNECTION);
            return;
        }
    }
    // Each line loses its own `close`/`keep-alive` tokens, and goes when
    // none is left; the others stay lines of their own, as in HAProxy.
    let mut dropped = false;
    let mut lines: Vec<HeaderValue> = Vec::new();
    for v in h.get_all(CONNECTION) {
        let Ok(s) = v.to_str() else {
            dropped = true;
            continue;
        };
        let mut kept: Vec<&str> = Vec::new();
        for t in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if t.eq_ignore_ascii_case("close") || t.eq_ignore_ascii_case("keep-alive") {
                dropped = true;
            } else {
                kept.push(t);
            }
        }
        if kept.len() == s.split(',').count() {
            lines.push(v.clone());
        } else if let Ok(v) = HeaderValue::from_str(&kept.join(", ")) {
            if !kept.is_empty() {
                lines.push(v);
            }
        }
    }
    if dropped {
        replace_all(h, &CONNECTION, lines);
    }
}

/// Whether one of the comma-separated tokens of `v` is `token` (any case).
pub(crate) fn value_has_token(v: &HeaderValue, token: &str) -> bool {
    v.to_str()
        .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// Whether a `name` line holds `token`.
pub(crate) fn has_token(h: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    h.get_all(name).iter().any(|v| value_has_token(v, token))
}

/// Give `name` these values, in the place of its first line (none: the
/// header goes).
pub(crate) fn replace_all(h: &mut HeaderMap, name: &HeaderName, values: Vec<HeaderValue>) {
    let mut values = values.into_iter();
    let Some(first) = values.next() else {
        remove_ordered(h, name);
        return;
    };
    h.insert(name.clone(), first);
    for v in values {
        h.append(name.clone(), v);
    }
}

/// `HeaderMap::remove` keeping the other headers in their order, as HAProxy
/// keeps them: the map's own `remove` moves its last header into the freed
/// slot. Removing the last header moves nothing, so the headers after
/// `name` (usually few: `Connection` comes late) are taken off the end,
/// then put back.
pub(crate) fn remove_ordered(h: &mut HeaderMap, name: &HeaderName) {
    let Some(pos) = h.keys().position(|k| k == name) else {
        return;
    };
    let after: Vec<HeaderName> = h.keys().skip(pos + 1).cloned().collect();
    let mut tail: Vec<(HeaderName, Vec<HeaderValue>)> = Vec::with_capacity(after.len());
    for k in after.into_iter().rev() {
        if let http::header::Entry::Occupied(e) = h.entry(k) {
            let (k, values) = e.remove_entry_mult();
            tail.push((k, values.collect()));
        }
    }
    h.remove(name);
    for (k, values) in tail.into_iter().rev() {
        for v in values {
            h.append(k.clone(), v);
        }
    }
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// An address as a header value. IPv4 by hand, on the stack: its
/// `Display` goes through the formatter's padding machinery (about 1,300
/// instructions a request), and a `String` would be a second allocation.
fn ip_value(ip: IpAddr) -> Option<HeaderValue> {
    let IpAddr::V4(v4) = ip else {
        return HeaderValue::from_str(&ip.to_string()).ok();
    };
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (i, o) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + o / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    HeaderValue::from_bytes(&buf[..n]).ok()
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
    if let Some(v) = ip_value(src) {
        h.append(name, v);
    }
}

/// HAProxy forwards each `TE` line that names `trailers` as `TE: trailers`
/// and drops the others.
fn te_trailers_only(h: &mut HeaderMap) {
    let lines: Vec<HeaderValue> = h
        .get_all(TE)
        .iter()
        .filter(|v| value_has_token(v, "trailers"))
        .map(|_| HeaderValue::from_static("trailers"))
        .collect();
    replace_all(h, &TE, lines);
}

/// A header map of these lines, in order (for tests).
#[cfg(test)]
pub(crate) fn header_map(lines: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in lines {
        h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    h
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ip_value_matches_display() {
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
            assert_eq!(ip_value(ip).unwrap().to_str().unwrap(), ip.to_string());
        }
    }

    fn conn(h: &HeaderMap) -> Vec<&str> {
        h.get_all(CONNECTION)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn removal_keeps_the_order_of_the_others() {
        let mut h = header_map(&[
            ("a", "1"),
            ("connection", "close"),
            ("b", "2"),
            ("a", "3"),
            ("c", "4"),
        ]);
        remove_ordered(&mut h, &CONNECTION);
        let got: Vec<String> = h
            .iter()
            .map(|(k, v)| format!("{k}={}", v.to_str().unwrap()))
            .collect();
        assert_eq!(got, ["a=1", "a=3", "b=2", "c=4"]);
        remove_ordered(&mut h, &HeaderName::from_static("c"));
        assert_eq!(h.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn hop_by_hop_headers_go_on() {
        let mut h = HeaderMap::new();
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("proxy-connection", HeaderValue::from_static("keep-alive"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        connection_header(&mut h, false);
        assert_eq!(h.len(), 3);
        assert!(!h.contains_key("transfer-encoding"));

        let mut h = HeaderMap::new();
        h.insert("te", HeaderValue::from_static("gzip"));
        connection_header(&mut h, false);
        assert!(h.is_empty());
    }

    #[test]
    fn connection_loses_close_and_keep_alive_only() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("keep-alive, X-Foo"));
        h.insert("x-foo", HeaderValue::from_static("1"));
        connection_header(&mut h, false);
        assert_eq!(conn(&h), ["X-Foo"]);
        assert!(h.contains_key("x-foo"));

        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("Keep-Alive"));
        connection_header(&mut h, false);
        assert!(!h.contains_key("connection"));

        let mut h = HeaderMap::new();
        h.append("connection", HeaderValue::from_static("upgrade"));
        h.append("connection", HeaderValue::from_static("close"));
        connection_header(&mut h, false);
        assert_eq!(conn(&h), ["upgrade"]);

        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("Upgrade, HTTP2-Settings"),
        );
        connection_header(&mut h, false);
        assert_eq!(conn(&h), ["Upgrade, HTTP2-Settings"]);
    }
}
