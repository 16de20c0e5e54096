//! `Expect: 100-continue` side by side with the real HAProxy 2.6: the
//! expectation goes on to the server, whose interim responses reach the
//! client while it waits to send the body; a final answer without one is
//! the client's cue to skip the body, which is then still drained. What
//! the client gets at each step, and what the server saw (echoed in its
//! answers), must be the same bytes through both proxies.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::{assert_no_differences, haproxy_on, read_request_head, serve_each, Harness};

/// The server: each path answers the expectation its own way, and every
/// final answer says whether the expectation and which body arrived.
fn serve(s: TcpStream) {
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    while let Some((head, cl)) = read_request_head(&mut r) {
        let path = head.split(' ').nth(1).unwrap_or("/").to_string();
        let expect = head
            .to_ascii_lowercase()
            .contains("\r\nexpect: 100-continue\r\n");
        let interim: &[&[u8]] = match path.as_str() {
            "/continue" if expect => &[b"HTTP/1.1 100 Continue\r\n\r\n"],
            "/hints" => &[
                b"HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\n",
                b"HTTP/1.1 100 Continue\r\nx-step: go\r\n\r\n",
            ],
            // An interim head in two segments: not an answer yet.
            "/split" => &[b"HTTP/1.1 100 Con", b"tinue\r\n\r\n"],
            // Sent though nobody asked: the upload must go on.
            "/unasked" => &[b"HTTP/1.1 100 Continue\r\n\r\n"],
            _ => &[],
        };
        for part in interim {
            if w.write_all(part).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(30));
        }
        if path == "/reject" {
            let _ = w.write_all(b"HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\n");
            // The body may follow or not: this connection is done.
            let _ = w.shutdown(Shutdown::Write);
            let _ = r.get_ref().set_read_timeout(Some(Duration::from_secs(2)));
            let mut sink = [0u8; 4096];
            while matches!(r.read(&mut sink), Ok(n) if n > 0) {}
            return;
        }
        let mut body = vec![0u8; cl as usize];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let echo = format!(
            "expect={} body={}",
            if expect { "yes" } else { "no" },
            String::from_utf8_lossy(&body)
        );
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{echo}",
            echo.len()
        );
        if w.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// What the client does: each step writes its bytes, then reads what
/// comes until the connection has been quiet for a while.
struct Case {
    name: &'static str,
    steps: &'static [&'static [u8]],
}

const NEXT: &[u8] = b"GET /next HTTP/1.1\r\nhost: x\r\n\r\n";

const CASES: &[Case] = &[
    Case {
        name: "continue",
        steps: &[
            b"POST /continue HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n",
            b"hello",
            NEXT,
        ],
    },
    Case {
        name: "continue-chunked",
        steps: &[
            b"POST /continue HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nexpect: 100-continue\r\n\r\n",
            b"5\r\nhello\r\n0\r\n\r\n",
            NEXT,
        ],
    },
    Case {
        name: "hints-then-continue",
        steps: &[
            b"POST /hints HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n",
            b"hello",
            NEXT,
        ],
    },
    Case {
        name: "continue-in-two-segments",
        steps: &[
            b"POST /split HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n",
            b"hello",
            NEXT,
        ],
    },
    Case {
        name: "server-silent",
        steps: &[
            b"POST /silent HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n",
            b"hello",
            NEXT,
        ],
    },
    Case {
        name: "rejected-body-sent-anyway",
        steps: &[
            b"POST /reject HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n",
            b"helloGET /next HTTP/1.1\r\nhost: x\r\n\r\n",
        ],
    },
    Case {
        // The next request is taken as the body still owed.
        name: "rejected-body-skipped",
        steps: &[
            b"POST /reject HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n",
            NEXT,
        ],
    },
    Case {
        name: "unasked-continue-mid-upload",
        steps: &[
            b"POST /unasked HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nhello",
            b"world",
            NEXT,
        ],
    },
    Case {
        name: "other-expectation",
        steps: &[
            b"POST /continue HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: something\r\n\r\nhello",
            NEXT,
        ],
    },
];

