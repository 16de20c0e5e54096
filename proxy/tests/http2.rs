//! HTTP/2 from clients, side by side with the real HAProxy 2.6 (skipped
//! when it is not installed): `curl` over TLS with ALPN h2, over cleartext
//! with prior knowledge (on an HTTP/1 bind and on `proto h2`), through a
//! map-routed `use_backend`, with request bodies, an error page and a
//! chunked response. What the client gets (version, status, headers, body),
//! what the servers receive and the log lines must be the same through
//! both proxies.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use common::serve_each;
use common::tcp::LogSink;
use common::tls::Pki;
use common::Harness;
use switchyard_testkit::{eventually, free_ports, haproxy_available, Proxy};

const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);

fn curl_available() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("nghttp2"))
        .unwrap_or(false)
}

/// A server that answers each request with the head it received and the
/// length of its body, with connection-level fields HTTP/2 must not carry
/// (`connection`, `keep-alive`); `/chunked` is answered in chunks.
fn echo_upstream(name: &'static str) -> SocketAddr {
    serve_each(move |s| {
        let Ok(w) = s.try_clone() else { return };
        let mut w = w;
        let mut r = BufReader::new(s);
        while let Some((head, body)) = read_request(&mut r) {
            let text = format!("{head}--body {}\n", body.len());
            let answer = if head.starts_with("GET /large ") {
                // Larger than HTTP/2's initial windows (65535 bytes).
                let body = "0123456789abcdef".repeat(20_000);
                format!(
                    "HTTP/1.1 200 OK\r\nx-up: {name}\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )
            } else if head.starts_with("GET /chunked ") {
                let (a, b) = text.split_at(text.len() / 2);
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-up: {name}\r\n\
                     transfer-encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                    a.len(),
                    b.len()
                )
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-up: {name}\r\n\
                     connection: keep-alive\r\nkeep-alive: timeout=5\r\n\
                     content-length: {}\r\n\r\n{text}",
                    text.len()
                )
            };
            if w.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    })
}

/// One request: its head as text and its body (length or chunked).
fn read_request(r: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let lower = head.to_ascii_lowercase();
    let mut body = Vec::new();
    if lower.contains("transfer-encoding: chunked") {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0u8; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(cl) = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        body.resize(cl, 0);
        r.read_exact(&mut body).ok()?;
    }
    Some((head, body))
}

/// The ports of one proxy's binds: TLS with ALPN, clear HTTP/1, `proto h2`.
struct Ports {
    tls: u16,
    clear: u16,
    h2: u16,
}

fn config(log: u16, p: &Ports, pem: &str, map: &str, one: SocketAddr, two: SocketAddr) -> String {
    format!(
        "global\n  log 127.0.0.1:{log} local0\n\
         defaults\n  mode http\n  log global\n  option httplog\n\
           timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{} ssl crt {pem} alpn h2,http/1.1\n\
           bind 127.0.0.1:{}\n  bind 127.0.0.1:{} proto h2\n\
           use_backend %[req.hdr(host),lower,map({map},be_one)]\n\
         backend be_one\n  server s1 {one}\n\
         backend be_two\n  server s2 {two}\n\
         backend be_none\n",
        p.tls, p.clear, p.h2
    )
}

