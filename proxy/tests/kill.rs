//! Ending streams from outside: `shutdown sessions server` (the Runtime API
//! bumps the server's `shutdown_gen`), `shutdown frontend` (`fe_stopped`),
//! and `on-marked-down shutdown-sessions` when checks mark a server DOWN.
//! Termination codes as HAProxy 2.6 logs them: `K-`/`D-` for TCP streams,
//! a 502 with `KH--`/`DH--` for an HTTP request waiting for its server.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::tcp::{client, closed_within, roundtrip, tcplog_fields, LogSink, TcpServer};
use common::Harness;
use switchyard_state::{CheckStatus, OpState};
use switchyard_testkit::{eventually, Behavior, FakeUpstream};

const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);

const PAGE_502: &str = "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n";

fn base(logport: u16) -> String {
    format!(
        "global\n  log 127.0.0.1:{logport} local0\n\
         defaults\n  log global\n  timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n"
    )
}

/// Send a GET and return the connection (the response is read later).
fn send_get(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let mut s = client(addr);
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes())
        .expect("write");
    s
}

/// Everything until the peer closes.
fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn shutdown_sessions_server_closes_its_tcp_streams() {
    let echo = TcpServer::echo();
    let logs = LogSink::new();
    let cfg = format!(
        "{}frontend fe\n  bind @BIND@\n  option tcplog\n  default_backend be\n\
         backend be\n  server e1 {}\n  server e2 {}\n",
        base(logs.port()),
        echo.addr(),
        echo.addr()
    );
    let h = Harness::start(&cfg);
    // Round robin: one stream on each server.
    let mut on_e1 = client(h.addr(0));
    assert_eq!(roundtrip(&mut on_e1, b"1\n"), b"1\n");
    let mut on_e2 = client(h.addr(0));
    assert_eq!(roundtrip(&mut on_e2, b"2\n"), b"2\n");
    let e1 = h.server("be", "e1");
    assert_eq!(e1.cur_conns.load(Relaxed), 1);

    e1.shutdown_gen.fetch_add(1, Relaxed);
    assert!(closed_within(&mut on_e1, WAIT));
    let f = tcplog_fields(&logs.wait_for("be/e1 ", WAIT));
    assert_eq!(f[3..5], ["2", "K-"], "{f:?}");
    eventually(WAIT, POLL, || e1.cur_conns.load(Relaxed) == 0);
    // The other server's stream is untouched.
    assert_eq!(roundtrip(&mut on_e2, b"still\n"), b"still\n");
    // Streams started after the shutdown live on.
    let mut later = client(h.addr(0));
    assert_eq!(roundtrip(&mut later, b"3\n"), b"3\n");
    assert!(!closed_within(&mut later, Duration::from_millis(200)));
}

#[test]
fn shutdown_sessions_server_aborts_http_requests() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Silent)
        .start()
        .expect("upstream");
    let logs = LogSink::new();
    let cfg = format!(
        "{}frontend fe\n  mode http\n  option httplog\n  bind @BIND@\n  default_backend be\n\
         backend be\n  mode http\n  server s1 {}\n",
        base(logs.port()),
        up.addr()
    );
    let h = Harness::start(&cfg);
    let mut c = send_get(h.addr(0), "/hang");
    eventually(WAIT, POLL, || up.requests() == 1);
    h.server("be", "s1").shutdown_gen.fetch_add(1, Relaxed);
    // HAProxy's 502 page, as captured (no `connection: close`), then the
    // killed stream's connection ends.
    assert_eq!(read_all(&mut c), PAGE_502);
    let line = logs.wait_for("\"GET /hang HTTP/1.1\"", WAIT);
    // `%Tr` is -1: no response came.
    assert!(
        line.contains(" be/s1 0/0/") && line.contains("/-1/"),
        "{line}"
    );
    assert!(line.contains(" 502 209 - - KH-- 1/1/0/0/0 0/0 "), "{line}");
}

/// An HTTP server that sends a response head and part of its body, then
/// stalls (for a kill in the middle of a response).
fn stalling_server() -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let t = std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let mut buf = [0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
        // Hold until the proxy closes its side.
        let _ = s.read(&mut buf);
    });
    (addr, t)
}

