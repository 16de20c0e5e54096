//! `mode tcp`: relaying, balancing, retries/redispatch, maxconn queueing,
//! layer-4 switching, timeouts, counters and `option tcplog` lines (shapes
//! and values as captured from HAProxy 2.6; see tcp_oracle.rs for the
//! side-by-side run).

mod common;

use std::io::{Read, Write};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::tcp::{
    client, closed_port, closed_within, read_n, roundtrip, tcplog_fields, timers, LogSink,
    TcpServer,
};
use common::{raw, Harness};
use switchyard_testkit::{eventually, FakeUpstream};

const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);

fn base(logport: u16) -> String {
    format!(
        "global\n  log 127.0.0.1:{logport} local0\n\
         defaults\n  log global\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n"
    )
}

#[test]
fn echo_and_http_through_tcp_mode_with_tcplog() {
    let echo = TcpServer::echo();
    let up = FakeUpstream::start("h1");
    let logs = LogSink::new();
    let cfg = format!(
        "{}frontend fe_echo\n  bind @BIND@\n  option tcplog\n  default_backend be_echo\n\
         frontend fe_http\n  bind @BIND@\n  option tcplog\n  default_backend be_http\n\
         frontend fe_plain\n  bind @BIND@\n  default_backend be_echo\n\
         backend be_echo\n  server e1 {}\n\
         backend be_http\n  server h1 {}\n",
        base(logs.port()),
        echo.addr(),
        up.addr()
    );
    let h = Harness::start(&cfg);

    let mut c = client(h.addr(0));
    assert_eq!(roundtrip(&mut c, b"hello\n"), b"hello\n");
    let e1 = h.server("be_echo", "e1");
    let be = h.proxy_live("be_echo");
    let fe = h.proxy_live("fe_echo");
    // In use while the stream lives: `show servers conn` used_cur, scur.
    assert_eq!(e1.cur_conns.load(Relaxed), 1);
    assert_eq!(e1.counters.scur.load(Relaxed), 1);
    assert_eq!(be.be.scur.load(Relaxed), 1);
    assert_eq!(fe.fe.scur.load(Relaxed), 1);
    drop(c);

    let f = tcplog_fields(&logs.wait_for("fe_echo be_echo/e1 ", WAIT));
    let (tw, tc, tt) = timers(&f[2]);
    assert!(
        (1..50).contains(&tw) && (0..50).contains(&tc) && tt >= 0,
        "{f:?}"
    );
    assert_eq!(f[3..], ["6", "--", "1/1/0/0/0", "0/0"], "{f:?}");
    eventually(WAIT, POLL, || e1.cur_conns.load(Relaxed) == 0);
    for c in [&e1.counters, &be.be] {
        assert_eq!(c.stot.load(Relaxed), 1);
        assert_eq!(c.bin.load(Relaxed), 6);
        assert_eq!(c.bout.load(Relaxed), 6);
        assert_eq!(c.lbtot.load(Relaxed), 1);
        assert_eq!(c.connect.load(Relaxed), 1);
        assert_eq!(c.scur.load(Relaxed), 0);
    }
    assert_eq!(fe.fe.bin.load(Relaxed), 6);
    assert_eq!(fe.fe.bout.load(Relaxed), 6);
    assert_eq!(fe.fe.stot.load(Relaxed), 1);

    // An HTTP client through a TCP-mode proxy: bytes pass untouched.
    let req = b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let resp = raw(h.addr(1), req, Duration::from_secs(2));
    let text = String::from_utf8_lossy(&resp);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(up.requests(), 1);
    assert_eq!(up.last_request().expect("req").path_only(), "/x");
    let f = tcplog_fields(&logs.wait_for("fe_http be_http/h1 ", WAIT));
    assert_eq!(f[3], resp.len().to_string(), "{f:?}");
    assert_eq!(f[4], "--");
    assert_eq!(
        h.proxy_live("fe_http").fe.bin.load(Relaxed),
        req.len() as u64
    );

    // Without tcplog, `log global` logs the connection at accept.
    let mut c = client(h.addr(2));
    assert_eq!(roundtrip(&mut c, b"x"), b"x");
    let line = logs.wait_for("Connect from", WAIT);
    assert_eq!(
        line,
        format!(
            "Connect from {} to {} (fe_plain/TCP)",
            c.local_addr().expect("addr"),
            h.addr(2)
        )
    );
}