/// After the first step of `unasked-continue-mid-upload` the client reads
/// nothing: an unasked interim response may come at once or with the final
/// one (the same bytes), as long as the upload goes on.
fn reads_after(case: &Case, step: usize) -> bool {
    !(case.name == "unasked-continue-mid-upload" && step == 0)
}

/// Read until the peer closes or has been quiet for `quiet`.
fn read_quiet(s: &mut TcpStream, quiet: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let mut last = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(20)))
        .expect("timeout");
    while last.elapsed() < quiet {
        match s.read(&mut buf) {
            Ok(0) => {
                out.extend_from_slice(b"<closed>");
                break;
            }
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                last = Instant::now();
            }
            Err(_) => {}
        }
    }
    out
}

fn run(addr: SocketAddr, case: &Case) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut transcript = String::new();
    for (i, step) in case.steps.iter().enumerate() {
        if s.write_all(step).is_err() {
            transcript.push_str("<write failed>");
            break;
        }
        if reads_after(case, i) {
            let got = read_quiet(&mut s, Duration::from_millis(250));
            transcript.push_str(&format!("[{i}] {}\n", String::from_utf8_lossy(&got)));
        } else {
            thread::sleep(Duration::from_millis(100));
        }
    }
    transcript
}

fn config(bind: &str, server: SocketAddr) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 2s\n  timeout server 2s\n\
         frontend fe\n  bind {bind}\n  default_backend be\n\
         backend be\n  server s1 {server}\n"
    )
}

#[test]
fn expect_100_continue_is_answered_by_the_server_as_through_haproxy() {
    let up = serve_each(serve);
    let sy = Harness::start(&config("@BIND@", up));
    let (_ha, ha_addr) = haproxy_on(&config("@BIND@", up));
    let mut diffs = Vec::new();
    for case in CASES {
        let theirs = run(ha_addr, case);
        let ours = run(sy.addr(0), case);
        // A check on the oracle itself: the body reached the server.
        if case.name == "continue" {
            assert!(theirs.contains("expect=yes body=hello"), "{theirs}");
        }
        if ours != theirs {
            diffs.push(format!(
                "{}:\n--- haproxy\n{theirs}--- switchyard\n{ours}",
                case.name
            ));
        }
    }
    assert_no_differences(&diffs);
}

/// curl over cleartext HTTP/2 sends the expectation and waits for the
/// `100` (an HTTP/2 interim HEADERS frame) up to its own timeout, longer
/// than the run's limit: the request only completes if the server's 100
/// is relayed as it comes.
fn curl_h2(addr: SocketAddr, path: &str) -> String {
    let out = std::process::Command::new("curl")
        .args(["-si", "--http2-prior-knowledge", "-m", "5"])
        .args(["--expect100-timeout", "30", "-H", "expect: 100-continue"])
        .args(["--data-binary", "hello", "-H", "content-type:"])
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("curl");
    format!(
        "exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
    )
}

#[test]
fn expect_over_http2_gets_the_servers_interim_responses_as_through_haproxy() {
    let up = serve_each(serve);
    let cfg = config("@BIND@ proto h2", up);
    let sy = Harness::start(&cfg);
    let (_ha, ha_addr) = haproxy_on(&cfg);
    let mut diffs = Vec::new();
    for path in ["/continue", "/hints", "/split"] {
        let theirs = curl_h2(ha_addr, path);
        let ours = curl_h2(sy.addr(0), path);
        assert!(theirs.contains("expect=yes body=hello"), "{theirs}");
        if ours != theirs {
            diffs.push(format!(
                "{path}:\n--- haproxy\n{theirs}--- switchyard\n{ours}"
            ));
        }
    }
    assert_no_differences(&diffs);
}
