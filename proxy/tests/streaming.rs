//! Bodies stream through with flat memory: a 256 MiB upload and a 256 MiB
//! download keep the process's peak RSS far below the body size.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{read_request_head, serve_each, Harness};

const SIZE: u64 = 256 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

fn vm_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// An upstream that counts uploaded bytes (`POST`) or sends SIZE bytes (`GET`).
fn upstream() -> std::net::SocketAddr {
    serve_each(|s| {
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::with_capacity(CHUNK, s);
        while let Some((head, cl)) = read_request_head(&mut r) {
            if head.starts_with("POST") {
                let mut left = cl;
                let mut buf = vec![0u8; CHUNK];
                while left > 0 {
                    let n = r
                        .read(&mut buf[..(left.min(CHUNK as u64) as usize)])
                        .expect("read");
                    assert!(n > 0);
                    left -= n as u64;
                }
                let body = cl.to_string();
                let _ = write!(
                    w,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            } else {
                let _ = write!(w, "HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\n\r\n");
                let buf = vec![b'z'; CHUNK];
                let mut left = SIZE;
                while left > 0 {
                    let n = left.min(CHUNK as u64) as usize;
                    if w.write_all(&buf[..n]).is_err() {
                        return;
                    }
                    left -= n as u64;
                }
            }
        }
    })
}

#[test]
fn large_upload_and_download_keep_memory_flat() {
    let up = upstream();
    let h = Harness::start(&format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n\
         frontend fe\n  bind @BIND@\n  default_backend be\n\
         backend be\n  server s1 {up}\n"
    ));
    let base = vm_kib("VmRSS:");

    // Upload.
    let mut s = TcpStream::connect(h.addr(0)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("t");
    write!(
        s,
        "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {SIZE}\r\n\r\n"
    )
    .expect("head");
    let buf = vec![b'u'; CHUNK];
    let mut left = SIZE;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        s.write_all(&buf[..n]).expect("body");
        left -= n as u64;
    }
    let (head, body) = common::read_one(&mut s);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(String::from_utf8_lossy(&body), SIZE.to_string());

    // Download on the same connection.
    s.write_all(b"GET /down HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("get");
    let mut r = BufReader::with_capacity(CHUNK, s);
    let mut line = String::new();
    let mut cl = 0u64;
    loop {
        line.clear();
        r.read_line(&mut line).expect("head line");
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.strip_prefix("content-length:") {
            cl = v.trim().parse().expect("cl");
        }
    }
    assert_eq!(cl, SIZE);
    let mut got = 0u64;
    let mut b = vec![0u8; CHUNK];
    while got < SIZE {
        let n = r.read(&mut b).expect("read");
        assert!(n > 0, "eof after {got}");
        got += n as u64;
    }
    assert_eq!(got, SIZE);

    let peak = vm_kib("VmHWM:");
    let growth_mib = peak.saturating_sub(base) / 1024;
    assert!(
        growth_mib < 48,
        "peak RSS grew by {growth_mib} MiB moving 2x{} MiB",
        SIZE >> 20
    );
}
