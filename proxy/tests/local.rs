//! Replies the proxy makes itself: http-request return/deny/redirect,
//! monitor-uri, the stats page and use-service; and their log lines.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{raw, Harness};
use switchyard_testkit::FakeUpstream;

fn text(b: Vec<u8>) -> String {
    String::from_utf8_lossy(&b).into_owned()
}

fn get(h: &Harness, path: &str) -> String {
    text(raw(
        h.addr(0),
        format!("GET {path} HTTP/1.1\r\nHost: h.example\r\n\r\n").as_bytes(),
        Duration::from_millis(250),
    ))
}

fn cfg(logport: u16, up: &FakeUpstream) -> String {
    format!(
        "global\n  log 127.0.0.1:{logport} local0\n\
         defaults\n  mode http\n  log global\n  option httplog\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n  monitor-uri /mon\n  stats enable\n  stats uri /stats\n\
         http-request return status 201 content-type text/plain string \"pong\\n\" hdr X-A 1 hdr x-b %[path] if {{ path /ret }}\n\
         http-request return status 204 if {{ path /empty }}\n\
         http-request deny if {{ path /deny }}\n\
         http-request deny deny_status 429 if {{ path /deny429 }}\n\
         http-request redirect location /new if {{ path /redir }}\n\
         http-request redirect prefix /pre code 301 if {{ path_beg /pfx }}\n\
         http-request redirect scheme https if {{ path /sch }}\n\
         http-request set-log-level silent if {{ path /quiet }}\n\
         http-request use-service prometheus-exporter if {{ path /metrics }}\n\
         default_backend be\n\
         backend be\n  server s1 {}\n",
        up.addr()
    )
}

fn logs(sock: &UdpSocket) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = sock.recv(&mut buf) {
        out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    out
}

#[test]
fn local_replies_match_haproxy() {
    let up = FakeUpstream::start("s1");
    let sock = UdpSocket::bind("127.0.0.1:0").expect("udp");
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("t");
    let h = Harness::start(&cfg(sock.local_addr().expect("addr").port(), &up));

    assert_eq!(get(&h, "/ret"), "HTTP/1.1 201 Created\r\nx-a: 1\r\nx-b: /ret\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\npong\n");
    assert_eq!(get(&h, "/empty"), "HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(get(&h, "/deny"), "HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n");
    assert_eq!(get(&h, "/deny429"), "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n");
    assert_eq!(get(&h, "/redir"), "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: no-cache\r\n\r\n");
    assert_eq!(
        get(&h, "/pfx/a?q=1"),
        "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /pre/pfx/a?q=1\r\n\r\n"
    );
    assert_eq!(get(&h, "/sch"), "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://h.example/sch\r\ncache-control: no-cache\r\n\r\n");
    assert_eq!(get(&h, "/mon"), "HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n");
    let stats = get(&h, "/stats;csv");
    assert!(
        stats.starts_with("HTTP/1.1 200 OK\r\n")
            && stats.ends_with("stats for /stats;csv admin=false"),
        "{stats}"
    );
    let m = get(&h, "/metrics");
    assert!(m.ends_with("\r\n\r\n# metrics\n"), "{m}");
    assert!(get(&h, "/quiet").starts_with("HTTP/1.1 200 OK"));
    assert!(get(&h, "/x").starts_with("HTTP/1.1 200 OK"));

    let lines = logs(&sock);
    let find = |p: &str| {
        lines
            .iter()
            .find(|l| l.contains(&format!("\"GET {p} HTTP/1.1\"")))
            .cloned()
    };
    let ret = find("/ret").expect("/ret logged");
    assert!(ret.starts_with("<134>"), "{ret}");
    assert!(ret.contains(" fe fe/<NOSRV> 0/-1/-1/-1/"), "{ret}");
    assert!(ret.contains(" 201 92 - - LR-- "), "{ret}");
    assert!(find("/deny").expect("deny").contains(" 403 192 - - PR-- "));
    assert!(find("/stats;csv").expect("stats").contains(" fe/<STATS> "));
    let ok = find("/x").expect("/x logged");
    assert!(ok.contains(" fe be/s1 0/0/"), "{ok}");
    assert!(ok.contains(" 200 ") && ok.contains(" - - ---- "), "{ok}");
    assert!(find("/mon").is_none(), "monitor-uri is never logged");
    assert!(find("/quiet").is_none(), "set-log-level silent");
}

#[test]
fn empty_connections_are_logged_unless_dontlognull() {
    let up = FakeUpstream::start("s1");
    let sock = UdpSocket::bind("127.0.0.1:0").expect("udp");
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("t");
    let port = sock.local_addr().expect("addr").port();
    let h = Harness::start(&cfg(port, &up));
    drop(std::net::TcpStream::connect(h.addr(0)).expect("connect"));
    let l = logs(&sock);
    assert!(
        l.iter()
            .any(|l| l.contains(" 400 0 - - CR-- ") && l.ends_with("\"<BADREQ>\"\n")),
        "{l:?}"
    );
    drop(h);
    let h = Harness::start(
        &cfg(port, &up).replace("option httplog", "option httplog\n  option dontlognull"),
    );
    drop(std::net::TcpStream::connect(h.addr(0)).expect("connect"));
    assert!(logs(&sock).is_empty());
}
