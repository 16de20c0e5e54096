//! The upstream HTTP/1 client side by side with the real HAProxy 2.6
//! (skipped when it is not installed): a scripted server sends odd but
//! legal, or broken, responses; the same client request goes through each
//! proxy; what the client gets must match once the framing (which each
//! proxy may choose) is decoded.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::{assert_no_differences, haproxy_on, raw, read_request_head, serve_each, Harness};
use switchyard_testkit::{haproxy_available, Proxy};

/// The server's answer for each path: raw bytes, then the connection closes
/// unless the answer says `keep`.
fn script(path: &str) -> (&'static [u8], bool) {
    match path {
        "/interim" => (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
            true,
        ),
        "/until-close" => (
            b"HTTP/1.1 200 OK\r\nx-kind: eof\r\n\r\nthe body ends when the server closes",
            false,
        ),
        "/te-gzip" => (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nraw bytes until close",
            false,
        ),
        "/chunked" => (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nx-trailer: 1\r\n\r\n",
            true,
        ),
        "/reason" => (
            b"HTTP/1.1 299 Quite Fine\r\ncontent-length: 0\r\n\r\n",
            true,
        ),
        "/signed-chunk" => (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n",
            false,
        ),
        "/bad-trailer" => (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nnot a field\r\n\r\n",
            false,
        ),
        // Trailers as a sloppy server writes them: HAProxy lowercases the
        // names and trims the values.
        "/odd-trailers" => (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer:v1\r\nX-Other:   v2  \r\n\r\n",
            true,
        ),
        "/cl-list" => (b"HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\n\r\nok", true),
        "/cl-conflict" => (
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nokk",
            false,
        ),
        "/cl-junk" => (b"HTTP/1.1 200 OK\r\ncontent-length: 2x\r\n\r\nok", false),
        "/no-status" => (b"HTTP/1.1 OK\r\ncontent-length: 2\r\n\r\nok", false),
        "/http10" => (b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", false),
        "/204" => (b"HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n", true),
        "/304" => (
            b"HTTP/1.1 304 Not Modified\r\netag: \"x\"\r\ncontent-length: 10\r\n\r\n",
            true,
        ),
        "/many-headers" => (many_headers(), false),
        "/headers-100" => (n_headers(99), false),
        "/ws-no-accept" => (
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n",
            false,
        ),
        "/headers-101" => (n_headers(100), false),
        "/hop-by-hop" => (
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=5\r\nproxy-connection: x\r\nconnection: x-custom, keep-alive\r\nx-custom: 1\r\nte: trailers\r\ntrailer: x-t\r\nupgrade: h2\r\nproxy-authenticate: Basic\r\n\r\nok",
            true,
        ),
        "/big-head" => (big_head(15500), false),
        "/fitting-head" => (big_head(14000), false),
        "/http10-chunked" => (
            b"HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            false,
        ),
        // A coding besides chunked, or chunked twice: HAProxy's 502, even
        // for HEAD.
        "/te-gzip-chunked" | "/head-bad" => (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            false,
        ),
        "/te-twice" => (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
            false,
        ),
        "/http12" => (b"HTTP/1.2 200 OK\r\ncontent-length: 2\r\n\r\nok", true),
        "/status-2000" => (b"HTTP/1.1 2000 Big\r\ncontent-length: 2\r\n\r\nok", true),
        "/status-spaced" => (b"HTTP/1.1  201 Made\r\ncontent-length: 2\r\n\r\nok", true),
        "/conn-token" => (
            b"HTTP/1.1 200 OK\r\nconnection: x-h\r\ncontent-length: 2\r\nx-h: 1\r\n\r\nok",
            true,
        ),
        "/te-spelt" => (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nx-a: 1\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            true,
        ),
        "/cl-twice" => (
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\ncontent-length: 2\r\n\r\nok",
            true,
        ),
        "/early" => (
            b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbig!",
            false,
        ),
        _ => (b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nyes", true),
    }
}

/// A response head with 150 headers: more than HAProxy's 101.
fn many_headers() -> &'static [u8] {
    let mut v = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n".to_vec();
    for i in 0..150 {
        v.extend_from_slice(format!("x-h{i}: {i}\r\n").as_bytes());
    }
    v.extend_from_slice(b"\r\nok");
    Box::leak(v.into_boxed_slice())
}

/// A response head with `n` fields besides its content-length.
fn n_headers(n: usize) -> &'static [u8] {
    let mut v = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n".to_vec();
    for i in 0..n {
        v.extend_from_slice(format!("x-h{i}: {i}\r\n").as_bytes());
    }
    v.extend_from_slice(b"\r\nok");
    Box::leak(v.into_boxed_slice())
}

