//! An HTTP/2 client that resets its stream while the request waits for
//! the server, side by side with the real HAProxy 2.6: the server's
//! connection is dropped at once (not left to answer), the log says
//! `CD--` with no response time and status -1, and the client's
//! connection goes on serving its other streams. A stream reset while it
//! waits in a server queue leaves the queue at once, never reaching the
//! server, and is logged as HAProxy logs it.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::tcp::LogSink;
use common::{haproxy_on, read_request_head, serve_each, Harness};
use h2::client::SendRequest;
use switchyard_state::{ProxyLive, ServerLive};

const WAIT: Duration = Duration::from_secs(5);

/// A server that answers `/fast` at once and `/slow` only after 4 s of
/// silence from the proxy; for `/slow` it reports whether the proxy
/// closed the connection first ("closed") or it answered ("answered"). It
/// reports any `/queued` it gets.
fn upstream(events: mpsc::Sender<String>) -> SocketAddr {
    let events = Mutex::new(events);
    serve_each(move |s: TcpStream| {
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        while let Some((head, _)) = read_request_head(&mut r) {
            if head.starts_with("GET /queued ") {
                let _ = events.lock().map(|e| e.send("/queued".into()));
            }
            if head.starts_with("GET /slow ") {
                let _ = events.lock().map(|e| e.send("got /slow".into()));
                let _ = r.get_ref().set_read_timeout(Some(Duration::from_secs(4)));
                let mut b = [0u8; 64];
                let what = match r.read(&mut b) {
                    Ok(0) => "closed",
                    Err(e) if e.kind() != std::io::ErrorKind::WouldBlock => "closed",
                    _ => "answered",
                };
                let _ = events.lock().map(|e| e.send(what.into()));
                if what == "closed" {
                    return;
                }
            }
            let _ = w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        }
    })
}

/// `stats uri` on the frontend lets the test read HAProxy's counters
/// over the client's own connection; `maxconn` on the server makes a
/// second request queue.
fn config(log: u16, up: SocketAddr, maxconn: &str) -> String {
    format!(
        "global\n  log 127.0.0.1:{log} local0\n\
         defaults\n  mode http\n  log global\n  option httplog\n\
           timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n\
           timeout queue 10s\n\
         frontend fe\n  bind @BIND@ proto h2\n  stats uri /st\n  default_backend be\n\
         backend be\n  server s1 {up}{maxconn}\n"
    )
}

/// Where the counters are read: HAProxy's stats page, over the client's
/// own HTTP/2 connection, or the in-process proxy's counters (the test
/// harness has no stats renderer).
type Probe = Option<(Arc<ProxyLive>, Arc<ServerLive>)>;

/// A column of the stats row starting with `row` (`be,BACKEND,` or
/// `be,s1,`): `qcur` or `cli_abrt`.
async fn stat(tx: &SendRequest<Bytes>, probe: &Probe, row: &str, column: &str) -> Option<u64> {
    if let Some((be, s1)) = probe {
        let c = if row.starts_with("be,BACKEND") {
            &be.be
        } else {
            &s1.counters
        };
        return match column {
            "qcur" => Some(c.qcur.load(Relaxed).into()),
            _ => Some(c.cli_abrt.load(Relaxed)),
        };
    }
    let req = http::Request::builder()
        .uri("http://a.test/st;csv")
        .body(())
        .ok()?;
    let (resp, _) = tx
        .clone()
        .ready()
        .await
        .ok()?
        .send_request(req, true)
        .ok()?;
    let mut body = resp.await.ok()?.into_body();
    let mut csv = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.ok()?;
        let _ = body.flow_control().release_capacity(chunk.len());
        csv.extend_from_slice(&chunk);
    }
    let csv = String::from_utf8_lossy(&csv).into_owned();
    let header = csv.lines().next()?.trim_start_matches("# ");
    let at = header.split(',').position(|c| c == column)?;
    let row = csv.lines().find(|l| l.starts_with(row))?;
    row.split(',').nth(at)?.parse().ok()
}

