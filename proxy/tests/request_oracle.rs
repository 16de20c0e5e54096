//! Hostile and malformed client requests, side by side with the real
//! HAProxy 2.6 (skipped when it is not installed). Each case is sent on a
//! fresh connection, followed by a pipelined `GET /next` (a smuggling
//! probe: whether the second request is served, and as what, tells how
//! the proxy framed the first). What the client gets back and what the
//! server receives must be the same through both proxies.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    assert_no_differences, group_same_names, haproxy_on, repeated_names, serve_each, Harness,
};
use switchyard_testkit::haproxy_available;

type Seen = Arc<Mutex<BTreeMap<String, Vec<String>>>>;

/// A server that answers every request it can frame with `200` and the
/// request's path as the body, and records, per `x-case` value, each
/// request as it arrived (head and raw body).
fn recording_upstream(seen: Seen) -> SocketAddr {
    serve_each(move |mut s| {
        let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
        let mut got: Vec<u8> = Vec::new();
        let mut buf = [0u8; 16384];
        loop {
            while let Some(n) = request_len(&got) {
                let req: Vec<u8> = got.drain(..n).collect();
                let text = String::from_utf8_lossy(&req).into_owned();
                let case = text
                    .lines()
                    .find_map(|l| l.strip_prefix("x-case: "))
                    .unwrap_or("?")
                    .to_string();
                let path = text.split(' ').nth(1).unwrap_or("?").to_string();
                if let Ok(mut m) = seen.lock() {
                    m.entry(case).or_default().push(text);
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{path}",
                    path.len()
                );
                if s.write_all(answer.as_bytes()).is_err() {
                    return;
                }
            }
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
}

/// The length of the first whole request in `b` (head plus its body by
/// content-length, or through a chunked body's end), if it is all there.
fn request_len(b: &[u8]) -> Option<usize> {
    let h = b.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&b[..h]).to_ascii_lowercase();
    if head.contains("transfer-encoding: chunked") {
        let body = &b[h..];
        if body.starts_with(b"0\r\n\r\n") {
            return Some(h + 5);
        }
        let end = body.windows(5).position(|w| w == b"\r\n0\r\n")?;
        let rest = &body[end + 5..];
        let t = rest.windows(4).position(|w| w == b"\r\n\r\n");
        return match t {
            _ if rest.starts_with(b"\r\n") => Some(h + end + 7),
            Some(t) => Some(h + end + 5 + t + 4),
            None => None,
        };
    }
    let cl = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (b.len() >= h + cl).then_some(h + cl)
}

/// Send `req` then, on the same connection, the `/next` probe; read until
/// the proxy closes, for at most `wait`.
fn send(addr: SocketAddr, req: &[u8], case: &str, wait: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut all = req.to_vec();
    all.extend_from_slice(
        format!("GET /next HTTP/1.1\r\nhost: x\r\nx-case: {case}\r\nconnection: close\r\n\r\n")
            .as_bytes(),
    );
    let _ = s.write_all(&all);
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    out
}

/// The status line and body of each response in `raw`, in order; the
/// proxies' own headers (date, cache-control of error pages...) are left
/// out, their framing decoded by content-length.
fn responses(raw: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        let Some(h) = rest.windows(4).position(|w| w == b"\r\n\r\n") else {
            out.push(format!("<partial {:?}>", String::from_utf8_lossy(rest)));
            break;
        };
        let head = String::from_utf8_lossy(&rest[..h]).into_owned();
        let status = head.lines().next().unwrap_or("").to_string();
        let cl = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let body_end = (h + 4 + cl).min(rest.len());
        let body = String::from_utf8_lossy(&rest[h + 4..body_end]).into_owned();
        out.push(format!("{status} | {}", body.replace("\r\n", "\\r\\n")));
        rest = &rest[body_end..];
    }
    out
}

/// (case, request bytes): `@` in a request stands for the case's tag.
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut v: Vec<(&'static str, Vec<u8>)> = vec![
        ("plain", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        // Framing conflicts (request smuggling).
        ("cl-and-te", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_vec()),
        ("te-and-cl", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n0\r\n\r\n".to_vec()),
        ("two-cl-differ", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: 3\r\ncontent-length: 5\r\n\r\nabcde".to_vec()),
        ("two-cl-same", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\nabc".to_vec()),
        ("cl-list", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: 3, 3\r\n\r\nabc".to_vec()),
        ("cl-list-differ", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: 3, 4\r\n\r\nabcd".to_vec()),
        ("cl-plus", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: +3\r\n\r\nabc".to_vec()),
        ("cl-negative", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: -1\r\n\r\n".to_vec()),
        ("cl-hex", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: 0x3\r\n\r\nabc".to_vec()),
        ("cl-space-inside", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: 1 2\r\n\r\nabcdefghijkl".to_vec()),
        ("cl-huge", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: 99999999999999999999999\r\n\r\n".to_vec()),
        ("cl-empty", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length:\r\n\r\n".to_vec()),
        ("te-gzip-chunked", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n".to_vec()),
        ("te-chunked-gzip", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked, gzip\r\n\r\n0\r\n\r\n".to_vec()),
        ("te-identity", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: identity\r\ncontent-length: 3\r\n\r\nabc".to_vec()),
        ("te-twice", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_vec()),
        ("te-case", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: ChUnKeD\r\n\r\n0\r\n\r\n".to_vec()),
        ("te-space-before-colon", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding : chunked\r\n\r\n0\r\n\r\n".to_vec()),
        ("te-http10", b"POST /a HTTP/1.0\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_vec()),
        ("te-tab-value", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding:\tchunked\r\n\r\n0\r\n\r\n".to_vec()),
        ("chunk-size-overflow", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n".to_vec()),
        ("chunk-bare-lf", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\n3\nabc\n0\n\n".to_vec()),
        // Head syntax.
        ("space-before-colon", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nx-a : 1\r\n\r\n".to_vec()),
        ("obs-fold", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nx-a: 1\r\n  continued\r\n\r\n".to_vec()),
        ("bare-lf-head", b"GET /a HTTP/1.1\nhost: x\nx-case: @\n\n".to_vec()),
        ("nul-in-value", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nx-a: a\0b\r\n\r\n".to_vec()),
        ("ctl-in-value", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nx-a: a\x01b\r\n\r\n".to_vec()),
        ("del-in-value", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nx-a: a\x7fb\r\n\r\n".to_vec()),
        ("high-bytes-in-value", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nx-a: caf\xc3\xa9\r\n\r\n".to_vec()),
        ("bad-name-char", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nx(a): 1\r\n\r\n".to_vec()),
        ("empty-name", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\n: 1\r\n\r\n".to_vec()),
        ("no-colon", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nno colon here\r\n\r\n".to_vec()),
        ("leading-space-first-header", b"GET /a HTTP/1.1\r\n host: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("no-host-http11", b"GET /a HTTP/1.1\r\nx-case: @\r\n\r\n".to_vec()),
        ("two-hosts", b"GET /a HTTP/1.1\r\nhost: x\r\nhost: y\r\nx-case: @\r\n\r\n".to_vec()),
        ("absolute-form", b"GET http://example.com/a?q=1 HTTP/1.1\r\nhost: example.com\r\nx-case: @\r\n\r\n".to_vec()),
        ("absolute-form-host-differs", b"GET http://example.com/a HTTP/1.1\r\nhost: other\r\nx-case: @\r\n\r\n".to_vec()),
        ("asterisk-get", b"GET * HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("options-asterisk", b"OPTIONS * HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("connect-method", b"CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\nx-case: @\r\n\r\n".to_vec()),
        ("lowercase-method", b"get /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("odd-method", b"PURGE /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("bad-method-char", b"GE(T /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("space-in-uri", b"GET /a b HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("two-spaces", b"GET  /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("http09", b"GET /a\r\n\r\n".to_vec()),
        ("http20-line", b"GET /a HTTP/2.0\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("http12-line", b"GET /a HTTP/1.2\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("lowercase-version", b"GET /a http/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        // Not quite HTTP/2's preface: an HTTP/1 request (400). The real
        // preface switches to HTTP/2, compared with haproxy in http2.rs.
        ("h2-bad-preface", b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".to_vec()),
        ("leading-crlf", b"\r\n\r\nGET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("uri-fragment", b"GET /a#frag HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("uri-ctl", b"GET /a\x01b HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("uri-high-bytes", b"GET /caf\xc3\xa9 HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("connection-close-te", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nconnection: close, transfer-encoding\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_vec()),
        ("expect-other", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nexpect: something\r\ncontent-length: 1\r\n\r\nz".to_vec()),
        ("upgrade-h2c", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nconnection: upgrade, http2-settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQAAP__\r\n\r\n".to_vec()),
        // Hop-by-hop and message-control headers.
        ("conn-lists-custom", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nconnection: x-custom\r\nx-custom: 1\r\n\r\n".to_vec()),
        ("conn-keep-alive-token", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nconnection: keep-alive, x-custom\r\nx-custom: 1\r\nkeep-alive: timeout=5\r\n\r\n".to_vec()),
        ("keep-alive-header", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nkeep-alive: timeout=5\r\n\r\n".to_vec()),
        ("proxy-connection", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nproxy-connection: keep-alive\r\n\r\n".to_vec()),
        ("te-trailers", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nte: trailers\r\n\r\n".to_vec()),
        ("te-gzip-header", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nte: gzip\r\n\r\n".to_vec()),
        ("websocket-no-key", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nconnection: Upgrade\r\nupgrade: WebSocket, foo\r\n\r\n".to_vec()),
        ("websocket-key", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nconnection: keep-alive, Upgrade\r\nupgrade: websocket\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".to_vec()),
        ("websocket-http10-no-key", b"GET /a HTTP/1.0\r\nhost: x\r\nx-case: @\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n".to_vec()),
        ("upgrade-without-conn", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nupgrade: websocket\r\n\r\n".to_vec()),
        ("trailer-header", b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntrailer: x-t\r\n\r\n".to_vec()),
        ("expect-100", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nexpect: 100-continue\r\ncontent-length: 1\r\n\r\nz".to_vec()),
        ("two-hosts-same", b"GET /a HTTP/1.1\r\nhost: x\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("cl-leading-zeros", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: 003\r\n\r\nabc".to_vec()),
        ("uri-bad-percent", b"GET /a%zz HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("uri-backslash", b"GET /a\\b HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("uri-braces", b"GET /a{b}|c HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("uri-quote-lt", b"GET /a\"b<c> HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("uri-caret-backtick", b"GET /a^b`c HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n".to_vec()),
        ("authority-form-get", b"GET example.com:80 HTTP/1.1\r\nhost: example.com\r\nx-case: @\r\n\r\n".to_vec()),
        ("host-with-port", b"GET /a HTTP/1.1\r\nhost: x:80\r\nx-case: @\r\n\r\n".to_vec()),
        ("empty-host", b"GET /a HTTP/1.1\r\nhost:\r\nx-case: @\r\n\r\n".to_vec()),
        ("http10-no-host", b"GET /a HTTP/1.0\r\nx-case: @\r\n\r\n".to_vec()),
        // Found by the random requests below, each checked against haproxy.
        ("http10-get-body", b"GET /a HTTP/1.0\r\nx-case: @\r\ncontent-length: 3\r\n\r\nabc".to_vec()),
        ("http10-delete-chunked", b"DELETE /a HTTP/1.0\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_vec()),
        ("http10-head-cl0", b"HEAD /a HTTP/1.0\r\nx-case: @\r\ncontent-length: 0\r\n\r\n".to_vec()),
        ("te-keeps-its-place", b"POST /a HTTP/1.1\r\ntransfer-encoding: chunked\r\nx-case: @\r\nhost: x\r\n\r\n0\r\n\r\n".to_vec()),
        ("te-with-bad-cl", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\ncontent-length: abc\r\n\r\n0\r\n\r\n".to_vec()),
        ("te-with-cl-differ", b"POST /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\ncontent-length: 0\r\n\r\n0\r\n\r\n".to_vec()),
        ("websocket-no-key-with-body", b"PUT /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\nupgrade: websocket\r\nconnection: upgrade\r\ncontent-length: 3\r\n\r\nabc".to_vec()),
        ("http10-conn-upgrade", b"POST /a HTTP/1.0\r\nx-case: @\r\nconnection: upgrade\r\ncontent-length: 3\r\n\r\nabc".to_vec()),
        ("conn-removed-keeps-order", b"GET /a HTTP/1.1\r\nconnection: keep-alive\r\nx-case: @\r\ncookie: a=b\r\nhost: x\r\n\r\n".to_vec()),
        ("conn-lines-stay-lines", b"POST /a HTTP/1.0\r\nconnection: x-h\r\nconnection: x-h, close\r\nx-case: @\r\ncontent-length: 3\r\n\r\nabc".to_vec()),
    ];
    // Sizes: 101 headers is HAProxy's limit (global.tune.http.maxhdr).
    for (name, n) in [
        ("headers-100", 97usize),
        ("headers-101", 98),
        ("headers-102", 99),
    ] {
        let mut r = b"GET /a HTTP/1.1\r\nhost: x\r\nx-case: @\r\n".to_vec();
        for i in 0..n {
            r.extend_from_slice(format!("x-h{i}: {i}\r\n").as_bytes());
        }
        r.extend_from_slice(b"\r\n");
        v.push((name, r));
    }
    for (name, n) in [("uri-15000", 15000usize), ("uri-16500", 16500)] {
        let mut r = format!(
            "GET /{} HTTP/1.1\r\nhost: x\r\nx-case: @\r\n\r\n",
            "u".repeat(n)
        )
        .into_bytes();
        r.shrink_to_fit();
        v.push((name, r));
    }
    v
}

/// Where switchyard knowingly answers otherwise: the case, the status
/// lines switchyard gives (pinned, so a change shows), and why.
const KNOWN: &[(&str, &[&str], &str)] = &[
    (
        "nul-in-value",
        &["HTTP/1.1 400 Bad request"],
        "http::HeaderValue cannot hold control bytes; refused rather than forwarded",
    ),
    (
        "ctl-in-value",
        &["HTTP/1.1 400 Bad request"],
        "as nul-in-value",
    ),
    (
        "del-in-value",
        &["HTTP/1.1 400 Bad request"],
        "as nul-in-value",
    ),
    (
        "connect-method",
        &["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"],
        "haproxy rewrites a CONNECT's Host to its authority and closes the server \
         connection after it; CONNECT through a reverse proxy is not supported",
    ),
];

fn config(bind: &str, server: SocketAddr) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 2s\n  timeout server 2s\n\
         frontend fe\n  bind {bind}\n  default_backend be\n\
         backend be\n  server s1 {server}\n"
    )
}

/// What the client got (status lines and bodies) and what the server
/// received (requests, with the case's tag as `<case>`), through one proxy.
type Outcome = (Vec<String>, Vec<String>);

/// switchyard and haproxy on the same config before one recording server.
struct Lab {
    seen: Seen,
    sy: Harness,
    ha: (switchyard_testkit::Proxy, SocketAddr),
}

impl Lab {
    /// `None` (and a note) when haproxy is not installed.
    fn start() -> Option<Lab> {
        if !haproxy_available() {
            eprintln!("haproxy not installed: skipped");
            return None;
        }
        let seen: Seen = Arc::new(Mutex::new(BTreeMap::new()));
        let up = recording_upstream(seen.clone());
        let sy = Harness::start(&config("@BIND@", up));
        let ha = haproxy_on(&config("@BIND@", up));
        Some(Lab { seen, sy, ha })
    }

    /// `req` (`@` standing for the tag `<case>-sy` or `<case>-ha`) through
    /// switchyard, then through haproxy.
    fn both(&self, case: &str, req: &[u8], wait: Duration) -> [Outcome; 2] {
        [("sy", self.sy.addr(0)), ("ha", self.ha.1)].map(|(tag, addr)| {
            let key = format!("{case}-{tag}");
            let bytes = replace_at(req, key.as_bytes());
            let client = responses(&send(addr, &bytes, &key, wait));
            let server = self
                .seen
                .lock()
                .map(|m| m.get(&key).cloned().unwrap_or_default())
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.replace(&key, "<case>"))
                .collect();
            (client, server)
        })
    }
}

/// One difference, for the failure message.
fn describe(label: &str, got: &[Outcome; 2]) -> String {
    format!(
        "{label}:\n  switchyard client {:?}\n  haproxy    client {:?}\n  switchyard server {:?}\n  haproxy    server {:?}",
        got[0].0, got[1].0, got[0].1, got[1].1
    )
}

#[test]
fn hostile_requests_get_haproxys_answers() {
    let Some(lab) = Lab::start() else { return };
    let mut diffs = Vec::new();
    for (case, req) in cases() {
        let got = lab.both(case, &req, Duration::from_secs(3));
        if let Some((_, pinned, why)) = KNOWN.iter().find(|k| k.0 == case) {
            let ours: Vec<&str> = got[0]
                .0
                .iter()
                .map(|r| r.split(" | ").next().unwrap_or(""))
                .collect();
            if ours != *pinned {
                diffs.push(format!(
                    "{case} (known difference: {why}): switchyard now answers {:?}, pinned {pinned:?}",
                    got[0].0
                ));
            }
            continue;
        }
        if got[0] != got[1] {
            diffs.push(describe(case, &got));
        }
    }
    drop(lab);
    assert_no_differences(&diffs);
}

/// `req` with each `@` replaced by `with` (byte-wise: some cases are not
/// valid UTF-8).
fn replace_at(req: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(req.len() + with.len());
    for &b in req {
        if b == b'@' {
            out.extend_from_slice(with);
        } else {
            out.push(b);
        }
    }
    out
}

/// Random requests made of the pieces the cases above test one at a time
/// (request lines, framing and hop-by-hop headers, bodies), so that their
/// combinations are compared with haproxy too. Seeded; `scripts/long.sh`
/// runs more from a time seed (SWITCHYARD_FUZZ_ITERS).
#[test]
fn random_requests_get_haproxys_answers() {
    use rand::{Rng, SeedableRng};
    let Some(lab) = Lab::start() else { return };
    const LINES: &[&str] = &[
        "GET /a HTTP/1.1",
        "POST /a HTTP/1.1",
        "POST /a HTTP/1.0",
        "PUT /a?q=1 HTTP/1.1",
        "GET http://example.com/a HTTP/1.1",
        "OPTIONS * HTTP/1.1",
        "GET /a HTTP/1.2",
        "HEAD /a HTTP/1.1",
        "DELETE /a HTTP/1.0",
        "GET /a b HTTP/1.1",
    ];
    const HEADERS: &[&str] = &[
        "host: x",
        "host: y",
        "host:",
        "host: example.com",
        "content-length: 3",
        "content-length: 0",
        "content-length: 3, 3",
        "content-length: 5",
        "content-length: 3",
        "transfer-encoding: chunked",
        "transfer-encoding: gzip, chunked",
        "transfer-encoding: identity",
        "transfer-encoding: chunked",
        "connection: close",
        "connection: keep-alive",
        "connection: upgrade",
        "connection: x-h",
        "x-h: 1",
        "upgrade: websocket",
        "te: trailers",
        "proxy-connection: keep-alive",
        "keep-alive: timeout=5",
        "x-a : 1",
        "x-a: 1\r\n  folded",
        "trailer: x-t",
        "cookie: a=b",
        "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==",
    ];
    const BODIES: &[&str] = &[
        "",
        "",
        "abc",
        "0\r\n\r\n",
        "3\r\nabc\r\n0\r\n\r\n",
        "3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n",
    ];
    let (iters, seed) = switchyard_testkit::fuzz_iters_and_seed(40, 5);
    eprintln!("random requests: {iters} from seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut diffs = Vec::new();
    for i in 0..iters {
        let mut heads: Vec<&str> = (0..rng.gen_range(0..5))
            .map(|_| HEADERS[rng.gen_range(0..HEADERS.len())])
            .collect();
        heads.insert(rng.gen_range(0..=heads.len()), "x-case: @");
        let req = format!(
            "{}\r\n{}\r\n\r\n{}",
            LINES[rng.gen_range(0..LINES.len())],
            heads.join("\r\n"),
            BODIES[rng.gen_range(0..BODIES.len())]
        );
        let repeated = repeated_names(&heads.join("\r\n"));
        let mut got = lab.both(&format!("r{i}"), req.as_bytes(), Duration::from_secs(1));
        for (_, server) in &mut got {
            for r in server.iter_mut() {
                *r = group_same_names(r, &repeated);
            }
        }
        if got[0] != got[1] {
            diffs.push(describe(&format!("#{i} {req:?}"), &got));
        }
    }
    drop(lab);
    assert_no_differences(&diffs);
}