/// `curl` with the response head, body and `=> <version> <status>`.
fn curl(args: &[String]) -> String {
    let out = Command::new("curl")
        .args(["-s", "-k", "--max-time", "10", "-D", "-"])
        .args(["-w", "\n=> %{http_version} %{http_code}"])
        .args(args)
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The cases: what curl is given, `{tls}`, `{clear}` and `{h2}` standing
/// for the ports.
fn cases(big: &str) -> Vec<(&'static str, Vec<String>)> {
    let c = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (
            "tls-get",
            c(&[
                "--http2",
                "-H",
                "Host: a.test",
                "https://127.0.0.1:{tls}/x?q=1",
            ]),
        ),
        (
            "tls-post-mapped",
            c(&[
                "--http2",
                "-H",
                "Host: B.test",
                "-d",
                "hello=world",
                "https://127.0.0.1:{tls}/p",
            ]),
        ),
        (
            "tls-post-100k",
            c(&[
                "--http2",
                "-H",
                "Host: b.test",
                "-H",
                "content-type: application/octet-stream",
                "--data-binary",
                &format!("@{big}"),
                "https://127.0.0.1:{tls}/big",
            ]),
        ),
        (
            "tls-no-server-503",
            c(&[
                "--http2",
                "-H",
                "Host: none.test",
                "https://127.0.0.1:{tls}/d",
            ]),
        ),
        (
            "tls-chunked-response",
            c(&[
                "--http2",
                "-H",
                "Host: a.test",
                "https://127.0.0.1:{tls}/chunked",
            ]),
        ),
        (
            "tls-large-response",
            c(&[
                "--http2",
                "-H",
                "Host: a.test",
                "https://127.0.0.1:{tls}/large",
            ]),
        ),
        (
            "clear-large-response",
            c(&[
                "--http2-prior-knowledge",
                "-H",
                "Host: a.test",
                "http://127.0.0.1:{clear}/large",
            ]),
        ),
        (
            "tls-head",
            c(&[
                "--http2",
                "-I",
                "-H",
                "Host: a.test",
                "https://127.0.0.1:{tls}/h",
            ]),
        ),
        (
            "tls-chunked-http11",
            c(&[
                "--http1.1",
                "-H",
                "Host: a.test",
                "https://127.0.0.1:{tls}/chunked",
            ]),
        ),
        (
            "tls-http11",
            c(&[
                "--http1.1",
                "-H",
                "Host: a.test",
                "https://127.0.0.1:{tls}/one",
            ]),
        ),
        (
            "clear-prior-knowledge",
            c(&[
                "--http2-prior-knowledge",
                "-H",
                "Host: a.test",
                "http://127.0.0.1:{clear}/y",
            ]),
        ),
        (
            "clear-http11",
            c(&["-H", "Host: a.test", "http://127.0.0.1:{clear}/plain"]),
        ),
        (
            "proto-h2",
            c(&[
                "--http2-prior-knowledge",
                "-H",
                "Host: b.test",
                "http://127.0.0.1:{h2}/z",
            ]),
        ),
        (
            "proto-h2-refuses-http11",
            c(&["-H", "Host: a.test", "http://127.0.0.1:{h2}/w"]),
        ),
    ]
}

/// A response's head lines sorted, then its body.
fn sorted_head(r: &str) -> String {
    let (head, body) = r.split_once("\r\n\r\n").unwrap_or((r, ""));
    let mut lines: Vec<&str> = head.split("\r\n").collect();
    lines.sort_unstable();
    format!("{}\n\n{body}", lines.join("\n"))
}