/// A response head of about `n` bytes (HAProxy's limit is tune.bufsize
/// less tune.maxrewrite: 15360 by default).
fn big_head(n: usize) -> &'static [u8] {
    let mut v = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-big: ".to_vec();
    v.extend(std::iter::repeat_n(b'a', n));
    v.extend_from_slice(b"\r\n\r\nok");
    Box::leak(v.into_boxed_slice())
}

fn scripted_upstream() -> SocketAddr {
    serve_each(serve)
}

fn serve(s: TcpStream) {
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    while let Some((head, cl)) = read_request_head(&mut r) {
        let path = head.split(' ').nth(1).unwrap_or("/").to_string();
        let (answer, keep) = script(&path);
        if path != "/early" {
            let mut body = vec![0u8; cl as usize];
            if r.read_exact(&mut body).is_err() {
                return;
            }
        }
        if w.write_all(answer).is_err() {
            return;
        }
        if !keep {
            let _ = w.shutdown(Shutdown::Write);
            // Take what the proxy still sends (an unread upload would turn
            // the close into a reset that can destroy the answer).
            let _ = r.get_ref().set_read_timeout(Some(Duration::from_secs(2)));
            let mut sink = [0u8; 65536];
            while matches!(r.read(&mut sink), Ok(n) if n > 0) {}
            return;
        }
    }
}

/// What a client sees, with the framing decoded: status line, headers
/// other than framing ones (lowercased, in order), and the body.
#[derive(Debug, PartialEq)]
struct Seen {
    interim: Vec<String>,
    status: String,
    headers: Vec<String>,
    body: String,
}

fn decode(raw: &[u8]) -> Seen {
    let text = String::from_utf8_lossy(raw).into_owned();
    let mut rest = text.as_str();
    let mut interim = Vec::new();
    loop {
        let Some((head, body)) = rest.split_once("\r\n\r\n") else {
            return Seen {
                interim,
                status: format!("<no head: {rest:?}>"),
                headers: vec![],
                body: String::new(),
            };
        };
        let mut lines = head.lines();
        let status = lines.next().unwrap_or("").to_string();
        if status.split(' ').nth(1).is_some_and(|c| c.starts_with('1')) {
            interim.push(status);
            rest = body;
            continue;
        }
        let mut headers = Vec::new();
        let mut chunked = false;
        for l in lines {
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let k = k.to_ascii_lowercase();
            if k == "transfer-encoding" && v.trim() == "chunked" {
                chunked = true;
            }
            if !matches!(
                k.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            ) {
                headers.push(format!("{k}: {}", v.trim()));
            }
        }
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        return Seen {
            interim,
            status,
            headers,
            body,
        };
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn config(bind: &str, server: SocketAddr) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 2s\n\
         frontend fe\n  bind {bind}\n  default_backend be\n\
         backend be\n  server s1 {server}\n"
    )
}

/// switchyard (in process) and haproxy on the same config in front of
/// `up`; haproxy's address. Both stop when dropped.
fn both(up: SocketAddr) -> (Harness, Proxy, SocketAddr) {
    let sy = Harness::start(&config("@BIND@", up));
    let (ha, ha_addr) = haproxy_on(&config("@BIND@", up));
    (sy, ha, ha_addr)
}

