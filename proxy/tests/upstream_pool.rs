//! The idle pool of server connections: a connection the server closed is
//! never the cause of a failed request, and is dropped from the pool (and
//! from `srv_icur`) without waiting for traffic.

mod common;

use std::io::{BufReader, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;
use std::time::Duration;

use common::{read_request_head, serve_each, Harness};
use switchyard_testkit::{eventually, KeepAliveClient};

/// A server that answers one request per connection with a keep-alive
/// response (no `connection: close`), then closes after `linger`.
fn closing_upstream(linger: Duration) -> SocketAddr {
    serve_each(move |s| {
        let mut w = s.try_clone().expect("clone");
        if read_request_head(&mut BufReader::new(s)).is_some() {
            let _ = w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
            thread::sleep(linger);
        }
    })
}

fn cfg(server: SocketAddr) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 2s\n\
         frontend fe\n  bind @BIND@\n  default_backend be\n\
         backend be\n  server s1 {server}\n"
    )
}

#[test]
fn a_connection_the_server_closed_leaves_the_pool_on_its_own() {
    let up = closing_upstream(Duration::from_millis(50));
    let h = Harness::start(&cfg(up));
    let live = h.server("be", "s1");
    let mut c = KeepAliveClient::connect(&h.addr(0).to_string()).expect("client");
    assert_eq!(c.get("/a").expect("get").status, 200);
    eventually(Duration::from_secs(2), Duration::from_millis(5), || {
        live.idle_conns.load(Relaxed) == 1
    });
    // The server closes it; the purge notices without any request.
    eventually(Duration::from_secs(4), Duration::from_millis(20), || {
        live.idle_conns.load(Relaxed) == 0
    });
    assert_eq!(c.get("/b").expect("get").status, 200);
    assert_eq!(live.counters.connect.load(Relaxed), 2);
    assert_eq!(live.counters.reuse.load(Relaxed), 0);
    assert_eq!(live.counters.eresp.load(Relaxed), 0);
}

#[test]
fn a_connection_closed_as_it_is_reused_costs_no_request() {
    // The server closes right after answering: the next request races the
    // close. Whichever wins, the client never sees an error.
    let up = closing_upstream(Duration::ZERO);
    let h = Harness::start(&cfg(up));
    let live = h.server("be", "s1");
    let mut c = KeepAliveClient::connect(&h.addr(0).to_string()).expect("client");
    for i in 0..200 {
        let r = c.get(&format!("/{i}")).expect("get");
        assert_eq!(r.status, 200, "request {i}");
    }
    assert_eq!(live.counters.eresp.load(Relaxed), 0);
    assert_eq!(live.counters.wretr.load(Relaxed), 0);
    assert_eq!(live.counters.hrsp[1].load(Relaxed), 200);
}

/// A server that answers every request on a connection with `resp` and
/// leaves the closing to the proxy.
fn answering_upstream(resp: &'static [u8]) -> SocketAddr {
    serve_each(move |s| {
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        while read_request_head(&mut r).is_some() {
            if w.write_all(resp).is_err() {
                return;
            }
        }
    })
}

#[test]
fn the_servers_connection_header_decides_reuse() {
    // A lone `close`/`keep-alive` line is taken out as the head is read;
    // the decision it carries must survive that, in any case of spelling.
    // The response, whether its connection is reused, and the client's
    // `Connection` (an HTTP/1.0 answer gets `keep-alive` added, and
    // tokens other than these two go on, as in HAProxy).
    let cases: [(&'static [u8], bool, Option<&str>); 5] = [
        (b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: Close\r\n\r\nok", false, None),
        (b"HTTP/1.1 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok", true, None),
        (
            b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\nConnection: Keep-Alive \r\n\r\nok",
            true,
            Some("keep-alive"),
        ),
        (b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", false, Some("keep-alive")),
        (
            b"HTTP/1.1 200 OK\r\nconnection: x-a\r\ncontent-length: 2\r\nconnection: close\r\nx-a: 1\r\n\r\nok",
            false,
            Some("x-a"),
        ),
    ];
    for (resp, reused, conn) in cases {
        let what = String::from_utf8_lossy(resp);
        let h = Harness::start(&cfg(answering_upstream(resp)));
        let live = h.server("be", "s1");
        let mut c = KeepAliveClient::connect(&h.addr(0).to_string()).expect("client");
        for i in 0..3 {
            let r = c.get(&format!("/{i}")).expect("get");
            assert_eq!(r.status, 200, "{what}");
            assert_eq!(r.header("connection"), conn, "{what}");
            if reused {
                eventually(Duration::from_secs(2), Duration::from_millis(5), || {
                    live.idle_conns.load(Relaxed) == 1
                });
            }
        }
        let (connects, reuses) = if reused { (1, 2) } else { (3, 0) };
        assert_eq!(live.counters.connect.load(Relaxed), connects, "{what}");
        assert_eq!(live.counters.reuse.load(Relaxed), reuses, "{what}");
    }
}