/// Mask what varies between runs: client port, date, timers.
fn mask(line: &str) -> String {
    line.split(' ')
        .enumerate()
        .map(|(i, w)| match i {
            0 => "C",
            1 => "[D]",
            4 => "T",
            _ => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run every case against one proxy: each case's curl output and the log
/// lines, in order.
fn drive(p: &Ports, logs: &LogSink, big: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut out = Vec::new();
    for (n, (name, args)) in cases(big).into_iter().enumerate() {
        let args: Vec<String> = args
            .into_iter()
            .map(|a| {
                a.replace("{tls}", &p.tls.to_string())
                    .replace("{clear}", &p.clear.to_string())
                    .replace("{h2}", &p.h2.to_string())
            })
            .collect();
        out.push((name.to_string(), curl(&args)));
        // One log line per case, in order.
        eventually(WAIT, POLL, || {
            logs.lines()
                .iter()
                .filter(|l| !l.contains(" CR-- "))
                .count()
                > n
        });
    }
    // haproxy logs the readiness probe's empty connection.
    let lines = logs
        .lines()
        .iter()
        .filter(|l| !l.contains(" CR-- "))
        .map(|l| mask(l))
        .collect();
    (out, lines)
}

#[test]
fn http2_clients_get_what_haproxy_gives() {
    if !haproxy_available() || !curl_available() {
        eprintln!("haproxy or curl with HTTP/2 not installed: skipped");
        return;
    }
    let pki = Pki::new();
    let (pem, _) = pki.write_leaf("site.pem", &["a.test"]);
    let pem = pem.display().to_string();
    let map = pki.path("hosts.map");
    std::fs::write(&map, "b.test be_two\nnone.test be_none\n").expect("map");
    let map = map.display().to_string();
    let big = pki.path("big.bin");
    std::fs::write(&big, vec![b'x'; 100_000]).expect("big");
    let big = big.display().to_string();
    let (one, two) = (echo_upstream("one"), echo_upstream("two"));

    let run = |start: &dyn Fn(&str, &Ports) -> Box<dyn std::any::Any>| {
        let logs = LogSink::new();
        let f = free_ports(3);
        let ports = Ports {
            tls: f[0],
            clear: f[1],
            h2: f[2],
        };
        let cfg = config(logs.port(), &ports, &pem, &map, one, two);
        let guard = start(&cfg, &ports);
        let got = drive(&ports, &logs, &big);
        drop(guard);
        got
    };
    let expected = run(&|cfg, p| {
        let mut ha = Proxy::haproxy(cfg, &[]).expect("haproxy");
        ha.wait_ready(SocketAddr::from(([127, 0, 0, 1], p.clear)), WAIT);
        Box::new(ha)
    });
    let got = run(&|cfg, _| Box::new(Harness::start(cfg)));

    // What the cases show, whoever answers.
    let by_name = |n: &str| {
        got.0
            .iter()
            .find(|c| c.0 == n)
            .map(|c| c.1.clone())
            .unwrap_or_default()
    };
    assert!(
        by_name("tls-get").ends_with("=> 2 200"),
        "{}",
        by_name("tls-get")
    );
    assert!(by_name("tls-get").contains("GET /x?q=1 HTTP/1.1\r\nhost: a.test\r\n"));
    assert!(!by_name("tls-get").contains("keep-alive: timeout"));
    assert!(by_name("tls-post-mapped").contains("x-up: two"));
    assert!(by_name("tls-post-100k").contains("--body 100000"));
    assert!(by_name("tls-no-server-503").ends_with("=> 2 503"));
    assert!(by_name("tls-large-response").contains(&"0123456789abcdef".repeat(20_000)));
    assert!(by_name("clear-prior-knowledge").ends_with("=> 2 200"));
    assert!(by_name("proto-h2").ends_with("=> 2 200"));
    assert!(by_name("proto-h2-refuses-http11").ends_with("=> 0 000"));
    assert!(got
        .1
        .iter()
        .any(|l| l.ends_with("\"GET https://a.test/x?q=1 HTTP/2.0\"")));

    for (a, b) in got.0.iter().zip(expected.0.iter()) {
        if a.0.ends_with("http11") {
            // HTTP/1 is another test's business (switchyard's HTTP/1
            // writer orders the server's fields a little differently).
            assert_eq!(sorted_head(&a.1), sorted_head(&b.1), "case {}", a.0);
        } else {
            assert_eq!(a, b, "case {}", a.0);
        }
    }
    // The last case's connection is refused while haproxy may not yet have
    // seen the one before it close: its connection counts vary.
    let steady = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                if !l.contains("<BADREQ>") {
                    return l.clone();
                }
                l.split(' ')
                    .map(|w| {
                        let counts = w.split('/').count() == 5
                            && w.split('/').all(|n| n.bytes().all(|b| b.is_ascii_digit()));
                        if counts {
                            "<counts>"
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(steady(&got.1), steady(&expected.1), "log lines");
}

/// Prior knowledge on an HTTP/1 bind: only the whole preface switches to
/// HTTP/2 (as HAProxy's H1 mux decides), even when it comes in pieces; not
/// with `option disable-h2-upgrade` nor on `proto h1` (checked against
/// haproxy 2.6).
#[test]
fn a_bad_preface_is_an_http1_request_and_a_good_one_speaks_h2() {
    let up = echo_upstream("one");
    let cfg = format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 2s\n  timeout server 2s\n\
         frontend fe\n  bind @BIND@\n  default_backend be\n\
         frontend off\n  bind @BIND@\n  option disable-h2-upgrade\n  default_backend be\n\
         frontend h1\n  bind @BIND@ proto h1\n  default_backend be\n\
         backend be\n  server s1 {up}\n"
    );
    let h = Harness::start(&cfg);
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let settings: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];
    let mut hello = PREFACE.to_vec();
    hello.extend_from_slice(settings);

    // The preface: a SETTINGS frame back.
    let got = common::raw(h.addr(0), &hello, Duration::from_millis(300));
    assert_eq!(got.get(3), Some(&4), "a SETTINGS frame: {got:?}");
    // The preface in pieces is still the preface.
    let mut s = TcpStream::connect(h.addr(0)).expect("connect");
    s.write_all(&hello[..5]).expect("w");
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(&hello[5..]).expect("w");
    s.set_read_timeout(Some(WAIT)).expect("t");
    let mut frame = [0u8; 9];
    s.read_exact(&mut frame).expect("settings");
    assert_eq!(frame[3], 4);
    // Not quite the preface: HTTP/1's answer.
    let got = common::raw(
        h.addr(0),
        b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",
        Duration::from_millis(300),
    );
    assert!(got.starts_with(b"HTTP/1.1 400 "), "{got:?}");
    // Not taken with `option disable-h2-upgrade` or on `proto h1`.
    for i in [1, 2] {
        let got = common::raw(h.addr(i), &hello, Duration::from_millis(300));
        assert!(got.starts_with(b"HTTP/1.1 400 "), "{i}: {got:?}");
    }
}