#[test]
fn connect_failures_are_retried_and_redispatched() {
    let good = TcpServer::echo();
    let logs = LogSink::new();
    let cfg = format!(
        "{}frontend fe_r\n  bind @BIND@\n  option tcplog\n  default_backend be_r\n\
         frontend fe_one\n  bind @BIND@\n  option tcplog\n  default_backend be_one\n\
         backend be_r\n  option redispatch\n  server bad 127.0.0.1:{}\n  server good {}\n\
         backend be_one\n  retries 2\n  timeout connect 200ms\n  server bad 127.0.0.1:{}\n",
        base(logs.port()),
        closed_port(),
        good.addr(),
        closed_port()
    );
    let h = Harness::start(&cfg);

    // Round robin starts on `bad`; the failed connect is redispatched at
    // once to `good` (`+1`), as HAProxy does for roundrobin with two up.
    for n in 1..=2 {
        let mut c = client(h.addr(0));
        assert_eq!(roundtrip(&mut c, b"rr\n"), b"rr\n");
        drop(c);
        eventually(WAIT, POLL, || {
            logs.lines().iter().filter(|l| l.contains(" fe_r ")).count() == n
        });
    }
    for l in logs.lines().iter().filter(|l| l.contains(" fe_r ")) {
        let f = tcplog_fields(l);
        assert_eq!(f[1], "be_r/good", "{l}");
        assert_eq!(f[3..], ["3", "--", "1/1/0/0/+1", "0/0"], "{l}");
    }
    let bad = h.server("be_r", "bad");
    let goodl = h.server("be_r", "good");
    assert_eq!(bad.counters.wredis.load(Relaxed), 2);
    assert_eq!(bad.counters.connect.load(Relaxed), 2);
    assert_eq!(bad.counters.lbtot.load(Relaxed), 2);
    assert_eq!(bad.counters.econ.load(Relaxed), 0);
    assert_eq!(goodl.counters.connect.load(Relaxed), 2);
    assert_eq!(goodl.counters.bin.load(Relaxed), 6);
    assert_eq!(h.proxy_live("be_r").be.wredis.load(Relaxed), 2);

    // One dead server, no redispatch: 1 + 2 retries, then closed (`SC`).
    let mut c = client(h.addr(1));
    c.write_all(b"x\n").expect("write");
    assert!(closed_within(&mut c, WAIT));
    let f = tcplog_fields(&logs.wait_for(" fe_one ", WAIT));
    assert_eq!(f[1], "be_one/bad");
    let (tw, tc, tt) = timers(&f[2]);
    assert!(tw >= 1 && tc == -1 && tt >= 400, "{f:?}");
    assert_eq!(f[3..], ["0", "SC", "1/1/0/0/2", "0/0"], "{f:?}");
    let s = h.server("be_one", "bad");
    let be = h.proxy_live("be_one");
    assert_eq!(s.counters.connect.load(Relaxed), 3);
    assert_eq!(s.counters.stot.load(Relaxed), 3);
    assert_eq!(s.counters.wretr.load(Relaxed), 2);
    assert_eq!(s.counters.econ.load(Relaxed), 1);
    assert_eq!(be.be.econ.load(Relaxed), 1);
    assert_eq!(be.be.wretr.load(Relaxed), 2);
    assert_eq!(be.be.connect.load(Relaxed), 3);
    assert_eq!(be.be.stot.load(Relaxed), 1);
    // What the client sent still counts in as bytes in, as in HAProxy.
    assert_eq!(s.counters.bin.load(Relaxed), 2);
    assert_eq!(h.proxy_live("fe_one").fe.bin.load(Relaxed), 2);
}

#[test]
fn maxconn_queues_streams_and_times_them_out() {
    let echo = TcpServer::echo();
    let logs = LogSink::new();
    let cfg = format!(
        "{}frontend fe\n  bind @BIND@\n  option tcplog\n  default_backend be_q\n\
         backend be_q\n  timeout queue 400ms\n  server e1 {} maxconn 1\n",
        base(logs.port()),
        echo.addr()
    );
    let h = Harness::start(&cfg);
    let e1 = h.server("be_q", "e1");
    let be = h.proxy_live("be_q");

    let mut a = client(h.addr(0));
    assert_eq!(roundtrip(&mut a, b"a\n"), b"a\n");
    let mut b = client(h.addr(0));
    b.write_all(b"b\n").expect("write");
    eventually(WAIT, POLL, || be.be.qcur.load(Relaxed) == 1);
    assert_eq!(e1.cur_conns.load(Relaxed), 1, "used_cur stays at maxconn");
    drop(a);
    // The slot passes to the queued stream, which then gets its echo.
    assert_eq!(read_n(&mut b, 2), b"b\n");
    assert_eq!(be.be.qcur.load(Relaxed), 0);
    assert_eq!(be.be.qmax.load(Relaxed), 1);

    // Another stream waits past `timeout queue`: closed, `sQ`, `<NOSRV>`.
    let mut d = client(h.addr(0));
    assert!(closed_within(&mut d, WAIT));
    let f = tcplog_fields(&logs.wait_for("be_q/<NOSRV>", WAIT));
    let (tw, tc, _) = timers(&f[2]);
    assert!(tw >= 400 && tc == -1, "{f:?}");
    assert_eq!(f[3..], ["0", "sQ", "2/2/1/0/0", "0/1"], "{f:?}");
    drop(b);
    eventually(WAIT, POLL, || {
        logs.lines()
            .iter()
            .filter(|l| l.contains("be_q/e1 "))
            .count()
            == 2
    });
    let queued = logs
        .lines()
        .into_iter()
        .filter(|l| l.contains("be_q/e1 "))
        .map(|l| tcplog_fields(&l))
        .find(|f| f[6] == "0/1");
    let q = queued.expect("the queued stream's line says bq=1");
    assert!(timers(&q[2]).0 >= 1, "{q:?}");
    assert_eq!(e1.counters.econ.load(Relaxed), 0);
    assert_eq!(be.be.econ.load(Relaxed), 1);
}