fn request(path: &str) -> Vec<u8> {
    if path == "/early" {
        let body = vec![b'u'; 1 << 20];
        let mut r = format!(
            "POST /early HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(&body);
        return r;
    }
    let method = if path.starts_with("/head") {
        "HEAD"
    } else {
        "GET"
    };
    format!("{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").into_bytes()
}

/// Send the request (in a thread: an early answer may come before the
/// upload is done) and read until the proxy closes.
fn exchange(addr: SocketAddr, path: &str) -> Vec<u8> {
    if path != "/early" {
        return raw(addr, &request(path), Duration::from_secs(4));
    }
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut w = s.try_clone().expect("clone");
    let req = request(path);
    let up = thread::spawn(move || {
        let _ = w.write_all(&req);
    });
    s.set_read_timeout(Some(Duration::from_secs(4)))
        .expect("timeout");
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let _ = up.join();
    out
}

const PATHS: &[&str] = &[
    "/plain",
    "/head",
    "/interim",
    "/until-close",
    "/te-gzip",
    "/chunked",
    "/reason",
    "/cl-list",
    "/cl-conflict",
    "/cl-junk",
    "/no-status",
    "/http10",
    "/204",
    "/304",
    "/many-headers",
    "/headers-100",
    "/headers-101",
    "/hop-by-hop",
    "/ws-no-accept",
    "/big-head",
    "/fitting-head",
    "/http10-chunked",
    "/signed-chunk",
    "/bad-trailer",
    "/te-gzip-chunked",
    "/head-bad",
    "/te-twice",
    "/http12",
    "/status-2000",
    "/status-spaced",
    "/te-spelt",
    "/cl-twice",
    "/early",
];

#[test]
fn server_responses_reach_the_client_as_through_haproxy() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let up = scripted_upstream();
    let (sy, _ha, ha_addr) = both(up);

    let mut diffs = Vec::new();
    for path in PATHS {
        let ours = decode(&exchange(sy.addr(0), path));
        let theirs = decode(&exchange(ha_addr, path));
        if ours != theirs {
            diffs.push(format!(
                "{path}:\n  switchyard {ours:?}\n  haproxy    {theirs:?}"
            ));
        }
    }
    assert_no_differences(&diffs);
}

#[test]
fn kept_alive_client_gets_the_same_bytes_as_from_haproxy() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let up = scripted_upstream();
    let (sy, _ha, ha_addr) = both(up);

    // Pipelined on one keep-alive connection, HTTP/1.1 then HTTP/1.0.
    for version in ["HTTP/1.1", "HTTP/1.0"] {
        let ka = if version == "HTTP/1.0" {
            "connection: keep-alive\r\n"
        } else {
            ""
        };
        let mut req = Vec::new();
        for path in [
            "/http10",
            "/plain",
            "/chunked",
            "/odd-trailers",
            "/204",
            "/interim",
            "/reason",
            "/304",
            "/http12",
            "/status-2000",
            "/conn-token",
            "/te-spelt",
            "/cl-twice",
        ] {
            req.extend_from_slice(
                format!("GET {path} {version}\r\nhost: x\r\n{ka}\r\n").as_bytes(),
            );
        }
        let ours = String::from_utf8_lossy(&raw(sy.addr(0), &req, Duration::from_millis(1500)))
            .into_owned();
        let theirs =
            String::from_utf8_lossy(&raw(ha_addr, &req, Duration::from_millis(1500))).into_owned();
        assert_eq!(ours, theirs, "{version}");
    }
}

