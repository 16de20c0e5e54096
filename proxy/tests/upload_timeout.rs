//! `timeout server` during a request upload, side by side with HAProxy 2.6
//! (skipped when it is not installed): it counts from the last byte sent
//! to the server, so an upload slower than the timeout but never idle that
//! long succeeds, and one that stalls longer gets the 504 (logged with the
//! time it was answered, not when the client gave up).

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::tcp::LogSink;
use common::{haproxy_on, read_request_head, serve_each, Harness};
use switchyard_testkit::haproxy_available;

/// `timeout server` is 600 ms; the client's gaps are 150 ms (well inside
/// it) or 1.5 s (well past it).
fn config(bind: &str, server: SocketAddr, log: u16) -> String {
    format!(
        "defaults\n  mode http\n  log 127.0.0.1:{log} local0\n  option httplog\n\
         timeout connect 1s\n  timeout client 10s\n  timeout server 600ms\n\
         frontend fe\n  bind {bind}\n  default_backend be\n\
         backend be\n  server s1 {server}\n"
    )
}

/// A server that reads the whole body before it answers.
fn reading_upstream() -> SocketAddr {
    serve_each(|s| {
        let Ok(w) = s.try_clone() else { return };
        let mut r = BufReader::new(s);
        let Some((_, cl)) = read_request_head(&mut r) else {
            return;
        };
        let mut body = vec![0u8; cl as usize];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let mut w = w;
        let _ = w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
    })
}

/// The status line the client gets: `sent` bytes of a `len`-byte body go
/// one per `gap`; the connection stays open `linger` after the answer.
fn upload(addr: SocketAddr, len: usize, gap: Duration, sent: usize, linger: Duration) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let head = format!("POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: {len}\r\n\r\nx");
    s.write_all(head.as_bytes()).expect("head");
    for _ in 1..sent {
        std::thread::sleep(gap);
        if s.write_all(b"x").is_err() {
            break;
        }
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    while !out.windows(2).any(|w| w == b"\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    std::thread::sleep(linger);
    let text = String::from_utf8_lossy(&out);
    text.lines().next().unwrap_or("").to_string()
}

/// `%Ta`, the last of httplog's `TR/Tw/Tc/Tr/Ta`.
fn total_time(line: &str) -> i64 {
    line.split(' ')
        .find(|w| w.split('/').count() == 5 && w.split('/').all(|t| t.parse::<i64>().is_ok()))
        .and_then(|w| w.rsplit('/').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or(-1)
}

#[test]
fn timeout_server_counts_from_the_last_byte_sent() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let up = reading_upstream();
    let (sy_log, ha_log) = (LogSink::new(), LogSink::new());
    let sy = Harness::start(&config("@BIND@", up, sy_log.port()));
    let (_ha, ha_addr) = haproxy_on(&config("@BIND@", up, ha_log.port()));

    let gap = Duration::from_millis(150);
    let linger = Duration::from_millis(1500);
    let runs = [
        ("haproxy", ha_addr, &ha_log),
        ("switchyard", sy.addr(0), &sy_log),
    ];
    for (name, addr, log) in runs {
        // Ten bytes over 1.35 s: longer than `timeout server`, never idle.
        assert_eq!(
            upload(addr, 10, gap, 10, Duration::ZERO),
            "HTTP/1.1 200 OK",
            "{name}: a slow upload that keeps moving"
        );
        // One byte, then nothing: the server side is idle past the timeout.
        // The client holds its connection a while after the answer.
        assert_eq!(
            upload(addr, 10, gap, 1, linger),
            "HTTP/1.1 504 Gateway Time-out",
            "{name}: an upload that stalls"
        );
        // `%Ta` is the time to the 504 (600 ms), though the client never
        // sent the rest of its body.
        let line = log.wait_for(" 504 ", Duration::from_secs(5));
        let ta = total_time(&line);
        assert!((500..1200).contains(&ta), "{name}: Ta {ta} in {line:?}");
    }
}
