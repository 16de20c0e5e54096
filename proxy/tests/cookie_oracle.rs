//! Cookie persistence's header rewrites side by side with the real
//! HAProxy 2.6 (skipped when it is not installed): for each `cookie` mode,
//! the request the server gets (its `Cookie` lines rewritten or dropped)
//! and the response the client gets (`Set-Cookie` rewritten or added) must
//! be the same bytes, header order included, and the log's cookie flags
//! (`%tsc`) the same.

mod common;

use std::io::{BufReader, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::tcp::LogSink;
use common::{
    assert_no_differences, group_same_names, haproxy_on, raw, read_request_head, serve_each,
    Harness,
};
use switchyard_testkit::{eventually, haproxy_available};

/// Records each request head and answers with a `Set-Cookie` between
/// other headers.
fn upstream(seen: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    serve_each(move |s| {
        let Ok(mut w) = s.try_clone() else { return };
        let mut r = BufReader::new(s);
        while let Some((head, _)) = read_request_head(&mut r) {
            if let Ok(mut v) = seen.lock() {
                v.push(head);
            }
            let answer = b"HTTP/1.1 200 OK\r\nx-a: 1\r\nset-cookie: SRV=app; path=/\r\nset-cookie: o=2\r\nx-b: 2\r\ncontent-length: 2\r\n\r\nok";
            if w.write_all(answer).is_err() {
                return;
            }
        }
    })
}

fn config(bind: &str, server: SocketAddr, mode: &str, log: u16) -> String {
    format!(
        "defaults\n  mode http\n  log 127.0.0.1:{log} local0\n  log-format \"%tsc %r\"\n\
         timeout connect 1s\n  timeout client 2s\n  timeout server 2s\n\
         frontend fe\n  bind {bind}\n  default_backend be\n\
         backend be\n  cookie SRV {mode}\n  server s1 {server} cookie s1\n"
    )
}

#[test]
fn cookie_rewrites_keep_header_order_as_haproxy() {
    if !haproxy_available() {
        eprintln!("haproxy not installed: skipped");
        return;
    }
    const MODES: &[&str] = &[
        "prefix",
        "rewrite",
        "insert",
        "insert indirect nocache",
        "insert preserve",
        "indirect",
        "",
        "insert indirect preserve httponly",
    ];
    const COOKIES: &[&str] = &[
        "cookie: SRV=s1~abc; o=1\r\nx-c: 3",
        "cookie: o=1; SRV=s1\r\nx-c: 3\r\ncookie: p=2",
        "cookie: SRV=s1\r\nx-c: 3",
        "x-c: 3\r\ncookie: q=1",
    ];
    // Several lines of these names (see `group_same_names`).
    let repeated = ["cookie".to_string(), "set-cookie".to_string()];
    let mut diffs = Vec::new();
    for mode in MODES {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let up = upstream(seen.clone());
        let (sy_log, ha_log) = (LogSink::new(), LogSink::new());
        let sy = Harness::start(&config("@BIND@", up, mode, sy_log.port()));
        let (_ha, ha_addr) = haproxy_on(&config("@BIND@", up, mode, ha_log.port()));
        for (n, cookie) in COOKIES.iter().enumerate() {
            let req = format!(
                "GET / HTTP/1.1\r\nhost: x\r\n{cookie}\r\nx-d: 4\r\nconnection: close\r\n\r\n"
            );
            let got = [(sy.addr(0), &sy_log), (ha_addr, &ha_log)].map(|(addr, log)| {
                if let Ok(mut v) = seen.lock() {
                    v.clear();
                }
                let client =
                    String::from_utf8_lossy(&raw(addr, req.as_bytes(), Duration::from_secs(3)))
                        .into_owned();
                let server = seen.lock().map(|v| v.join("|")).unwrap_or_default();
                // This request's log line (haproxy also logs its readiness
                // probe's empty connection).
                let logged = || -> Vec<String> {
                    log.lines()
                        .into_iter()
                        .filter(|l| l.contains("GET / "))
                        .collect()
                };
                eventually(Duration::from_secs(5), Duration::from_millis(10), || {
                    logged().len() > n
                });
                let flags = logged().pop().unwrap_or_default();
                (
                    group_same_names(&client, &repeated),
                    group_same_names(&server, &repeated),
                    flags,
                )
            });
            if got[0] != got[1] {
                diffs.push(format!(
                    "{mode} / {cookie:?}:\n  switchyard {:?}\n  haproxy    {:?}",
                    got[0], got[1]
                ));
            }
        }
    }
    assert_no_differences(&diffs);
}
