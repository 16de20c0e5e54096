//! The bytes an HTTP check sends. HAProxy 2.6 (captured):
//! - `option httpchk` → `OPTIONS / HTTP/1.0\r\n\r\n`;
//! - `option httpchk GET /health` → `GET /health HTTP/1.0\r\n\r\n`;
//! - `http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host app.local`
//!   → `GET /healthz HTTP/1.1\r\nhost: app.local\r\nconnection: close\r\n\r\n`:
//!   header names are lowercased, and HTTP/1.1 requests say
//!   `connection: close` (HTTP/1.0 closes by default, so nothing is added).

use switchyard_config::HttpCheck;

/// Build the request for `hc`. `state_header` is the value of
/// `x-haproxy-server-state` when `http-check send-state` is on.
pub fn build_request(hc: &HttpCheck, state_header: Option<&str>) -> Vec<u8> {
    let method = if hc.method.is_empty() {
        "OPTIONS"
    } else {
        hc.method.as_str()
    };
    let uri = if hc.uri.is_empty() {
        "/"
    } else {
        hc.uri.as_str()
    };
    // The old `option httpchk GET / HTTP/1.1\r\nHost:\ x` trick: header
    // lines glued to the version.
    let mut parts = hc.version.split("\r\n");
    let version = parts.next().filter(|v| !v.is_empty()).unwrap_or("HTTP/1.0");
    let mut headers: Vec<(String, String)> = parts
        .filter_map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    headers.extend(hc.headers.iter().cloned());

    let mut out = format!("{method} {uri} {version}\r\n");
    for (name, value) in &headers {
        out.push_str(&name.to_ascii_lowercase());
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    if let Some(st) = state_header {
        out.push_str("x-haproxy-server-state: ");
        out.push_str(st);
        out.push_str("\r\n");
    }
    let body = hc.body.as_deref().unwrap_or("");
    if !body.is_empty() {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    if is_http11(version) {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// HTTP/1.1 or later (`HTTP/1.1`, `HTTP/2`, ...).
fn is_http11(v: &str) -> bool {
    let v = v.as_bytes();
    match v.len() {
        6 => v[5] == b'2',
        8 => v[5] > b'1' || (v[5] == b'1' && v[7] >= b'1'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc(m: &str, u: &str, v: &str, h: &[(&str, &str)]) -> HttpCheck {
        HttpCheck {
            enabled: true,
            method: m.into(),
            uri: u.into(),
            version: v.into(),
            headers: h
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            ..HttpCheck::default()
        }
    }

    fn s(b: Vec<u8>) -> String {
        String::from_utf8(b).unwrap_or_default()
    }

    #[test]
    fn reference_forms() {
        assert_eq!(
            s(build_request(&hc("", "", "", &[]), None)),
            "OPTIONS / HTTP/1.0\r\n\r\n"
        );
        assert_eq!(
            s(build_request(&hc("GET", "/health", "", &[]), None)),
            "GET /health HTTP/1.0\r\n\r\n"
        );
        assert_eq!(
            s(build_request(
                &hc("GET", "/healthz", "HTTP/1.1", &[("Host", "app.local")]),
                None
            )),
            "GET /healthz HTTP/1.1\r\nhost: app.local\r\nconnection: close\r\n\r\n"
        );
        // seed 000: `http-check send meth GET  uri /`
        assert_eq!(
            s(build_request(&hc("GET", "/", "", &[]), None)),
            "GET / HTTP/1.0\r\n\r\n"
        );
        assert_eq!(
            s(build_request(&hc("HEAD", "/health", "HTTP/1.0", &[]), None)),
            "HEAD /health HTTP/1.0\r\n\r\n"
        );
    }

    #[test]
    fn glued_headers_and_body() {
        let r = build_request(&hc("GET", "/", "HTTP/1.1\r\nHost: www", &[]), None);
        assert_eq!(
            s(r),
            "GET / HTTP/1.1\r\nhost: www\r\nconnection: close\r\n\r\n"
        );
        let mut c = hc("POST", "/x", "HTTP/1.1", &[]);
        c.body = Some("ping".into());
        assert_eq!(
            s(build_request(&c, None)),
            "POST /x HTTP/1.1\r\ncontent-length: 4\r\nconnection: close\r\n\r\nping"
        );
    }

    #[test]
    fn versions() {
        assert!(is_http11("HTTP/1.1"));
        assert!(is_http11("HTTP/2"));
        assert!(!is_http11("HTTP/1.0"));
        assert!(!is_http11("junk"));
    }
}
