//! HTTP/1 details: 100-continue, chunked bodies both ways, HTTP/1.0
//! clients, pipelining, protocol upgrades; and the live counters.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;
use std::time::Duration;

use common::{header, raw, read_one, read_request_head, serve_each, Harness};
use switchyard_testkit::{eventually, http_get, Behavior, FakeUpstream};

fn cfg(server: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n  default_backend be\n\
         backend be\n  server s1 {server}\n"
    )
}

#[test]
fn expect_100_continue_and_chunked_upload() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg(&up.addr().to_string()));
    let mut s = TcpStream::connect(h.addr(0)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("t");
    s.write_all(
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    )
    .expect("w");
    let mut b = [0u8; 25];
    s.read_exact(&mut b).expect("100");
    assert_eq!(&b, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"hello").expect("body");
    let (head, _) = read_one(&mut s);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let seen = up.last_request().expect("seen");
    assert_eq!(seen.body_len, 5);
    // The expectation went on: the server's own 100 reached the client.
    assert_eq!(seen.header("expect"), Some("100-continue"));

    s.write_all(b"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\n")
        .expect("w");
    let (head, _) = read_one(&mut s);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(up.last_request().expect("seen").body_len, 7);

    // Transfer-Encoding wins over a Content-Length sent with it.
    s.write_all(b"POST /both HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        .expect("w");
    let (head, _) = read_one(&mut s);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let seen = up.last_request().expect("seen");
    assert_eq!(seen.body_len, 3);
    assert!(seen.header("content-length").is_none());
}

/// An upstream answering every request with a chunked body.
fn chunked_upstream() -> std::net::SocketAddr {
    serve_each(|s| {
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        while read_request_head(&mut r).is_some() {
            let _ = w.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        }
    })
}

#[test]
fn chunked_responses_and_http10_clients() {
    let h = Harness::start(&cfg(&chunked_upstream().to_string()));
    let out = String::from_utf8_lossy(&raw(
        h.addr(0),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_millis(300),
    ))
    .into_owned();
    // What HAProxy 2.6 sends: the chunks it has buffered go out as one,
    // its size in upper-case hex.
    assert_eq!(
        out,
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nB\r\nhello world\r\n0\r\n\r\n"
    );
    // An HTTP/1.0 client gets the chunked body too (HAProxy keeps the
    // server's framing), and the close.
    let out = String::from_utf8_lossy(&raw(
        h.addr(0),
        b"GET / HTTP/1.0\r\n\r\n",
        Duration::from_secs(2),
    ))
    .into_owned();
    assert_eq!(
        out,
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\nB\r\nhello world\r\n0\r\n\r\n"
    );
}

#[test]
fn http10_keep_alive_and_pipelining() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg(&up.addr().to_string()));
    let mut s = TcpStream::connect(h.addr(0)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("t");
    s.write_all(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .expect("w");
    let (head, _) = read_one(&mut s);
    assert_eq!(header(&head, "connection"), Some("keep-alive"));
    // Two pipelined requests in one write.
    s.write_all(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("w");
    let (h1, _) = read_one(&mut s);
    let (h2, _) = read_one(&mut s);
    assert!(h1.starts_with("HTTP/1.1 200") && h2.starts_with("HTTP/1.1 200"));
    assert_eq!(header(&h2, "connection"), Some("close"));
    let paths: Vec<String> = up.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, vec!["/a", "/b", "/c"]);
}

/// An upstream that switches to an echo protocol after a 101.
fn upgrade_upstream() -> std::net::SocketAddr {
    serve_each(|s| {
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        let Some((head, _)) = read_request_head(&mut r) else {
            return;
        };
        assert!(head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("upgrade: websocket")));
        let _ = w.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        let mut b = [0u8; 1024];
        while let Ok(n) = r.read(&mut b) {
            if n == 0 || w.write_all(&b[..n]).is_err() {
                return;
            }
        }
    })
}

#[test]
fn upgrade_is_tunnelled() {
    let h = Harness::start(&cfg(&upgrade_upstream().to_string()));
    let mut s = TcpStream::connect(h.addr(0)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("t");
    s.write_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .expect("w");
    let mut r = BufReader::new(s.try_clone().expect("clone"));
    let mut head = String::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).expect("line");
        head.push_str(&l);
        if l == "\r\n" {
            break;
        }
    }
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    assert_eq!(header(&head, "upgrade"), Some("websocket"));
    // The server's spelling, as HAProxy 2.6 relays it.
    assert_eq!(header(&head, "connection"), Some("Upgrade"));
    s.write_all(b"ping-1").expect("w");
    let mut b = [0u8; 6];
    r.read_exact(&mut b).expect("echo");
    assert_eq!(&b, b"ping-1");
}

#[test]
fn counters_follow_traffic() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Delay(Duration::from_millis(300)))
        .start()
        .expect("up");
    let h = Harness::start(&cfg(&up.addr().to_string()));
    let url = h.url("/slow");
    let t = thread::spawn(move || http_get(&url, &[]).map(|r| r.status).unwrap_or(0));
    let (live, be) = {
        let snap = h.store.load();
        let (p, s) = snap.find_server("be", "s1").expect("s1");
        (
            snap.server(p, s).expect("s1").live.clone(),
            snap.proxy(p).expect("be").live.clone(),
        )
    };
    eventually(Duration::from_secs(2), Duration::from_millis(5), || {
        live.cur_conns.load(Relaxed) == 1
    });
    assert_eq!(live.counters.scur.load(Relaxed), 1);
    assert_eq!(t.join().expect("join"), 200);
    up.set_behavior(Behavior::Echo);
    let mut c = switchyard_testkit::KeepAliveClient::connect(&h.addr(0).to_string()).expect("c");
    for _ in 0..3 {
        assert_eq!(c.get("/x").expect("get").status, 200);
    }
    eventually(Duration::from_secs(2), Duration::from_millis(5), || {
        live.cur_conns.load(Relaxed) == 0
    });
    assert_eq!(
        live.idle_conns.load(Relaxed),
        1,
        "the upstream connection is pooled"
    );
    assert_eq!(live.counters.stot.load(Relaxed), 4);
    assert_eq!(live.counters.lbtot.load(Relaxed), 4);
    assert_eq!(live.counters.hrsp[1].load(Relaxed), 4);
    assert_eq!(be.be.stot.load(Relaxed), 4);
    assert_eq!(be.be.req_tot.load(Relaxed), 4);
    assert!(be.be.bout.load(Relaxed) > 0 && be.be.bin.load(Relaxed) > 0);
    assert_eq!(
        live.counters.connect.load(Relaxed) + live.counters.reuse.load(Relaxed),
        4
    );
    assert!(
        live.counters.reuse.load(Relaxed) >= 2,
        "keep-alive to the server"
    );
    let fe = {
        let snap = h.store.load();
        snap.proxy(snap.proxy_idx("fe").expect("fe"))
            .expect("fe")
            .live
            .clone()
    };
    assert_eq!(fe.fe.req_tot.load(Relaxed), 4);
    assert_eq!(fe.fe.stot.load(Relaxed), 2, "two client connections");
    assert_eq!(fe.fe.scur.load(Relaxed), 1);
}