#[test]
fn shutdown_sessions_server_cuts_a_response_being_sent() {
    let (addr, server) = stalling_server();
    let logs = LogSink::new();
    let cfg = format!(
        "{}frontend fe\n  mode http\n  option httplog\n  bind @BIND@\n  default_backend be\n\
         backend be\n  mode http\n  server s1 {addr}\n",
        base(logs.port()),
    );
    let h = Harness::start(&cfg);
    let mut c = send_get(h.addr(0), "/big");
    let mut head = [0u8; 64];
    let n = c.read(&mut head).expect("read");
    assert!(head[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
    h.server("be", "s1").shutdown_gen.fetch_add(1, Relaxed);
    let rest = read_all(&mut c);
    assert!(!rest.contains("HTTP/1.1"), "{rest}");
    let line = logs.wait_for("\"GET /big HTTP/1.1\"", WAIT);
    assert!(
        line.contains(" 200 ") && line.contains(" - - KD-- "),
        "{line}"
    );
    // The server's connection was closed too.
    server.join().expect("server thread");
}

#[test]
fn shutdown_frontend_refuses_new_connections_and_keeps_streams() {
    let echo = TcpServer::echo();
    let logs = LogSink::new();
    let cfg = format!(
        "{}frontend fe\n  bind @BIND@\n  option tcplog\n  default_backend be\n\
         frontend other\n  bind @BIND@\n  option tcplog\n  default_backend be\n\
         backend be\n  server e1 {}\n",
        base(logs.port()),
        echo.addr()
    );
    let h = Harness::start(&cfg);
    let mut c = client(h.addr(0));
    assert_eq!(roundtrip(&mut c, b"a\n"), b"a\n");

    h.proxy_live("fe").fe_stopped.store(true, Relaxed);
    // Not served from now on: refused, or (while the accept loop notices)
    // closed unanswered.
    if let Ok(mut late) = TcpStream::connect(h.addr(0)) {
        late.set_read_timeout(Some(WAIT)).expect("timeout");
        let _ = late.write_all(b"late\n");
        let mut buf = [0u8; 8];
        assert!(matches!(late.read(&mut buf), Ok(0) | Err(_)));
    }
    eventually(WAIT, POLL, || TcpStream::connect(h.addr(0)).is_err());
    // The stream accepted before goes on; other frontends are unaffected.
    assert_eq!(roundtrip(&mut c, b"b\n"), b"b\n");
    let mut o = client(h.addr(1));
    assert_eq!(roundtrip(&mut o, b"o\n"), b"o\n");
}

#[test]
fn on_marked_down_shutdown_sessions_kills_the_down_servers_streams() {
    let echo = TcpServer::echo();
    let silent = FakeUpstream::builder("s1")
        .behavior(Behavior::Silent)
        .start()
        .expect("upstream");
    // The servers' checks connect here; closing it marks them DOWN.
    let chk = TcpListener::bind("127.0.0.1:0").expect("bind");
    let chk_port = chk.local_addr().expect("addr").port();
    let logs = LogSink::new();
    let opts = format!("check port {chk_port} inter 100 fall 1 rise 1");
    let cfg = format!(
        "{}frontend fe_kill\n  bind @BIND@\n  option tcplog\n  default_backend be_kill\n\
         frontend fe_keep\n  bind @BIND@\n  option tcplog\n  default_backend be_keep\n\
         frontend fe_http\n  mode http\n  option httplog\n  bind @BIND@\n  default_backend be_http\n\
         backend be_kill\n  server e1 {e} {opts} on-marked-down shutdown-sessions\n\
         backend be_keep\n  server e1 {e} {opts}\n\
         backend be_http\n  mode http\n  server s1 {s} {opts} on-marked-down shutdown-sessions\n",
        base(logs.port()),
        e = echo.addr(),
        s = silent.addr(),
    );
    let h = Harness::start(&cfg);
    let _health = h.start_health();
    let kill = h.server("be_kill", "e1");
    // Let the first checks pass (the servers start UP, as in HAProxy).
    eventually(WAIT, POLL, || kill.check_status() == CheckStatus::L4Ok);

    let mut k = client(h.addr(0));
    assert_eq!(roundtrip(&mut k, b"k\n"), b"k\n");
    let mut keep = client(h.addr(1));
    assert_eq!(roundtrip(&mut keep, b"p\n"), b"p\n");
    let mut req = send_get(h.addr(2), "/wait");
    eventually(WAIT, POLL, || silent.requests() == 1);

    drop(chk);
    eventually(WAIT, POLL, || kill.op_state() == OpState::Stopped);
    assert!(closed_within(&mut k, WAIT));
    let f = tcplog_fields(&logs.wait_for("be_kill/e1 ", WAIT));
    assert_eq!(f[3..5], ["2", "D-"], "{f:?}");
    assert_eq!(read_all(&mut req), PAGE_502);
    let line = logs.wait_for("\"GET /wait HTTP/1.1\"", WAIT);
    assert!(line.contains(" 502 209 - - DH-- "), "{line}");
    // Without on-marked-down the stream outlives its server's DOWN.
    assert_eq!(h.server("be_keep", "e1").op_state(), OpState::Stopped);
    assert_eq!(roundtrip(&mut keep, b"q\n"), b"q\n");
}

#[test]
fn on_marked_up_shutdown_backup_sessions_kills_backup_streams() {
    let echo = TcpServer::echo();
    let chk = TcpListener::bind("127.0.0.1:0").expect("bind");
    let chk_port = chk.local_addr().expect("addr").port();
    let logs = LogSink::new();
    let cfg = format!(
        "{}frontend fe\n  bind @BIND@\n  option tcplog\n  default_backend be\n\
         backend be\n\
         server a {e} check port {chk_port} inter 100 fall 1 rise 1 on-marked-up shutdown-backup-sessions\n\
         server b {e} backup\n",
        base(logs.port()),
        e = echo.addr(),
    );
    let h = Harness::start(&cfg);
    let _health = h.start_health();
    let a = h.server("be", "a");
    eventually(WAIT, POLL, || a.check_status() == CheckStatus::L4Ok);
    drop(chk);
    eventually(WAIT, POLL, || a.op_state() == OpState::Stopped);
    // With `a` down, new streams go to the backup.
    let mut on_b = client(h.addr(0));
    assert_eq!(roundtrip(&mut on_b, b"b\n"), b"b\n");
    assert_eq!(h.server("be", "b").cur_conns.load(Relaxed), 1);
    // `a` comes back: the backup's streams are shut down (`U-`).
    let _chk = TcpListener::bind(("127.0.0.1", chk_port)).expect("rebind");
    eventually(WAIT, POLL, || a.op_state() == OpState::Running);
    assert!(closed_within(&mut on_b, WAIT));
    let f = tcplog_fields(&logs.wait_for("be/b ", WAIT));
    assert_eq!(f[3..5], ["2", "U-"], "{f:?}");
}
