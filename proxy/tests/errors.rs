//! HAProxy 2.6's error responses, byte for byte (reference §4.4, §7).

mod common;

use std::time::{Duration, Instant};

use common::{raw, Harness};
use switchyard_testkit::{free_port, Behavior, FakeUpstream};

const P503: &str = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
const P502: &str = "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n";
const P504: &str = "HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n";
const P408: &str = "HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
const P400: &str = "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";

const GET: &[u8] = b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n";

fn cfg(server: &str, extra_be: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 200ms\n  timeout client 5s\n  timeout server 500ms\n  timeout http-request 300ms\n\
         frontend fe\n  bind @BIND@\n  use_backend nothing if {{ path /none }}\n  default_backend be\n\
         backend nothing\n\
         backend be\n{extra_be}  server s1 {server}\n"
    )
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn no_backend_is_503() {
    let h = Harness::start(
        "defaults\n  mode http\n  timeout client 5s\n  timeout http-request 300ms\nfrontend fe\n  bind @BIND@\n",
    );
    // The keep-alive connection stays open after a 503: the page is exactly
    // HAProxy's, without a connection header.
    assert_eq!(text(raw(h.addr(0), GET, Duration::from_millis(200))), P503);
}

#[test]
fn backend_without_servers_is_503() {
    let h = Harness::start(&cfg("127.0.0.1:1 disabled", ""));
    assert_eq!(
        text(raw(
            h.addr(0),
            b"GET /none HTTP/1.1\r\nHost: x\r\n\r\n",
            Duration::from_millis(200)
        )),
        P503
    );
    assert_eq!(text(raw(h.addr(0), GET, Duration::from_millis(200))), P503);
}

#[test]
fn nothing_listening_is_503_after_retries() {
    let port = free_port();
    let h = Harness::start(&cfg(&format!("127.0.0.1:{port}"), "  retries 2\n"));
    let t = Instant::now();
    assert_eq!(text(raw(h.addr(0), GET, Duration::from_secs(3))), P503);
    // Two retries on the same server, each after min(timeout connect, 1s).
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    let snap = h.store.load();
    let (p, s) = snap.find_server("be", "s1").expect("server");
    let srv = snap.server(p, s).expect("server");
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(srv.live.counters.econ.load(Relaxed), 1);
    assert_eq!(srv.live.counters.wretr.load(Relaxed), 2);
}

#[test]
fn upstream_closing_mid_header_is_502() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::CloseMidHeader)
        .start()
        .expect("up");
    let h = Harness::start(&cfg(&up.addr().to_string(), ""));
    assert_eq!(text(raw(h.addr(0), GET, Duration::from_millis(400))), P502);
}

#[test]
fn junk_from_upstream_is_502() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Junk)
        .start()
        .expect("up");
    let h = Harness::start(&cfg(&up.addr().to_string(), ""));
    assert_eq!(text(raw(h.addr(0), GET, Duration::from_millis(400))), P502);
}

#[test]
fn upstream_reset_is_502() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Reset)
        .start()
        .expect("up");
    let h = Harness::start(&cfg(&up.addr().to_string(), ""));
    assert_eq!(text(raw(h.addr(0), GET, Duration::from_millis(400))), P502);
}

#[test]
fn silent_upstream_is_504_after_timeout_server() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Silent)
        .start()
        .expect("up");
    let h = Harness::start(&cfg(&up.addr().to_string(), ""));
    let t = Instant::now();
    assert_eq!(text(raw(h.addr(0), GET, Duration::from_millis(1200))), P504);
    assert!(t.elapsed() >= Duration::from_millis(500));
}

#[test]
fn incomplete_request_is_408_and_closed() {
    let h = Harness::start(&cfg("127.0.0.1:1", ""));
    let t = Instant::now();
    assert_eq!(
        text(raw(
            h.addr(0),
            b"GET /x HTTP/1.1\r\nHost",
            Duration::from_secs(2)
        )),
        P408
    );
    assert!(t.elapsed() >= Duration::from_millis(300));
    // Nothing sent at all on a fresh connection: 408 too, as HAProxy does.
    assert_eq!(text(raw(h.addr(0), b"", Duration::from_secs(2))), P408);
}

#[test]
fn malformed_request_is_400_and_closed() {
    let h = Harness::start(&cfg("127.0.0.1:1", ""));
    assert_eq!(
        text(raw(h.addr(0), b"GARBAGE\r\n\r\n", Duration::from_secs(1))),
        P400
    );
    assert_eq!(
        text(raw(
            h.addr(0),
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            Duration::from_secs(1)
        )),
        P400
    );
}