#[test]
fn switching_uses_layer4_fetches_and_skips_http_rules() {
    let far = TcpServer::banner("far\n");
    let hdr = TcpServer::banner("hdr\n");
    let p2a = TcpServer::banner("p2a\n");
    let p2b = TcpServer::banner("p2b\n");
    let def = TcpServer::banner("def\n");
    let logs = LogSink::new();
    let ports = switchyard_testkit::free_ports(2);
    let cfg = format!(
        "{}frontend fe\n  bind 127.0.0.1:{p1}\n  bind 127.0.0.1:{p2}\n  option tcplog\n\
         acl is_p2 dst_port {p2}\n  acl host_foo hdr(host) -i foo\n  acl far src 10.0.0.0/8\n\
         http-request deny\n  option forwardfor\n\
         use_backend be_far if far\n  use_backend be_hdr if host_foo\n  use_backend be_p2 if is_p2\n\
         default_backend be_def\n\
         backend be_far\n  server s {}\n\
         backend be_hdr\n  server s {}\n\
         backend be_p2\n  balance uri\n  server a {}\n  server b {}\n\
         backend be_def\n  cookie SRV insert\n  server s {} cookie x\n",
        base(logs.port()),
        far.addr(),
        hdr.addr(),
        p2a.addr(),
        p2b.addr(),
        def.addr(),
        p1 = ports[0],
        p2 = ports[1],
    );
    let h = Harness::start(&cfg);

    // HTTP rules and fetches do nothing in TCP mode: the request passes
    // unchanged to the default backend.
    let mut c = client(h.addr(0));
    assert_eq!(read_n(&mut c, 4), b"def\n");
    let req = b"GET / HTTP/1.1\r\nHost: foo\r\n\r\n";
    assert_eq!(roundtrip(&mut c, req), req);
    drop(c);

    // dst_port picks be_p2; its `balance uri` falls back to round robin.
    let mut seen = Vec::new();
    for _ in 0..2 {
        let mut c = client(h.addr(1));
        seen.push(String::from_utf8(read_n(&mut c, 4)).expect("utf8"));
    }
    seen.sort();
    assert_eq!(seen, ["p2a\n", "p2b\n"]);
    assert_eq!(far.accepted() + hdr.accepted(), 0);
    logs.wait_for("fe be_def/s ", WAIT);
}

#[test]
fn client_server_and_tunnel_timeouts() {
    let echo = TcpServer::echo();
    let silent = TcpServer::silent();
    let logs = LogSink::new();
    let cfg = format!(
        "{}frontend fe_a\n  bind @BIND@\n  option tcplog\n  timeout client 200ms\n  default_backend be_a\n\
         frontend fe_b\n  bind @BIND@\n  option tcplog\n  default_backend be_tun\n\
         frontend fe_c\n  bind @BIND@\n  option tcplog\n  timeout client 600ms\n  default_backend be_silent\n\
         backend be_a\n  timeout server 400ms\n  server e1 {e}\n\
         backend be_tun\n  timeout tunnel 200ms\n  server e1 {e}\n\
         backend be_silent\n  timeout server 300ms\n  server s1 {s}\n",
        base(logs.port()),
        e = echo.addr(),
        s = silent.addr(),
    );
    let h = Harness::start(&cfg);
    let mut a = client(h.addr(0));
    let mut b = client(h.addr(1));
    let mut c = client(h.addr(2));
    assert_eq!(roundtrip(&mut a, b"a\n"), b"a\n");
    assert_eq!(roundtrip(&mut b, b"b\n"), b"b\n");
    c.write_all(b"c\n").expect("write");
    for s in [&mut a, &mut b, &mut c] {
        assert!(closed_within(s, WAIT));
    }
    // Client idle first: `cD` at the client timeout.
    let f = tcplog_fields(&logs.wait_for(" fe_a ", WAIT));
    let (_, _, tt) = timers(&f[2]);
    assert!((200..2000).contains(&tt) && f[4] == "cD", "{f:?}");
    // `timeout tunnel` replaces both; the client side is reported.
    let f = tcplog_fields(&logs.wait_for(" fe_b ", WAIT));
    let (_, _, tt) = timers(&f[2]);
    assert!((200..2000).contains(&tt) && f[4] == "cD", "{f:?}");
    // A silent server times out first (`sD`, its side is closed); the
    // stream ends when the client side times out too.
    let f = tcplog_fields(&logs.wait_for(" fe_c ", WAIT));
    let (_, _, tt) = timers(&f[2]);
    assert!((600..3000).contains(&tt) && f[4] == "sD", "{f:?}");
    assert_eq!(f[3], "0");
}

