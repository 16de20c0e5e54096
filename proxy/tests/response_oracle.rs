//! Random server responses, side by side with the real HAProxy 2.6
//! (skipped when it is not installed): a scripted server answers each
//! case with a response made of the pieces `upstream_oracle` tests one at
//! a time (status lines, interim responses, framing and hop-by-hop
//! headers, bodies, closing or not); a random client request (method,
//! version, keep-alive, a pipelined probe) goes through each proxy; the
//! bytes the client gets must be the same. The same random responses go
//! to an HTTP/2 client too (curl on a `proto h2` bind). Seeded;
//! `scripts/long.sh` runs more from a time seed (SWITCHYARD_FUZZ_ITERS).

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
        let close = rng.gen_bool(0.7);
        let req = request(&mut rng);
        let got = through_both(
            &script,
            [sy.addr(0), ha_addr],
            &format!("/r{i}"),
            &answer,
            close,
            |addr, path| {
                let out = raw(
                    addr,
                    req.replace('@', path).as_bytes(),
                    Duration::from_secs(3),
                );
                String::from_utf8_lossy(&out).into_owned()
            },
        );
        if got[0] != got[1] {
            diffs.push(difference(i, &answer, close, &format!("{req:?}"), got));
        }
    }
    assert_no_differences(&diffs);
}

/// `answer` scripted (then closing or not) on a path of its own for each
/// proxy (`<path>-sy`, `<path>-ha`) and fetched through each by `fetch`:
/// `[switchyard, haproxy]`, with the lines of `answer`'s repeated names
/// grouped.
fn through_both(
    script: &Script,
    addrs: [SocketAddr; 2],
    path: &str,
    answer: &[u8],
    close: bool,
    fetch: impl Fn(SocketAddr, &str) -> String,
) -> [String; 2] {
    let repeated = repeated_names(&String::from_utf8_lossy(answer));
    let [sy, ha] = addrs;
    [(sy, "sy"), (ha, "ha")].map(|(addr, tag)| {
        let path = format!("{path}-{tag}");
        if let Ok(mut m) = script.lock() {
            m.insert(path.clone(), (answer.to_vec(), close));
        }
        group_same_names(&fetch(addr, &path), &repeated)
    })
}

/// One case's difference: the server's answer, the client, and what each
/// proxy gave (`[switchyard, haproxy]`).
fn difference(i: usize, answer: &[u8], close: bool, client: &str, got: [String; 2]) -> String {
    let [ours, theirs] = got;
    format!(
        "#{i} server {:?} (then {}), client {client}:\n  switchyard {ours:?}\n  haproxy    {theirs:?}",
        String::from_utf8_lossy(answer),
        if close { "closes" } else { "keeps" },
    )
}

/// The same random responses to an HTTP/2 client (curl, prior knowledge,
/// on a `proto h2` bind): what curl shows (interim and final heads, body,
/// exit code) must be the same through both proxies.
#[test]
fn random_server_responses_reach_http2_clients_as_through_haproxy() {
    let script: Script = Arc::new(Mutex::new(HashMap::new()));
    let up = scripted_upstream(script.clone());
    let cfg = config("@BIND@ proto h2", up);
    let sy = Harness::start(&cfg);
    let (_ha, ha_addr) = haproxy_on(&cfg);

    let (iters, seed) = switchyard_testkit::fuzz_iters_and_seed(40, 12);
    eprintln!("random responses over HTTP/2: {iters} from seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut diffs = Vec::new();
    for i in 0..iters {
        let answer = response(&mut rng);
        let close = rng.gen_bool(0.7);
        let method = ["GET", "GET", "HEAD", "POST"][rng.gen_range(0..4)];
        let got = through_both(
            &script,
            [sy.addr(0), ha_addr],
            &format!("/h{i}"),
            &answer,
            close,
            |addr, path| curl_h2(addr, method, path),
        );
        if got[0] != got[1] && !known_h2_difference(&answer, &got[0], &got[1]) {
            diffs.push(difference(i, &answer, close, method, got));
        }
    }
    assert_no_differences(&diffs);
}

/// Known differences, on purpose; only such a response may differ, and
/// only so:
/// - when the server's body breaks after its head (a chunked body cut
///   short or garbled, a close-delimited one the server neither ends nor
///   closes within `timeout server`), HAProxy 2.6.12 ends the client's
///   HTTP/2 stream as if the body were complete (END_STREAM: curl exits
///   0); switchyard resets it (RST_STREAM: curl's 92), as both do for a
///   body shorter than its length, so the client knows;
/// - a 204 with a content-length: HAProxy passes the length on, which an
///   HTTP/2 client refuses as malformed (RFC 9113 §8.1.1; curl's 92);
///   switchyard drops it.
fn known_h2_difference(answer: &[u8], ours: &str, theirs: &str) -> bool {
    let text = String::from_utf8_lossy(answer).to_ascii_lowercase();
    // The final head starts at the last status line (bodies hold none).
    let at = text.rfind("http/1.").unwrap_or(0);
    let Some(len) = text[at..].find("\r\n\r\n") else {
        return false;
    };
    let (head, body) = (&text[at..at + len], &text[at + len + 4..]);
    let reset = |out: &str| out.ends_with("exit Some(92)");
    let clean = |out: &str| out.ends_with("exit Some(0)");
    if head.contains(" 204 ") && head.contains("content-length") {
        return clean(ours) && reset(theirs);
    }
    let broken = if head.contains("transfer-encoding: chunked") {
        !BODIES
            .iter()
            .filter(|b| b.contains("0\r\n"))
            .any(|b| b.to_ascii_lowercase() == body && !b.contains("abcd"))
    } else {
        !head.contains("content-length")
    };
    broken && reset(ours) && clean(theirs)
}

/// curl over cleartext HTTP/2: the heads and body it shows, then its exit
/// code.
fn curl_h2(addr: SocketAddr, method: &str, path: &str) -> String {
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-si", "--http2-prior-knowledge", "-m", "4"]);
    match method {
        "HEAD" => cmd.arg("-I"),
        "POST" => cmd.args(["--data-binary", "xyz", "-H", "content-type:"]),
        _ => &mut cmd,
    };
    let out = cmd
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("curl");
    format!(
        "{}\nexit {:?}",
        String::from_utf8_lossy(&out.stdout),
        out.status.code()
    )
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
