//! Server `maxconn 1` with queueing: three concurrent slow requests against one server.
//! Against switchyard and (the baseline) the real HAProxy 2.6 on the same config; the
//! expectations below are what HAProxy 2.6.12 answers (captured from it, and checked again
//! by the `_haproxy` tests on every run):
//!
//! - **Queue timeout** (non-persistent requests wait in the *backend* queue, which
//!   `maxqueue` does not bound): the first request is served; the other two wait
//!   `timeout queue 1s` and get the 503 page. `show stat` shows qcur 2 on the BACKEND row
//!   while they wait, and qmax 2 afterwards; the server row's queue stays empty.
//! - **Full queue** (requests persistent by cookie wait in the *server* queue, bounded by
//!   `maxqueue 1`): the first is served, the second waits in the server queue and times
//!   out with a 503, the third finds the queue full and gets the 503 page at once.
//!   `show stat`: qcur 1 on the server row while waiting, qmax 1 afterwards.
//!
//! Reproduce by hand: `cargo test -p switchyard --test pools_queue -- --nocapture`.

mod pools_support;

use pools_support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const CONFIG: &str = "\
global
    stats socket ipv4@127.0.0.1:@CLI@ level admin

defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout queue 1s

frontend fe_timeout
    bind 127.0.0.1:@FE@
    default_backend be_timeout

frontend fe_full
    bind 127.0.0.1:@FEFULL@
    default_backend be_full

backend be_timeout
    balance roundrobin
    server s1 127.0.0.1:@S@ maxconn 1 maxqueue 1

backend be_full
    balance roundrobin
    cookie SRV insert indirect nocache
    server s1 127.0.0.1:@S@ maxconn 1 maxqueue 1 cookie s1
";

/// HAProxy's 503 page, byte for byte (head and body).
const PAGE_503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-length: 107\r\n\
cache-control: no-cache\r\n\
content-type: text/html\r\n\
\r\n\
<html><body><h1>503 Service Unavailable</h1>\n\
No server is available to handle this request.\n\
</body></html>\n";

/// Slower than the queue timeout, so the queued requests time out before a slot frees.
const SLOW_PATH: &str = "/delay/2000";

/// One request on its own connection: the raw response and when it was complete.
struct Answer {
    raw: Vec<u8>,
    elapsed: Duration,
    done: Instant,
}