#[test]
fn half_close_from_the_client_still_gets_the_answer() {
    let echo = TcpServer::echo();
    let logs = LogSink::new();
    let cfg = format!(
        "{}frontend fe\n  bind @BIND@\n  option tcplog\n  default_backend be\n\
         backend be\n  server e1 {}\n",
        base(logs.port()),
        echo.addr()
    );
    let h = Harness::start(&cfg);
    let mut c = client(h.addr(0));
    c.write_all(b"one way\n").expect("write");
    c.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut got = Vec::new();
    c.read_to_end(&mut got).expect("read");
    assert_eq!(got, b"one way\n");
    let f = tcplog_fields(&logs.wait_for(" fe ", WAIT));
    assert_eq!(f[3..5], ["8", "--"], "{f:?}");
}

#[test]
fn listen_section_in_tcp_mode() {
    let echo = TcpServer::echo();
    let logs = LogSink::new();
    let cfg = format!(
        "{}listen li\n  bind @BIND@\n  option tcplog\n  balance source\n  server e1 {}\n  server e2 {}\n",
        base(logs.port()),
        echo.addr(),
        echo.addr()
    );
    let h = Harness::start(&cfg);
    let mut c = client(h.addr(0));
    assert_eq!(roundtrip(&mut c, b"li\n"), b"li\n");
    drop(c);
    let f = tcplog_fields(&logs.wait_for(" li li/e", WAIT));
    assert_eq!(f[3..], ["3", "--", "1/1/0/0/0", "0/0"], "{f:?}");
}

/// Seed 002's two configs (no `mode`, so TCP; no timeouts, no logs), with
/// loopback servers: a reload switches new streams to green while a stream
/// opened before keeps its blue server.
#[test]
fn seed_002_reload_switches_new_streams_to_green() {
    let blue1 = TcpServer::banner("blue1\n");
    let blue2 = TcpServer::banner("blue2\n");
    let green1 = TcpServer::banner("green1\n");
    let green2 = TcpServer::banner("green2\n");
    let cfg = |bind: &str, default: &str| {
        format!(
            "frontend http_front\nbind {bind}\ndefault_backend {default}\n\
             backend http_back\nbalance roundrobin\n\
             # Blue backend - current production version\n\
             server blue1 {} check\nserver blue2 {} check\n\
             backend http_back_green\nbalance roundrobin\n\
             # Green backend - new version, currently idle\n\
             server green1 {} check\nserver green2 {} check\n",
            blue1.addr(),
            blue2.addr(),
            green1.addr(),
            green2.addr()
        )
    };
    let mut h = Harness::start(&cfg("@BIND@", "http_back"));
    let addr = h.addr(0);
    let first = |h: &Harness| {
        let mut c = client(h.addr(0));
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while b[0] != b'\n' {
            c.read_exact(&mut b).expect("banner");
            line.push(b[0]);
        }
        (c, String::from_utf8(line).expect("utf8"))
    };
    let (mut old, banner) = first(&h);
    assert!(banner.starts_with("blue"), "{banner}");
    let (_, banner) = first(&h);
    assert!(banner.starts_with("blue"), "{banner}");

    h.reload(&cfg(&addr.to_string(), "http_back_green"));
    assert_eq!(h.addr(0), addr, "the listener is kept");
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(first(&h).1);
    }
    seen.sort();
    assert_eq!(seen, ["green1\n", "green2\n"]);
    // The blue stream opened before the reload carries on.
    assert_eq!(roundtrip(&mut old, b"still blue\n"), b"still blue\n");
}
