//! Soft and hard stop, and listener changes on reload.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{header, read_one, Harness};
use switchyard_proxy::{Listeners, Release};
use switchyard_testkit::{eventually, http_get, Behavior, FakeUpstream};

/// Nothing of ours answers there (refused, or someone else's socket).
fn not_ours(addr: &str) -> bool {
    http_get(&format!("http://{addr}/"), &[])
        .map(|r| r.header("x-served-by") != Some("s1"))
        .unwrap_or(true)
}

fn cfg(up: &FakeUpstream) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n  default_backend be\n\
         backend be\n  server s1 {}\n",
        up.addr()
    )
}

#[test]
fn soft_stop_finishes_in_flight_requests_and_closes() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Delay(Duration::from_millis(600)))
        .start()
        .expect("up");
    let mut h = Harness::start(&cfg(&up));
    let addr = h.addr(0);
    // An idle keep-alive connection.
    let mut idle = TcpStream::connect(addr).expect("connect");
    idle.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("t");
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("w");
    let _ = read_one(&mut idle);
    // A request in flight.
    let busy = thread::spawn(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("t");
        s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("w");
        read_one(&mut s)
    });
    eventually(Duration::from_secs(5), Duration::from_millis(10), || {
        up.in_flight() == 1
    });
    let stop = h.stop.clone();
    let t = Instant::now();
    let done = h.block_on(async move {
        let f = stop.soft_stop();
        tokio::time::timeout(Duration::from_secs(5), f)
            .await
            .is_ok()
    });
    assert!(done, "soft stop resolved");
    let (head, _) = busy.join().expect("busy");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(
        header(&head, "connection"),
        Some("close"),
        "last response says close"
    );
    assert!(t.elapsed() >= Duration::from_millis(300));
    // The idle connection was closed.
    let mut b = [0u8; 16];
    assert_eq!(std::io::Read::read(&mut idle, &mut b).unwrap_or(0), 0);
    // Once the binary drops its sockets, new connections are refused.
    h.listeners = Listeners::empty();
    eventually(Duration::from_secs(5), Duration::from_millis(20), || {
        not_ours(&addr.to_string())
    });
}

#[test]
fn hard_stop_answers_waiting_requests_with_502() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Silent)
        .start()
        .expect("up");
    let h = Harness::start(&cfg(&up));
    let addr = h.addr(0);
    let t = thread::spawn(move || {
        common::raw(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            Duration::from_secs(3),
        )
    });
    eventually(Duration::from_secs(5), Duration::from_millis(10), || {
        up.in_flight() == 1
    });
    h.stop.hard_stop();
    let out = String::from_utf8_lossy(&t.join().expect("join")).into_owned();
    assert!(out.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{out}");
}

#[test]
fn reload_keeps_unchanged_listeners_and_opens_new_ones() {
    let up = FakeUpstream::start("s1");
    let mut h = Harness::start(&cfg(&up));
    let first = h.addr(0);
    let port2 = switchyard_testkit::free_port();
    let next = format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind {first}\n  bind 127.0.0.1:{port2}\n  default_backend be\n\
         backend be\n  server s1 {}\n",
        up.addr()
    );
    let before: Vec<u64> = h
        .listeners
        .iter()
        .map(|l| l.local_addr().to_string().len() as u64)
        .collect();
    h.reload(&next);
    assert_eq!(h.listeners.len(), 2);
    assert_eq!(before.len(), 1);
    assert_eq!(
        http_get(&format!("http://{first}/"), &[])
            .expect("old")
            .status,
        200
    );
    let second = format!("http://127.0.0.1:{port2}/");
    eventually(Duration::from_secs(5), Duration::from_millis(20), || {
        http_get(&second, &[])
            .map(|r| r.status == 200)
            .unwrap_or(false)
    });
    // Drop the first bind: it stops accepting.
    let only2 = next.replace(&format!("  bind {first}\n"), "");
    h.reload(&only2);
    assert_eq!(h.listeners.len(), 1);
    eventually(Duration::from_secs(5), Duration::from_millis(20), || {
        not_ours(&first.to_string())
    });
    assert_eq!(http_get(&second, &[]).expect("second").status, 200);
}

/// Connections waiting in the accept queue of the one socket listening on
/// `port` (`rx_queue` of its LISTEN line in /proc/net/tcp).
fn accept_queue(port: u16) -> Option<u32> {
    let want = format!(":{port:04X}");
    let text = std::fs::read_to_string("/proc/net/tcp").ok()?;
    text.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 4 && f[1].ends_with(&want) && f[3] == "0A" {
            let rx = f[4].split(':').nth(1)?;
            u32::from_str_radix(rx, 16).ok()
        } else {
            None
        }
    })
}

fn cfg_maxconn_1(up: &FakeUpstream) -> String {
    cfg(up).replace("  bind @BIND@\n", "  bind @BIND@\n  maxconn 1\n")
}

#[test]
fn exclusive_release_serves_what_is_queued_then_stops_listening() {
    const QUEUED: u32 = 5;
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg_maxconn_1(&up));
    let addr = h.addr(0);
    // The only slot is taken by an idle connection: the others wait in the
    // socket's accept queue.
    let hold = TcpStream::connect(addr).expect("connect");
    let queued: Vec<_> = (0..QUEUED)
        .map(|_| {
            let url = format!("http://{addr}/");
            thread::spawn(move || http_get(&url, &[]))
        })
        .collect();
    eventually(Duration::from_secs(5), Duration::from_millis(5), || {
        accept_queue(addr.port()) == Some(QUEUED)
    });

    let release = h.proxy.release_listeners(Release::Exclusive);
    let done = h.block_on(async { tokio::time::timeout(Duration::from_secs(5), release).await });
    assert!(done.is_ok(), "the release resolved");
    for q in queued {
        let resp = q.join().expect("join").expect("a queued request was lost");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("x-served-by"), Some("s1"));
    }
    // Not listening any more, though the harness still holds a copy of the
    // socket (as the binary does until it closes its own).
    assert!(!h.listeners.is_empty());
    let refused = TcpStream::connect(addr).map_err(|e| e.kind());
    assert_eq!(
        refused.err(),
        Some(std::io::ErrorKind::ConnectionRefused),
        "the socket still listens"
    );
    drop(hold);
}

#[test]
fn shared_release_leaves_the_socket_listening() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg(&up));
    let addr = h.addr(0);
    assert_eq!(
        http_get(&format!("http://{addr}/"), &[])
            .expect("get")
            .status,
        200
    );
    let release = h.proxy.release_listeners(Release::Shared);
    let done = h.block_on(async { tokio::time::timeout(Duration::from_secs(5), release).await });
    assert!(done.is_ok(), "the release resolved");
    // A successor holding the same socket (here, the harness's copy) keeps
    // getting connections: the kernel still completes the handshake, and
    // nobody here accepts.
    let _c = TcpStream::connect(addr).expect("still listening");
    eventually(Duration::from_secs(5), Duration::from_millis(5), || {
        accept_queue(addr.port()) == Some(1)
    });
}