/// `cli_abrt` of the backend and of its server.
async fn aborts(tx: &SendRequest<Bytes>, probe: &Probe) -> (Option<u64>, Option<u64>) {
    (
        stat(tx, probe, "be,BACKEND,", "cli_abrt").await,
        stat(tx, probe, "be,s1,", "cli_abrt").await,
    )
}

/// The next event from the server, while the runtime goes on driving the
/// client's connection.
async fn next_event(events: &mpsc::Receiver<String>) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match events.try_recv() {
            Ok(e) => return e,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Err(_) => return "nothing".into(),
        }
    }
}

fn get(path: &str) -> http::Request<()> {
    http::Request::builder()
        .uri(format!("http://a.test{path}"))
        .body(())
        .expect("request")
}

/// The first log line containing `needle`, while the runtime goes on
/// driving the client's connection.
async fn log_line(logs: &LogSink, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(l) = logs.lines().into_iter().find(|l| l.contains(needle)) {
            return l;
        }
        if tokio::time::Instant::now() >= deadline {
            return "no log line".into();
        }
        tokio::time::sleep(Duration::from_millis(10)).await
    }
}

/// What a scenario saw, compared between the two proxies.
#[derive(Debug, PartialEq)]
struct Seen {
    /// What the server saw of the reset request.
    fate: String,
    /// Its log line, without what varies between runs.
    line: String,
    /// The backend's queue afterwards.
    qcur: Option<u64>,
    /// `cli_abrt` of the backend and of the server.
    aborts: (Option<u64>, Option<u64>),
}

/// An HTTP/2 connection (driven by a task) whose first stream, GET
/// `/slow`, the server already has.
async fn open_with_slow(
    addr: SocketAddr,
    events: &mpsc::Receiver<String>,
) -> (
    SendRequest<Bytes>,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
    h2::client::ResponseFuture,
    h2::SendStream<Bytes>,
) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (tx, conn) = h2::client::handshake(tcp).await.expect("handshake");
    let driver = tokio::spawn(conn);
    let mut send = tx.clone().ready().await.expect("ready");
    let (slow, stream) = send.send_request(get("/slow"), true).expect("send");
    assert_eq!(next_event(events).await, "got /slow");
    (tx, driver, slow, stream)
}

/// GET `/slow` and reset it once the server has it; once the server saw
/// what came of it and the proxy logged it, GET `/fast` on the same
/// connection, which must be served.
async fn reset_waiting(
    addr: SocketAddr,
    probe: &Probe,
    events: &mpsc::Receiver<String>,
    logs: &LogSink,
) -> Seen {
    let (tx, driver, slow, stream) = open_with_slow(addr, events).await;
    // Dropping both halves of a stream still open resets it (CANCEL).
    drop(slow);
    drop(stream);
    let fate = next_event(events).await;
    let line = log_line(logs, "/slow HTTP/2.0").await;
    let mut send = tx.clone().ready().await.expect("ready");
    let (fast, _) = send.send_request(get("/fast"), true).expect("send");
    let status = fast.await.expect("response").status().as_u16();
    assert_eq!(status, 200, "the connection serves on");
    let seen = Seen {
        fate,
        line: steady(&line, false),
        qcur: stat(&tx, probe, "be,BACKEND,", "qcur").await,
        aborts: aborts(&tx, probe).await,
    };
    driver.abort();
    seen
}

/// GET `/slow`, which takes the server's only slot; GET `/queued`, and
/// reset it once it waits in the backend's queue. Its log line must come
/// while `/slow` is still in progress, and the server never sees it.
async fn reset_queued(
    addr: SocketAddr,
    probe: &Probe,
    events: &mpsc::Receiver<String>,
    logs: &LogSink,
) -> Seen {
    let (tx, driver, slow, _s) = open_with_slow(addr, events).await;
    let mut send = tx.clone().ready().await.expect("ready");
    let (queued, q) = send.send_request(get("/queued"), true).expect("send");
    let deadline = tokio::time::Instant::now() + WAIT;
    while stat(&tx, probe, "be,BACKEND,", "qcur").await != Some(1) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "/queued never queued"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(queued);
    drop(q);
    let line = log_line(logs, "/queued HTTP/2.0").await;
    // The server has not answered `/slow` yet (it holds it for 4 s).
    let mut fate = match events.try_recv() {
        Ok(e) => format!("{e} before /queued left"),
        Err(_) => "left while /slow was served".into(),
    };
    let qcur = stat(&tx, probe, "be,BACKEND,", "qcur").await;
    let status = slow.await.expect("response").status().as_u16();
    assert_eq!(status, 200, "/slow");
    // A slot is free now: nothing of `/queued` may take it.
    let _ = stat(&tx, probe, "be,BACKEND,", "qcur").await;
    if let Ok(e) = events.try_recv().and_then(|_| events.try_recv()) {
        fate = format!("{fate}, then the server saw {e}");
    }
    let seen = Seen {
        fate,
        line: steady(&line, true),
        qcur,
        aborts: aborts(&tx, probe).await,
    };
    driver.abort();
    seen
}

