//! Random server responses, side by side with the real HAProxy 2.6
//! (skipped when it is not installed): a scripted server answers each
//! case with a response made of the pieces `upstream_oracle` tests one at
//! a time (status lines, interim responses, framing and hop-by-hop
//! headers, bodies, closing or not); a random client request (method,
//! version, keep-alive, a pipelined probe) goes through each proxy; the
//! bytes the client gets must be the same. Seeded; `scripts/long.sh` runs
//! more from a time seed (SWITCHYARD_FUZZ_ITERS).

mod common;

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    assert_no_differences, group_same_names, haproxy_on, raw, read_request_head, repeated_names,
    serve_each, Harness,
};
use rand::{Rng, SeedableRng};
use switchyard_testkit::haproxy_available;

/// Per request path: the server's answer and whether it then closes.
type Script = Arc<Mutex<HashMap<String, (Vec<u8>, bool)>>>;

/// Answers each request by its path from `script`; `/next` (the probe)
/// gets a fixed small answer; anything else a 404. An answer that closes
/// closes once the connection has been idle for 100 ms: a close at once,
/// racing the proxy's end of the response, makes haproxy close the client
/// connection or not at random.
fn scripted_upstream(script: Script) -> SocketAddr {
    serve_each(move |s| {
        let Ok(mut w) = s.try_clone() else { return };
        let mut r = BufReader::new(s);
        let mut closing = false;
        while let Some((head, cl)) = read_request_head(&mut r) {
            let mut body = vec![0u8; cl as usize];
            if r.read_exact(&mut body).is_err() {
                return;
            }
            let path = head.split(' ').nth(1).unwrap_or("/");
            let (answer, close) = match path {
                "/next" => (
                    b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nnext".to_vec(),
                    false,
                ),
                _ => script
                    .lock()
                    .ok()
                    .and_then(|m| m.get(path).cloned())
                    .unwrap_or_else(|| (b"HTTP/1.1 404 Not Found\r\n\r\n".to_vec(), true)),
            };
            if w.write_all(&answer).is_err() {
                return;
            }
            if close && !closing {
                closing = true;
                let _ = r
                    .get_ref()
                    .set_read_timeout(Some(Duration::from_millis(100)));
            }
        }
        if closing {
            let _ = w.shutdown(Shutdown::Write);
            // Take what the proxy still sends, so the close is a FIN,
            // not a reset that could destroy the answer.
            let _ = r.get_ref().set_read_timeout(Some(Duration::from_secs(2)));
            let mut sink = [0u8; 4096];
            while matches!(r.read(&mut sink), Ok(n) if n > 0) {}
        }
    })
}

fn config(bind: &str, server: SocketAddr) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 2s\n  timeout server 1s\n\
         frontend fe\n  bind {bind}\n  default_backend be\n\
         backend be\n  server s1 {server}\n"
    )
}

const STATUS: &[&str] = &[
    "HTTP/1.1 200 OK",
    "HTTP/1.1 200 OK",
    "HTTP/1.0 200 OK",
    "HTTP/1.1 204 No Content",
    "HTTP/1.1 304 Not Modified",
    "HTTP/1.1 404 Not Found",
    "HTTP/1.1 503 Service Unavailable",
    "HTTP/1.1 299 Quite Fine",
    "HTTP/1.1 200",
    "HTTP/1.1 206 Partial Content",
    "HTTP/1.2 200 OK",
    "HTTP/1.1 2000 OK",
    "HTTP/1.1  200 OK",
];

const INTERIM: &[&str] = &[
    "",
    "",
    "",
    "HTTP/1.1 100 Continue\r\n\r\n",
    "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n",
];

const HEADERS: &[&str] = &[
    "content-length: 3",
    "content-length: 3",
    "content-length: 0",
    "content-length: 3, 3",
    "content-length: 5",
    "transfer-encoding: chunked",
    "transfer-encoding: chunked",
    "transfer-encoding: gzip, chunked",
    "transfer-encoding: gzip",
    "transfer-encoding: Chunked",
    "connection: close",
    "connection: keep-alive",
    "connection: x-h",
    "connection: upgrade",
    "connection: close, x-h",
    "x-h: 1",
    "keep-alive: timeout=5",
    "proxy-connection: x",
    "te: trailers",
    "trailer: x-t",
    "upgrade: h2",
    "set-cookie: a=b",
    "x-a: 1",
    "x-a: 2",
    "x-b:1",
    "x-c:",
    "x-d: 1\r\n folded",
    "server: up",
    "X-Mixed-Case: V",
    "x-e: a\tb",
    "x-f : 1",
    "x-g:   padded   ",
    "content-length: +3",
    "transfer-encoding: chunked, chunked",
];

const BODIES: &[&str] = &[
    "",
    "abc",
    "abc",
    "abcde",
    "3\r\nabc\r\n0\r\n\r\n",
    "3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n",
    "0\r\n\r\n",
    "3;ext=1\r\nabc\r\n0\r\n\r\n",
    "03\r\nabc\r\n0\r\nX-T:v\r\n\r\n",
    "3\r\nabcd\r\n0\r\n\r\n",
];

const REQUEST_LINES: &[&str] = &[
    "GET @ HTTP/1.1",
    "GET @ HTTP/1.1",
    "HEAD @ HTTP/1.1",
    "GET @ HTTP/1.0",
    "POST @ HTTP/1.1",
];

