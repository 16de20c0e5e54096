//! Side by side with the real HAProxy 2.6 (skipped when it is not
//! installed): the same TCP-mode config (seed 002 style: no `mode` line),
//! the same client steps, and the same log lines once client ports, dates
//! and durations are masked.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use common::tcp::{client, closed_port, closed_within, message, roundtrip, LogSink, TcpServer};
use common::Harness;
use switchyard_testkit::{eventually, free_ports, haproxy_available, FakeUpstream, Proxy};

const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);

/// The config with `log_line` as its global log target; frontends bind
/// `ports` in order: fe_echo, fe_http, fe_r, fe_one, fe_nobe, fe_plain, fe_q,
/// and a frontend that does not log (for readiness probes).
fn config(log_line: &str, ports: &[u16], echo: SocketAddr, http: SocketAddr, dead: u16) -> String {
    format!(
        "global\n  {log_line}\n\
         defaults\n  log global\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe_echo\n  bind 127.0.0.1:{p0}\n  option tcplog\n  default_backend be_echo\n\
         frontend fe_http\n  bind 127.0.0.1:{p1}\n  option tcplog\n  default_backend be_http\n\
         frontend fe_r\n  bind 127.0.0.1:{p2}\n  option tcplog\n  default_backend be_r\n\
         frontend fe_one\n  bind 127.0.0.1:{p3}\n  option tcplog\n  default_backend be_one\n\
         frontend fe_nobe\n  bind 127.0.0.1:{p4}\n  option tcplog\n  use_backend be_echo if {{ src 10.0.0.1 }}\n\
         frontend fe_plain\n  bind 127.0.0.1:{p5}\n  default_backend be_echo\n\
         frontend fe_q\n  bind 127.0.0.1:{p6}\n  option tcplog\n  default_backend be_q\n\
         frontend ready\n  bind 127.0.0.1:{p7}\n  no log\n  default_backend be_echo\n\
         backend be_echo\n  balance roundrobin\n  server e1 {echo}\n\
         backend be_http\n  server h1 {http}\n\
         backend be_r\n  option redispatch\n  server bad 127.0.0.1:{dead}\n  server good {echo}\n\
         backend be_one\n  retries 1\n  timeout connect 100ms\n  server bad 127.0.0.1:{dead}\n\
         backend be_q\n  timeout queue 200ms\n  server e1 {echo} maxconn 1\n",
        p0 = ports[0],
        p1 = ports[1],
        p2 = ports[2],
        p3 = ports[3],
        p4 = ports[4],
        p5 = ports[5],
        p6 = ports[6],
        p7 = ports[7],
    )
}

/// Drive the steps against a proxy listening on `ports`; `lines` returns
/// the log messages so far. One step at a time, each waiting for its line.
fn drive(ports: &[u16], lines: &dyn Fn() -> Vec<String>) {
    let at = |i: usize| SocketAddr::from(([127, 0, 0, 1], ports[i]));
    let wait = |n: usize| eventually(WAIT, POLL, || lines().len() >= n);

    let mut c = client(at(0));
    assert_eq!(roundtrip(&mut c, b"hello\n"), b"hello\n");
    drop(c);
    wait(1);

    let req = b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let mut c = client(at(1));
    c.write_all(req).expect("write");
    assert!(closed_within(&mut c, WAIT));
    drop(c);
    wait(2);

    let mut c = client(at(2));
    assert_eq!(roundtrip(&mut c, b"rr\n"), b"rr\n");
    drop(c);
    wait(3);

    let mut c = client(at(3));
    c.write_all(b"x\n").expect("write");
    assert!(closed_within(&mut c, WAIT));
    drop(c);
    wait(4);

    let mut c = client(at(4));
    c.write_all(b"x\n").expect("write");
    assert!(closed_within(&mut c, WAIT));
    drop(c);
    wait(5);

    let mut c = client(at(5));
    assert_eq!(roundtrip(&mut c, b"p\n"), b"p\n");
    wait(6);
    drop(c);

    let mut hold = client(at(6));
    assert_eq!(roundtrip(&mut hold, b"h\n"), b"h\n");
    let mut q = client(at(6));
    assert!(closed_within(&mut q, WAIT));
    drop(q);
    wait(7);
    drop(hold);
    wait(8);
}

/// Mask what differs between runs: the client address, the date, and the
/// durations (keeping whether each timer was reached, and a long queue).
fn mask(msg: &str) -> (String, String) {
    if let Some(rest) = msg.strip_prefix("Connect from ") {
        let fe = rest.rsplit('(').next().unwrap_or("").to_string();
        return (fe.clone(), format!("Connect from C to F ({fe}"));
    }
    let f: Vec<&str> = msg.split(' ').collect();
    if f.len() != 9 {
        return (msg.to_string(), msg.to_string());
    }
    let t: Vec<i64> = f[4].split('/').filter_map(|x| x.parse().ok()).collect();
    assert_eq!(t.len(), 3, "{msg}");
    // -1 (never reached) must match; real durations vary with load.
    let tw = match t[0] {
        -1 => "-1",
        1..=5 => "w",
        _ => "W",
    };
    let tc = if t[1] == -1 { "-1" } else { "c" };
    let timers = format!("{tw}/{tc}/T");
    // After a normal close, whether the server side still counts in
    // %ac/%fc/%bc/%sc depends on which side closed first (haproxy itself
    // varies run to run); keep only the retries there.
    let counts = if f[6] == "--" {
        format!("*/*/*/*/{}", f[7].rsplit('/').next().unwrap_or(""))
    } else {
        f[7].to_string()
    };
    let line = format!(
        "C [D] {} {} {timers} {} {} {counts} {}",
        f[2], f[3], f[5], f[6], f[8]
    );
    (format!("{} {}", f[2], f[3]), line)
}

#[test]
fn tcp_mode_log_lines_match_haproxy() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let echo = TcpServer::echo();
    let http = FakeUpstream::start("h1");
    let dead = closed_port();

    // The oracle.
    let hports = free_ports(8);
    let cfg = config(
        "log stdout format raw local0",
        &hports,
        echo.addr(),
        http.addr(),
        dead,
    );
    let mut ha = Proxy::haproxy(&cfg, &[]).expect("haproxy");
    ha.wait_ready(SocketAddr::from(([127, 0, 0, 1], hports[7])), WAIT);
    let ha_lines = || -> Vec<String> {
        ha.child()
            .stdout_lines()
            .into_iter()
            .filter(|l| l.contains(" fe_") || l.starts_with("Connect from"))
            .collect()
    };
    drive(&hports, &ha_lines);
    let expected: BTreeMap<String, String> = ha_lines().iter().map(|l| mask(l)).collect();
    drop(ha);

    // switchyard.
    let logs = LogSink::new();
    let sports = free_ports(8);
    let cfg = config(
        &format!("log 127.0.0.1:{} local0", logs.port()),
        &sports,
        echo.addr(),
        http.addr(),
        dead,
    );
    let _h = Harness::start(&cfg);
    let sy_lines = || -> Vec<String> {
        logs.lines()
            .iter()
            .map(|l| message(l).to_string())
            .collect()
    };
    drive(&sports, &sy_lines);
    let got: BTreeMap<String, String> = sy_lines().iter().map(|l| mask(l)).collect();

    assert_eq!(got.len(), 8, "{got:#?}");
    assert_eq!(got, expected);
}
