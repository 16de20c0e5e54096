//! HTTP/2 connections over their lifetime, with the `h2` crate as the
//! client: a soft stop lets the streams in flight finish and says GOAWAY,
//! `timeout client` closes an idle connection, a hard stop cuts it,
//! `shutdown sessions server` ends only that server's streams, and the
//! connection counts once against `maxconn` however many streams it has.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::Harness;
use h2::client::SendRequest;
use switchyard_testkit::{Behavior, FakeUpstream};
use tokio::task::JoinHandle;

const WAIT: Duration = Duration::from_secs(5);

/// An HTTP/2 connection with prior knowledge: the request handle and the
/// task driving the connection (it ends when the server closes it).
async fn connect(addr: SocketAddr) -> (SendRequest<Bytes>, JoinHandle<Result<(), h2::Error>>) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (tx, conn) = h2::client::handshake(tcp).await.expect("handshake");
    (tx, tokio::spawn(conn))
}

/// Send a GET; the status and body, or the error.
async fn get(tx: &SendRequest<Bytes>, path: &str) -> Result<(u16, Vec<u8>), h2::Error> {
    let mut tx = tx.clone().ready().await?;
    let req = http::Request::builder()
        .uri(format!("http://a.test{path}"))
        .body(())
        .expect("request");
    let (resp, _) = tx.send_request(req, true)?;
    let resp = resp.await?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut out = Vec::new();
    while let Some(d) = body.data().await {
        let d = d?;
        let _ = body.flow_control().release_capacity(d.len());
        out.extend_from_slice(&d);
    }
    Ok((status, out))
}

async fn until(what: impl Fn() -> bool) {
    let end = Instant::now() + WAIT;
    while !what() {
        assert!(Instant::now() < end, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn cfg(extra_fe: &str, servers: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n{extra_fe}  default_backend be\n\
         backend be\n{servers}"
    )
}

#[test]
fn a_soft_stop_finishes_the_streams_in_flight_then_goes_away() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Delay(Duration::from_millis(500)))
        .start()
        .expect("up");
    let h = Harness::start(&cfg("", &format!("  server s1 {}\n", up.addr())));
    let addr = h.addr(0);
    let fe = h.proxy_live("fe");
    let stop = h.stop.clone();
    h.block_on(async move {
        let (tx, conn) = connect(addr).await;
        let streams: Vec<_> = (0..3)
            .map(|i| {
                let tx = tx.clone();
                tokio::spawn(async move { get(&tx, &format!("/slow{i}")).await })
            })
            .collect();
        until(|| up.in_flight() == 3).await;
        // One connection, three streams: one session on the frontend.
        assert_eq!(fe.fe.scur.load(Relaxed), 1);
        let drained = tokio::spawn(stop.soft_stop());
        for s in streams {
            let (status, body) = s.await.expect("task").expect("stream");
            assert_eq!(status, 200);
            assert!(String::from_utf8_lossy(&body).contains("s1"));
        }
        // GOAWAY: the connection ends, and with it the proxy's last one.
        tokio::time::timeout(WAIT, conn)
            .await
            .expect("the server closes the connection")
            .expect("task")
            .expect("a clean close");
        tokio::time::timeout(WAIT, drained)
            .await
            .expect("soft stop done")
            .expect("task");
    });
}

#[test]
fn an_idle_connection_is_closed_after_timeout_client() {
    let up = FakeUpstream::start("s1");
    let h = Harness::start(&cfg("", &format!("  server s1 {}\n", up.addr())));
    let addr = h.addr(0);
    h.block_on(async move {
        let (tx, conn) = connect(addr).await;
        assert_eq!(get(&tx, "/").await.expect("get").0, 200);
        let t = Instant::now();
        // `timeout client 1s`: GOAWAY and a close.
        tokio::time::timeout(WAIT, conn)
            .await
            .expect("closed")
            .expect("task")
            .expect("a clean close");
        assert!(
            t.elapsed() >= Duration::from_millis(800),
            "{:?}",
            t.elapsed()
        );
    });
}

#[test]
fn a_hard_stop_cuts_the_connection() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Silent)
        .start()
        .expect("up");
    let h = Harness::start(&cfg("", &format!("  server s1 {}\n", up.addr())));
    let addr = h.addr(0);
    let stop = h.stop.clone();
    h.block_on(async move {
        let (tx, conn) = connect(addr).await;
        let stream = tokio::spawn(async move { get(&tx, "/never").await });
        until(|| up.in_flight() == 1).await;
        stop.hard_stop();
        // The stream waiting for its server gets HAProxy's 502, or the
        // connection is gone; either way, at once.
        let r = tokio::time::timeout(WAIT, stream)
            .await
            .expect("ended")
            .expect("task");
        if let Ok((status, _)) = r {
            assert_eq!(status, 502);
        }
        let _ = tokio::time::timeout(WAIT, conn).await.expect("closed");
        tokio::time::timeout(WAIT, stop.wait_stopped())
            .await
            .expect("no connection left");
    });
}

#[test]
fn shutdown_sessions_ends_only_that_servers_streams() {
    let (one, two) = (
        FakeUpstream::builder("s1")
            .behavior(Behavior::Silent)
            .start()
            .expect("up"),
        FakeUpstream::builder("s2")
            .behavior(Behavior::Delay(Duration::from_millis(400)))
            .start()
            .expect("up"),
    );
    let h = Harness::start(&format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n  use_backend b2 if {{ path_beg /two }}\n  default_backend b1\n\
         backend b1\n  server s1 {}\n\
         backend b2\n  server s2 {}\n",
        one.addr(),
        two.addr()
    ));
    let addr = h.addr(0);
    let s1 = h.server("b1", "s1");
    h.block_on(async move {
        let (tx, _conn) = connect(addr).await;
        let on_one = {
            let tx = tx.clone();
            tokio::spawn(async move { get(&tx, "/one").await })
        };
        let on_two = {
            let tx = tx.clone();
            tokio::spawn(async move { get(&tx, "/two").await })
        };
        until(|| one.in_flight() == 1 && two.in_flight() == 1).await;
        s1.shutdown_gen.fetch_add(1, Relaxed);
        let (status, _) = on_one.await.expect("task").expect("stream");
        assert_eq!(status, 502, "a killed request waiting for its server");
        let (status, _) = on_two.await.expect("task").expect("stream");
        assert_eq!(status, 200);
        // The connection carries on.
        assert_eq!(get(&tx, "/two/again").await.expect("get").0, 200);
    });
}

#[test]
fn maxconn_counts_connections_not_streams() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Delay(Duration::from_millis(200)))
        .start()
        .expect("up");
    let h = Harness::start(&cfg(
        "  maxconn 1\n",
        &format!("  server s1 {}\n", up.addr()),
    ));
    let addr = h.addr(0);
    h.block_on(async move {
        let (tx, _conn) = connect(addr).await;
        // Ten streams on the one connection maxconn allows.
        let streams: Vec<_> = (0..10)
            .map(|i| {
                let tx = tx.clone();
                tokio::spawn(async move { get(&tx, &format!("/{i}")).await })
            })
            .collect();
        for s in streams {
            assert_eq!(s.await.expect("task").expect("stream").0, 200);
        }
    });
}
