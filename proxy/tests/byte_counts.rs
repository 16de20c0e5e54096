//! `%B` and `%U` side by side with HAProxy 2.6 (skipped when it is not
//! installed). Both count a message's internal (HTX) size: the start line,
//! each header's name and value but not `Connection` (the H1 parser turns it
//! into flags), the body's decoded bytes, and for a chunked body its end
//! block and trailers. The same counts feed `bin`/`bout` in `show stat`.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::tcp::LogSink;
use common::{haproxy_on, read_request_head, serve_each, Harness};
use switchyard_testkit::{eventually, haproxy_available};

fn config(bind: &str, server: SocketAddr, log: u16) -> String {
    format!(
        "defaults\n  mode http\n  log 127.0.0.1:{log} local0\n  log-format \"%ST %B %U %r\"\n\
         timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind {bind}\n  default_backend be\n\
         backend be\n  server s1 {server}\n"
    )
}

/// The server's answer for each path.
fn answer(path: &str) -> &'static [u8] {
    match path {
        "/one" => b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "/two" => b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
        "/trailers" => b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-t: 1\r\nx-longer-trailer:  abcdef \r\n\r\n",
        "/empty" => b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
        _ => b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\nx-kind: length\r\n\r\nhelloworld",
    }
}

/// Reads each request whole (length or chunked, with trailers), answers,
/// and closes.
fn upstream() -> SocketAddr {
    serve_each(|s| {
        let Ok(mut w) = s.try_clone() else { return };
        let mut r = BufReader::new(s);
        let Some((head, cl)) = read_request_head(&mut r) else {
            return;
        };
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            // Up to the blank line after the last chunk and its trailers.
            let mut seen = Vec::new();
            let mut b = [0u8; 1];
            while !(seen.ends_with(b"\r\n\r\n") && seen.windows(3).any(|w| w == b"0\r\n")) {
                if r.read(&mut b).unwrap_or(0) == 0 {
                    return;
                }
                seen.push(b[0]);
            }
        } else {
            let mut body = vec![0u8; cl as usize];
            if r.read_exact(&mut body).is_err() {
                return;
            }
        }
        let path = head.split(' ').nth(1).unwrap_or("/").to_string();
        let _ = w.write_all(answer(&path));
    })
}

/// The requests, raw: each on its own connection, read to its end.
fn requests() -> Vec<&'static [u8]> {
    vec![
        b"GET /one HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        b"GET /two HTTP/1.1\r\nhost: x\r\nuser-agent: t\r\nconnection: close\r\n\r\n",
        b"GET /trailers HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        b"GET /trailers HTTP/1.0\r\nhost: x\r\n\r\n",
        b"GET /empty HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        b"GET /length HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        b"POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
        b"POST /up HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"POST /up HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\nx-rt: 1\r\n\r\n",
    ]
}

/// The log lines of the requests answered (haproxy also logs its
/// readiness probe's empty connection, with status -1 or 400).
fn run(addr: SocketAddr, log: &LogSink) -> Vec<String> {
    let answered = || -> Vec<String> {
        log.lines()
            .into_iter()
            .filter(|l| l.starts_with("200 "))
            .collect()
    };
    for (n, req) in requests().into_iter().enumerate() {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(req).expect("send");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        assert!(
            out.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&out)
        );
        // One log line per request, in order.
        eventually(Duration::from_secs(5), Duration::from_millis(10), || {
            answered().len() > n
        });
    }
    answered()
}

#[test]
fn byte_counts_are_haproxys() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    let up = upstream();
    let (sy_log, ha_log) = (LogSink::new(), LogSink::new());
    let sy = Harness::start(&config("@BIND@", up, sy_log.port()));
    let (_ha, ha_addr) = haproxy_on(&config("@BIND@", up, ha_log.port()));
    let ha_lines = run(ha_addr, &ha_log);
    let sy_lines = run(sy.addr(0), &sy_log);
    assert_eq!(sy_lines, ha_lines);
}
