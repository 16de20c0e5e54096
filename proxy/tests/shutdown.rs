//! Soft and hard stop, and listener changes on reload.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{header, read_one, Harness};
use switchyard_proxy::Listeners;
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