/// A server that records each request (head and body) it gets and
/// answers keep-alive.
fn recording_upstream(seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> SocketAddr {
    serve_each(move |s| {
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        while let Some((mut head, cl)) = read_request_head(&mut r) {
            let mut body = vec![0u8; cl as usize];
            if r.read_exact(&mut body).is_err() {
                return;
            }
            head.push_str(&String::from_utf8_lossy(&body));
            if let Ok(mut s) = seen.lock() {
                s.push(head);
            }
            if w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .is_err()
            {
                return;
            }
        }
    })
}

#[test]
fn requests_reach_the_server_as_through_haproxy() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let up = recording_upstream(seen.clone());
    let (sy, _ha, ha_addr) = both(up);
    let requests: &[&[u8]] = &[
        b"GET /a HTTP/1.0\r\nhost: x\r\nuser-agent: t\r\n\r\n",
        b"GET /b HTTP/1.0\r\nhost: x\r\nconnection: keep-alive\r\n\r\n",
        b"GET /c?q=1 HTTP/1.1\r\nhost: x\r\nx-custom: 1\r\n\r\n",
        b"POST /d HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-type: text/plain\r\n\r\nabc",
    ];
    let through = |addr: SocketAddr| {
        if let Ok(mut s) = seen.lock() {
            s.clear();
        }
        for req in requests {
            let out = raw(addr, req, Duration::from_millis(300));
            assert!(
                out.starts_with(b"HTTP/1.1 200"),
                "{:?}",
                String::from_utf8_lossy(&out)
            );
        }
        seen.lock().map(|s| s.clone()).unwrap_or_default()
    };
    let ours = through(sy.addr(0));
    let theirs = through(ha_addr);
    assert_eq!(ours, theirs);
}

/// A server that records, per `x-case` header, the raw bytes of the one
/// request it gets on a connection (up to the end of its body, or until
/// the proxy closes), then answers and closes.
fn raw_recording_upstream(
    seen: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, String>>>,
) -> SocketAddr {
    serve_each(move |mut s| {
        let (key, text) = read_case(&mut s);
        if let Ok(mut m) = seen.lock() {
            m.insert(key, text);
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
    })
}

/// Read one request (up to the end of its body, or until the proxy closes
/// or 3 s pass): its `x-case` value and its raw text.
fn read_case(s: &mut TcpStream) -> (String, String) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !request_complete(&got) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("x-case: "))
        .unwrap_or("?")
        .to_string();
    (key, text)
}

/// Whether `b` holds a whole request: its head, and its body by
/// content-length or up to the end of a chunked body's trailers.
fn request_complete(b: &[u8]) -> bool {
    let Some(h) = b.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&b[..h]).to_ascii_lowercase();
    let body = &b[h + 4..];
    if head.contains("transfer-encoding: chunked") {
        return body.starts_with(b"0\r\n\r\n")
            || (body.windows(5).any(|w| w == b"\r\n0\r\n") && body.ends_with(b"\r\n\r\n"));
    }
    let cl = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    body.len() >= cl
}

