//! An HTTP/2 client that resets its stream while the request waits for
//! the server, side by side with the real HAProxy 2.6: the server's
//! connection is dropped at once (not left to answer), the log says
//! `CD--` with no response time and status -1, and the client's
//! connection goes on serving its other streams.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use common::tcp::LogSink;
use common::{haproxy_on, read_request_head, serve_each, Harness};

const WAIT: Duration = Duration::from_secs(5);

/// A server that answers `/fast` at once and `/slow` only after 4 s of
/// silence from the proxy; for `/slow` it reports whether the proxy
/// closed the connection first ("closed") or it answered ("answered").
fn upstream(events: mpsc::Sender<String>) -> SocketAddr {
    let events = Mutex::new(events);
    serve_each(move |s: TcpStream| {
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        while let Some((head, _)) = read_request_head(&mut r) {
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

fn config(log: u16, up: SocketAddr) -> String {
    format!(
        "global\n  log 127.0.0.1:{log} local0\n\
         defaults\n  mode http\n  log global\n  option httplog\n\
           timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@ proto h2\n  default_backend be\n\
         backend be\n  server s1 {up}\n"
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

/// GET `/slow` and reset it once the server has it; once the server saw
/// what came of it and the proxy logged it, GET `/fast` on the same
/// connection. What the server saw, the log line, `/fast`'s status.
fn reset_then_fast(
    addr: SocketAddr,
    events: &mpsc::Receiver<String>,
    logs: &LogSink,
) -> (String, String, u16) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (tx, conn) = h2::client::handshake(tcp).await.expect("handshake");
        let driver = tokio::spawn(conn);
        let get = |path: &str| {
            http::Request::builder()
                .uri(format!("http://a.test{path}"))
                .body(())
                .expect("request")
        };
        let mut send = tx.clone().ready().await.expect("ready");
        let (slow, stream) = send.send_request(get("/slow"), true).expect("send");
        assert_eq!(next_event(events).await, "got /slow");
        // Dropping both halves of a stream still open resets it (CANCEL).
        drop(slow);
        drop(stream);
        let fate = next_event(events).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        let line = loop {
            let found = logs
                .lines()
                .into_iter()
                .find(|l| l.contains("/slow HTTP/2.0"));
            match found {
                Some(l) => break l,
                None if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                None => break "no log line".into(),
            }
        };
        let mut send = tx.ready().await.expect("ready");
        let (fast, _) = send.send_request(get("/fast"), true).expect("send");
        let status = fast.await.expect("response").status().as_u16();
        driver.abort();
        (fate, line, status)
    })
}

/// The log line of `/slow` without what varies between runs: the client
/// address, the date and the total time.
fn steady(line: &str) -> String {
    line.split(' ')
        .enumerate()
        .filter(|(i, _)| *i != 0 && *i != 1)
        .map(|(_, w)| {
            let parts: Vec<&str> = w.split('/').collect();
            if parts.len() == 5 && w.contains("-1") && !w.starts_with('"') {
                // Tq/Tw/Tc/Tr/Tt: Tt is how long the client took to reset.
                format!("{}/{}/{}/{}/<Tt>", parts[0], parts[1], parts[2], parts[3])
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Starts a proxy on a config: what keeps it running, and its address.
type Start<'a> = &'a dyn Fn(&str) -> (Box<dyn std::any::Any>, SocketAddr);

fn run(start: Start<'_>) -> (String, String) {
    let logs = LogSink::new();
    let (etx, erx) = mpsc::channel();
    let up = upstream(etx);
    let (guard, addr) = start(&config(logs.port(), up));
    let (fate, line, fast) = reset_then_fast(addr, &erx, &logs);
    assert_eq!(fast, 200, "the connection serves on");
    drop(guard);
    (fate, steady(&line))
}

#[test]
fn a_reset_stream_drops_its_server_connection_as_haproxy_does() {
    let theirs = run(&|cfg| {
        let (p, a) = haproxy_on(cfg);
        (Box::new(p), a)
    });
    let ours = run(&|cfg| {
        let h = Harness::start(cfg);
        let a = h.addr(0);
        (Box::new(h), a)
    });
    assert_eq!(theirs.0, "closed", "haproxy: {theirs:?}");
    assert!(theirs.1.contains(" -1 0 - - CD-- "), "{theirs:?}");
    assert_eq!(ours, theirs);
}