/// A log line without what varies between runs: the client address, the
/// date, the total time, the connect time unless it is -1 (0 or 1 ms on
/// loopback, by chance) and, for a request that left a queue, the time it
/// waited there.
fn steady(line: &str, queued: bool) -> String {
    line.split(' ')
        .enumerate()
        .filter(|(i, _)| *i != 0 && *i != 1)
        .map(|(_, w)| {
            let p: Vec<&str> = w.split('/').collect();
            if p.len() == 5 && w.contains("-1") && !w.starts_with('"') {
                let tw = if queued { "<Tw>" } else { p[1] };
                let tc = if p[2] == "-1" { "-1" } else { "<Tc>" };
                format!("{}/{tw}/{tc}/{}/<Tt>", p[0], p[3])
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Starts a proxy on a config: what keeps it running, its address and
/// where its counters are read.
type Start<'a> = &'a dyn Fn(&str) -> (Box<dyn std::any::Any>, SocketAddr, Probe);

fn haproxy(cfg: &str) -> (Box<dyn std::any::Any>, SocketAddr, Probe) {
    let (p, a) = haproxy_on(cfg);
    (Box::new(p), a, None)
}

fn switchyard(cfg: &str) -> (Box<dyn std::any::Any>, SocketAddr, Probe) {
    let h = Harness::start(cfg);
    let probe = Some((h.proxy_live("be"), h.server("be", "s1")));
    let a = h.addr(0);
    (Box::new(h), a, probe)
}

/// Which scenario runs on a started proxy.
#[derive(Clone, Copy)]
enum Scenario {
    Waiting,
    Queued,
}

fn run(start: Start<'_>, scenario: Scenario) -> Seen {
    let logs = LogSink::new();
    let (etx, erx) = mpsc::channel();
    let up = upstream(etx);
    let maxconn = match scenario {
        Scenario::Waiting => "",
        Scenario::Queued => " maxconn 1",
    };
    let (guard, addr, probe) = start(&config(logs.port(), up, maxconn));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let seen = rt.block_on(async {
        match scenario {
            Scenario::Waiting => reset_waiting(addr, &probe, &erx, &logs).await,
            Scenario::Queued => reset_queued(addr, &probe, &erx, &logs).await,
        }
    });
    drop(guard);
    seen
}

#[test]
fn a_reset_stream_drops_its_server_connection_as_haproxy_does() {
    let theirs = run(&haproxy, Scenario::Waiting);
    let ours = run(&switchyard, Scenario::Waiting);
    assert_eq!(theirs.fate, "closed", "haproxy: {theirs:?}");
    assert!(theirs.line.contains(" -1 0 - - CD-- "), "{theirs:?}");
    assert_eq!(ours, theirs);
}

#[test]
fn a_stream_reset_in_a_server_queue_leaves_it_as_haproxy_does() {
    let theirs = run(&haproxy, Scenario::Queued);
    let ours = run(&switchyard, Scenario::Queued);
    assert_eq!(
        theirs.fate, "left while /slow was served",
        "haproxy: {theirs:?}"
    );
    assert!(theirs.line.contains(" CQ-- "), "haproxy: {theirs:?}");
    assert_eq!(theirs.qcur, Some(0), "haproxy: {theirs:?}");
    assert_eq!(ours, theirs);
}