/// Send `parts` with a pause between them; what came back until the proxy
/// closed.
fn send_parts(addr: SocketAddr, parts: &[Vec<u8>]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            thread::sleep(Duration::from_millis(300));
        }
        if s.write_all(p).is_err() {
            break;
        }
    }
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn request_bodies_and_trailers_reach_the_server_as_through_haproxy() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    let up = raw_recording_upstream(seen.clone());
    let (sy, _ha, ha_addr) = both(up);
    // (case, request parts): a pause between parts. The first three never
    // reach a server (HAProxy parses what it has before connecting).
    let cases: &[(&str, &[&str])] = &[
        ("signed-size-at-once", &["POST /t HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n"]),
        ("bad-size-at-once", &["POST /t HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n\r\n"]),
        ("bad-trailer-at-once", &["POST /t HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nbogus line\r\n\r\n"]),
        ("trailers", &["POST /t HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer:v1\r\nX-Other:   v2  \r\n\r\n"]),
        ("http10-chunked", &["POST /t HTTP/1.0\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n"]),
        ("http10-chunked-and-length", &["POST /t HTTP/1.0\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"]),
        ("bad-size-later", &["POST /t HTTP/1.1\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n", "zz\r\n\r\n"]),
        ("bad-trailer-later-http10", &["POST /t HTTP/1.0\r\nhost: x\r\nx-case: @\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n", "0\r\nbad line\r\n\r\n"]),
    ];
    let run = |addr: SocketAddr, tag: &str| -> Vec<String> {
        cases
            .iter()
            .map(|(case, parts)| {
                let parts: Vec<Vec<u8>> = parts
                    .iter()
                    .map(|p| p.replace('@', &format!("{case}-{tag}")).into_bytes())
                    .collect();
                format!(
                    "{case}: {}",
                    String::from_utf8_lossy(&send_parts(addr, &parts))
                )
            })
            .collect()
    };
    let ours = run(sy.addr(0), "sy");
    let theirs = run(ha_addr, "ha");
    assert_eq!(ours, theirs, "what the client got");
    // Every request haproxy passed on has reached the server through both.
    let server_saw = |tag: &str| -> Vec<(String, String)> {
        let suffix = format!("-{tag}");
        seen.lock()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let case = k.strip_suffix(&suffix)?;
                        Some((case.to_string(), v.replace(k.as_str(), case)))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    switchyard_testkit::eventually(Duration::from_secs(5), Duration::from_millis(20), || {
        let ha = server_saw("ha");
        ha.len() == cases.len() - 3 && server_saw("sy").len() >= ha.len()
    });
    assert_eq!(server_saw("sy"), server_saw("ha"), "what the server got");
}

/// A server that closes the first connection of each `x-case` without an
/// answer once the request is in (an empty response: an L7 retry), and
/// records the raw bytes of the request on the next.
fn retry_recording_upstream(
    seen: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, String>>>,
) -> SocketAddr {
    serve_each(move |mut s| {
        let (key, text) = read_case(&mut s);
        let Ok(mut m) = seen.lock() else { return };
        if m.insert(format!("{key}-first"), text.clone()).is_none() {
            return;
        }
        m.insert(key, text);
        drop(m);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
    })
}

/// A chunked request body replayed by an L7 retry (`retry-on
/// empty-response`) reaches the server as the client framed it: chunked,
/// under the client's spelling of Transfer-Encoding, as through haproxy.
#[test]
fn an_l7_retry_resends_a_chunked_body_chunked() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    let up = retry_recording_upstream(seen.clone());
    let cfg = |bind: &str| {
        format!(
            "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 2s\n\
             frontend fe\n  bind {bind}\n  default_backend be\n\
             backend be\n  retries 2\n  retry-on empty-response\n  server s1 {up}\n"
        )
    };
    let sy = Harness::start(&cfg("@BIND@"));
    let (_ha, ha_addr) = haproxy_on(&cfg("@BIND@"));

    let cases = [
        ("te-chunked", "POST /t HTTP/1.1\r\nhost: x\r\nx-case: @\r\nconnection: close\r\ntransfer-encoding: Chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
        ("te-empty", "POST /t HTTP/1.1\r\nhost: x\r\nx-case: @\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("cl", "POST /t HTTP/1.1\r\nhost: x\r\nx-case: @\r\nconnection: close\r\ncontent-length: 3\r\n\r\nabc"),
    ];
    let mut diffs = Vec::new();
    for (case, req) in cases {
        let mut got = Vec::new();
        for (tag, addr) in [("sy", sy.addr(0)), ("ha", ha_addr)] {
            let key = format!("{case}-{tag}");
            let client =
                String::from_utf8_lossy(&send_parts(addr, &[req.replace('@', &key).into_bytes()]))
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
            let server = seen
                .lock()
                .map(|m| m.get(&key).cloned().unwrap_or_default())
                .unwrap_or_default()
                .replace(&key, "<case>");
            got.push((client, server));
        }
        if got[0] != got[1] {
            diffs.push(format!(
                "{case}:\n  switchyard {:?}\n  haproxy    {:?}",
                got[0], got[1]
            ));
        }
        assert_eq!(got[1].0, "HTTP/1.1 200 OK", "{case}: haproxy retried");
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