impl Answer {
    fn status(&self) -> u16 {
        std::str::from_utf8(self.raw.get(9..12).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// Sends `GET path` (with the cookie, if any) and reads one whole response, raw.
fn send(port: u16, cookie: Option<&str>) -> JoinHandle<Result<Answer, String>> {
    let cookie = cookie.map(str::to_owned);
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let mut req = format!("GET {SLOW_PATH} HTTP/1.1\r\nHost: pools.test\r\n");
        if let Some(c) = cookie {
            req.push_str(&format!("Cookie: {c}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(total) = complete_len(&buf) {
                buf.truncate(total);
                break;
            }
            let n = s
                .read(&mut chunk)
                .map_err(|e| format!("{e} after {:?}", String::from_utf8_lossy(&buf)))?;
            if n == 0 {
                return Err(format!("closed after {:?}", String::from_utf8_lossy(&buf)));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok(Answer {
            raw: buf,
            elapsed: start.elapsed(),
            done: Instant::now(),
        })
    })
}

/// Length of the first complete response in `buf` (head + Content-Length body), if any.
fn complete_len(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (buf.len() >= head_end + len).then_some(head_end + len)
}

fn join(h: JoinHandle<Result<Answer, String>>, label: &str, which: &str) -> Answer {
    match h.join() {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => panic!("{label}: {which}: {e}"),
        Err(_) => panic!("{label}: {which}: client thread panicked"),
    }
}

/// (qcur, qmax) of the server and BACKEND rows of `backend`.
fn queues(stat: &Stat, backend: &str) -> [(Option<u64>, Option<u64>); 2] {
    ["s1", "BACKEND"].map(|row| {
        (
            stat.num(backend, row, "qcur"),
            stat.num(backend, row, "qmax"),
        )
    })
}

fn queued_total(lab: &Lab, backend: &str) -> u64 {
    lab.try_stat()
        .map(|s| {
            queues(&s, backend)
                .iter()
                .map(|(cur, _)| cur.unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// What one sub-scenario must show.
struct Expect {
    frontend: &'static str,
    backend: &'static str,
    cookie: Option<&'static str>,
    /// (server, BACKEND) (qcur, qmax) while the requests wait.
    waiting: [(Option<u64>, Option<u64>); 2],
    /// The same after every answer.
    after: [(Option<u64>, Option<u64>); 2],
    /// True if the third request is refused at once (full server queue).
    third_refused_at_once: bool,
}

fn three_slow_requests(lab: &Lab, port: u16, e: &Expect) {
    let label = format!("{} {}", lab.label(), e.backend);
    let (fe, be) = (e.frontend, e.backend);
    // One at a time, each seen by the proxy before the next, so the order is certain.
    let first = send(port, e.cookie);
    tk::eventually_named(&format!("{label}: first request at s1"), WAIT, POLL, || {
        lab.try_stat().and_then(|s| s.num(be, "s1", "scur")) == Some(1)
    });
    let second = send(port, e.cookie);
    let second_sent = Instant::now();
    tk::eventually_named(
        &format!("{label}: second request queued"),
        WAIT,
        POLL,
        || queued_total(lab, be) == 1,
    );
    // HAProxy counts a bare connect (the readiness probe) in req_tot too: count from here.
    let before = lab.requests(fe);
    let third = send(port, e.cookie);
    tk::eventually_named(
        &format!("{label}: third request received"),
        WAIT,
        POLL,
        || match lab.requests(fe) {
            n if n > before => Ok(()),
            n => Err(format!("req_tot {n}")),
        },
    );
    // While the second still waits (its queue timeout runs until second_sent + 1 s).
    let deadline = second_sent + Duration::from_millis(900);
    let mut seen;
    loop {
        let stat = lab.stat();
        seen = queues(&stat, be);
        if seen == e.waiting || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(POLL);
    }
    assert_eq!(
        seen, e.waiting,
        "{label}: (qcur, qmax) of [s1, BACKEND] while requests wait"
    );
    let first = join(first, &label, "first");
    let second = join(second, &label, "second");
    let third = join(third, &label, "third");
    eprintln!(
        "[{label}] first {} after {:?}, second {} after {:?}, third {} after {:?}",
        first.status(),
        first.elapsed,
        second.status(),
        second.elapsed,
        third.status(),
        third.elapsed
    );
    assert_eq!(
        (first.status(), second.status(), third.status()),
        (200, 503, 503),
        "{label}: statuses\nfirst:\n{}\nsecond:\n{}\nthird:\n{}",
        first.text(),
        second.text(),
        third.text()
    );
    let head = first.text();
    assert!(
        head.to_ascii_lowercase().contains("\r\nx-served-by: s\r\n"),
        "{label}: first answered by the upstream s:\n{head}"
    );
    for (which, a) in [("second", &second), ("third", &third)] {
        assert_eq!(
            a.text(),
            String::from_utf8_lossy(PAGE_503),
            "{label}: the {which} request's 503 must be HAProxy's page, byte for byte"
        );
    }
    // The queued request waited its whole queue timeout, and no slot was given to it.
    assert!(
        second.elapsed >= Duration::from_millis(950),
        "{label}: second answered after {:?}, before `timeout queue 1s`",
        second.elapsed
    );
    assert!(
        second.done < first.done,
        "{label}: the queued request must time out before the slow one ends"
    );
    if e.third_refused_at_once {
        assert!(
            third.done < second.done && third.elapsed < Duration::from_millis(900),
            "{label}: with the server queue full the third must be refused at once, got it after {:?}",
            third.elapsed
        );
    } else {
        assert!(
            third.elapsed >= Duration::from_millis(950) && third.done < first.done,
            "{label}: the third must wait its queue timeout too, got it after {:?}",
            third.elapsed
        );
    }
    let stat = lab.stat();
    assert_eq!(
        queues(&stat, be),
        e.after,
        "{label}: (qcur, qmax) of [s1, BACKEND] after\n{}",
        stat.raw
    );
    let counts = [
        stat.num(be, "s1", "qlimit"),
        stat.num(be, "s1", "stot"),
        stat.num(be, "s1", "hrsp_2xx"),
        stat.num(be, "BACKEND", "hrsp_5xx"),
        stat.num(fe, "FRONTEND", "hrsp_5xx"),
    ];
    assert_eq!(
        counts,
        [Some(1), Some(1), Some(1), Some(2), Some(2)],
        "{label}: [s1 qlimit, s1 stot, s1 hrsp_2xx, BACKEND hrsp_5xx, FRONTEND hrsp_5xx]\n{}",
        stat.raw
    );
}

fn queue_timeout_and_full_queue(target: Target) {
    let _serial = serial();
    let _timer = Timer::start(&format!("queue / {}", target.label()));
    let s = Upstream::start("s", &[]);
    let port_full = tk::free_port();
    let cfg = CONFIG.replace("@FEFULL@", &port_full.to_string());
    let lab = Lab::start(target, &cfg, &[&s]);
    assert!(tk::wait_for_port(tk::loopback(port_full), WAIT));
    three_slow_requests(
        &lab,
        lab.port,
        &Expect {
            frontend: "fe_timeout",
            backend: "be_timeout",
            cookie: None,
            waiting: [(Some(0), Some(0)), (Some(2), Some(2))],
            after: [(Some(0), Some(0)), (Some(0), Some(2))],
            third_refused_at_once: false,
        },
    );
    three_slow_requests(
        &lab,
        port_full,
        &Expect {
            frontend: "fe_full",
            backend: "be_full",
            cookie: Some("SRV=s1"),
            waiting: [(Some(1), Some(1)), (Some(0), Some(0))],
            after: [(Some(0), Some(1)), (Some(0), Some(0))],
            third_refused_at_once: true,
        },
    );
}

#[test]
fn queue_timeout_and_full_queue_answers_switchyard() {
    queue_timeout_and_full_queue(Target::Switchyard);
}

#[test]
fn queue_timeout_and_full_queue_answers_haproxy() {
    queue_timeout_and_full_queue(Target::Haproxy);
}
