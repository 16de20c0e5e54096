//! Accept limits, keep-alive timeout, slowstart, socket hand-over, unix binds.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::{read_one, Harness};
use switchyard_config::ListenAddr;
use switchyard_proxy::Listeners;
use switchyard_state::{now_ms, OpState};
use switchyard_testkit::{eventually, FakeUpstream, KeepAliveClient};

fn cfg(up: &FakeUpstream, fe_extra: &str, servers: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n{fe_extra}  default_backend be\n\
         backend be\n{}",
        if servers.is_empty() {
            format!("  server s1 {}\n", up.addr())
        } else {
            servers.to_string()
        }
    )
}

#[test]
fn frontend_maxconn_stops_accepting_without_refusing() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg(&up, "  maxconn 1\n", ""));
    let mut first = TcpStream::connect(h.addr(0)).expect("first");
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("t");
    first
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("w");
    let _ = read_one(&mut first);
    // The second connection is not refused, but waits.
    let mut second = TcpStream::connect(h.addr(0)).expect("second connects");
    second
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("t");
    second
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("w");
    let mut b = [0u8; 16];
    assert!(
        second.read(&mut b).is_err(),
        "not served while the first is open"
    );
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("t");
    let (head, _) = read_one(&mut second);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

#[test]
fn idle_keep_alive_connections_close_after_timeout() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg(&up, "  timeout http-keep-alive 200ms\n", ""));
    let mut s = TcpStream::connect(h.addr(0)).expect("c");
    s.set_read_timeout(Some(Duration::from_secs(3))).expect("t");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("w");
    let _ = read_one(&mut s);
    let t = std::time::Instant::now();
    let mut b = [0u8; 64];
    assert_eq!(s.read(&mut b).expect("eof"), 0, "closed silently");
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[test]
fn slowstart_throttles_a_ramping_server() {
    let (a, b) = (FakeUpstream::start("a"), FakeUpstream::start("b"));
    let servers = format!(
        "  balance roundrobin\n  server a {} weight 100 slowstart 10s\n  server b {} weight 100\n",
        a.addr(),
        b.addr()
    );
    let h = Harness::start(&cfg(&a, "", &servers));
    let live = {
        let snap = h.store.load();
        let (p, s) = snap.find_server("be", "a").expect("a");
        snap.server(p, s).expect("a").live.clone()
    };
    live.slowstart_begin_ms
        .store(now_ms().saturating_sub(1000), Relaxed);
    live.op_state.store(OpState::Starting as u8, Relaxed);
    let mut c = KeepAliveClient::connect(&h.addr(0).to_string()).expect("c");
    let mut to_a = 0;
    for _ in 0..200 {
        if c.get("/").expect("get").header("x-served-by") == Some("a") {
            to_a += 1;
        }
    }
    assert!(to_a > 0 && to_a < 50, "a ramping at ~10% got {to_a}/200");
}

#[test]
fn sockets_survive_a_hand_over() {
    let up = FakeUpstream::start("s1");
    let text = common::with_ports(&cfg(&up, "", ""));
    let snap = common::snapshot(&text);
    let first = Listeners::bind(&snap).expect("bind");
    let addr = first.addrs()[0].clone();
    let fds = first.into_fds().expect("fds");
    // A second "process" adopts the sockets instead of binding again.
    let second = Listeners::from_fds(&snap, fds).expect("adopt");
    assert_eq!(second.addrs(), vec![addr.clone()]);
    // The adopted socket is the one that was listening: a connection made
    // now is waiting in its queue. (A fresh bind of the same address would
    // succeed too, with SO_REUSEPORT, so it proves nothing.)
    let ListenAddr::Tcp(a) = addr else {
        panic!("tcp bind expected")
    };
    let _c = TcpStream::connect(a).expect("connect");
    let fd = second
        .iter()
        .next()
        .expect("one socket")
        .dup_fd()
        .expect("dup");
    let l = std::net::TcpListener::from(fd);
    l.set_nonblocking(false).expect("blocking");
    let (_s, peer) = l.accept().expect("accept");
    assert_eq!(peer, _c.local_addr().expect("addr"));
}

#[test]
fn unix_socket_binds_serve_http() {
    let up = FakeUpstream::start("s1");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("fe.sock");
    let h = Harness::start(&format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind unix@{} mode 600\n  default_backend be\n\
         backend be\n  server s1 {}\n",
        path.display(),
        up.addr()
    ));
    let mut s = UnixStream::connect(&path).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("t");
    s.write_all(b"GET /u HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("w");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    eventually(Duration::from_secs(1), Duration::from_millis(10), || {
        up.last_request().is_some()
    });
    drop(h);
}