/// The final response after an interim one: a status with a body, and
/// framing that matches the body (see
/// `an_interim_response_does_not_hide_a_truncated_body`).
const AFTER_INTERIM: &[(&str, &str, &str)] = &[
    ("HTTP/1.1 200 OK", "content-length: 3", "abc"),
    (
        "HTTP/1.1 206 Partial Content",
        "transfer-encoding: chunked",
        "3\r\nabc\r\n0\r\n\r\n",
    ),
    ("HTTP/1.1 404 Not Found", "content-length: 0", ""),
    ("HTTP/1.0 200 OK", "x-framing: none", "abc"),
];

/// One random server response.
fn response(rng: &mut impl Rng) -> Vec<u8> {
    let interim = INTERIM[rng.gen_range(0..INTERIM.len())];
    let mut heads: Vec<&str> = (0..rng.gen_range(0..5))
        .map(|_| HEADERS[rng.gen_range(0..HEADERS.len())])
        .collect();
    let (status, body) = if interim.is_empty() {
        (
            STATUS[rng.gen_range(0..STATUS.len())],
            BODIES[rng.gen_range(0..BODIES.len())],
        )
    } else {
        let (status, framing, body) = AFTER_INTERIM[rng.gen_range(0..AFTER_INTERIM.len())];
        heads.retain(|h| !h.starts_with("content-length") && !h.starts_with("transfer-encoding"));
        heads.insert(rng.gen_range(0..=heads.len()), framing);
        (status, body)
    };
    let mut head = format!("{interim}{status}\r\n");
    for h in heads {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.push_str(body);
    head.into_bytes()
}

/// One random client request for `@`, followed on the same connection by
/// the `/next` probe, which tells whether, and how, the connection went on
/// after the response (and which closes it, so no case waits for a
/// timeout unless the server's framing leaves the proxy waiting).
fn request(rng: &mut impl Rng) -> String {
    let line = REQUEST_LINES[rng.gen_range(0..REQUEST_LINES.len())];
    let mut req = format!("{line}\r\nhost: x\r\n");
    match rng.gen_range(0..3) {
        0 => req.push_str("connection: close\r\n"),
        1 => req.push_str("connection: keep-alive\r\n"),
        _ => {}
    }
    if line.starts_with("POST") {
        req.push_str("content-length: 3\r\n\r\nxyz");
    } else {
        req.push_str("\r\n");
    }
    req.push_str("GET /next HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    req
}

#[test]
fn random_server_responses_reach_the_client_as_through_haproxy() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let script: Script = Arc::new(Mutex::new(HashMap::new()));
    let up = scripted_upstream(script.clone());
    let sy = Harness::start(&config("@BIND@", up));
    let (_ha, ha_addr) = haproxy_on(&config("@BIND@", up));

    let (iters, seed) = switchyard_testkit::fuzz_iters_and_seed(60, 11);
    eprintln!("random responses: {iters} from seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut diffs = Vec::new();
    for i in 0..iters {
        let answer = response(&mut rng);
        let repeated = repeated_names(&String::from_utf8_lossy(&answer));
        let close = rng.gen_bool(0.7);
        let req = request(&mut rng);
        let mut got = [(sy.addr(0), "sy"), (ha_addr, "ha")].map(|(addr, tag)| {
            let path = format!("/r{i}-{tag}");
            if let Ok(mut m) = script.lock() {
                m.insert(path.clone(), (answer.clone(), close));
            }
            let out = raw(
                addr,
                req.replace('@', &path).as_bytes(),
                Duration::from_secs(3),
            );
            group_same_names(&String::from_utf8_lossy(&out), &repeated)
        });
        if got[0] != got[1] {
            let [ours, theirs] = std::mem::take(&mut got);
            diffs.push(format!(
                "#{i} server {:?} (then {}), client {req:?}:\n  switchyard {ours:?}\n  haproxy    {theirs:?}",
                String::from_utf8_lossy(&answer),
                if close { "closes" } else { "keeps" },
            ));
        }
    }
    assert_no_differences(&diffs);
}

/// A known difference, on purpose: after an interim response, HAProxy
/// 2.6.12 takes a body cut short by the server (fewer bytes than its
/// length, or a chunked body without its last chunk) as complete — it
/// ends the chunked body with `0` itself, logs `----` and serves the next
/// request on the client connection, which a length-delimited body has
/// left out of step. switchyard closes the client connection, as both do
/// without the interim response.
#[test]
fn an_interim_response_does_not_hide_a_truncated_body() {
    let script: Script = Arc::new(Mutex::new(HashMap::new()));
    let up = scripted_upstream(script.clone());
    let sy = Harness::start(&config("@BIND@", up));
    for (path, answer, shown) in [
        (
            "/short",
            &b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nabc"[..],
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nabc",
        ),
        (
            "/unended",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n",
        ),
    ] {
        if let Ok(mut m) = script.lock() {
            m.insert(path.to_string(), (answer.to_vec(), true));
        }
        let req = format!(
            "GET {path} HTTP/1.1\r\nhost: x\r\n\r\nGET /next HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        );
        let got = String::from_utf8_lossy(&raw(sy.addr(0), req.as_bytes(), Duration::from_secs(3)))
            .into_owned();
        assert!(got.ends_with(shown), "{path}: {got:?}");
        assert!(!got.contains("next"), "{path}: served the probe: {got:?}");
    }
}
