use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use switchyard_testkit::upstream::{JUNK, PARTIAL_STATUS_LINE};
use switchyard_testkit::{
    can_connect, eventually, free_port, http_get, http_request, Behavior, FakeUpstream,
    KeepAliveClient,
};

const WAIT: Duration = Duration::from_secs(10);
const TICK: Duration = Duration::from_millis(10);

/// Sends one GET on a raw socket and returns everything read until close or timeout.
fn raw_exchange(addr: std::net::SocketAddr, timeout: Duration) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(timeout))?;
    s.write_all(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok(out)
}

#[test]
fn echoes_with_its_name() {
    let up = FakeUpstream::start("blue");
    let resp = http_get(
        &up.url("/hello?a=1"),
        &[
            ("X-Forwarded-For", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.2"),
        ],
    )
    .expect("get");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-served-by"), Some("blue"));
    let json = resp.json().expect("json");
    assert_eq!(json["name"], "blue");
    assert_eq!(json["path"], "/hello?a=1");
    assert_eq!(json["headers"]["x-forwarded-for"], "10.0.0.1, 10.0.0.2");
    assert_eq!(up.requests(), 1);
    assert_eq!(up.served(), 1);
    let head = up.last_request().expect("recorded");
    assert_eq!(head.method, "GET");
    assert_eq!(head.path_only(), "/hello");
    assert_eq!(
        head.header_all("x-forwarded-for"),
        vec!["10.0.0.1", "10.0.0.2"]
    );
}

#[test]
fn fixed_status_unavailable_and_delay() {
    let up = FakeUpstream::builder("s")
        .behavior(Behavior::Status(418))
        .start()
        .expect("start");
    assert_eq!(http_get(&up.url("/"), &[]).expect("get").status, 418);
    up.set_behavior(Behavior::Unavailable);
    let resp = http_get(&up.url("/"), &[]).expect("get");
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("x-served-by"), Some("s"));
    up.set_behavior(Behavior::Delay(Duration::from_millis(300)));
    let start = Instant::now();
    assert_eq!(http_get(&up.url("/"), &[]).expect("get").status, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(up.behavior(), Behavior::Delay(Duration::from_millis(300)));
}

#[test]
fn broken_behaviours_break_the_response() {
    let up = FakeUpstream::builder("bad")
        .behavior(Behavior::CloseMidHeader)
        .start()
        .expect("start");
    assert_eq!(
        raw_exchange(up.addr(), WAIT).expect("read"),
        PARTIAL_STATUS_LINE
    );
    let err = http_get(&up.url("/"), &[]).expect_err("partial head");
    assert!(err.to_string().contains("inside a response head"), "{err}");

    up.set_behavior(Behavior::Junk);
    assert_eq!(raw_exchange(up.addr(), WAIT).expect("read"), JUNK);
    assert!(http_get(&up.url("/"), &[]).is_err());

    up.set_behavior(Behavior::Reset);
    let err = raw_exchange(up.addr(), WAIT).expect_err("reset");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");

    up.set_behavior(Behavior::Silent);
    let err = raw_exchange(up.addr(), Duration::from_millis(200)).expect_err("silence");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    assert_eq!(up.requests(), 6);
    assert_eq!(up.served(), 0);
}

#[test]
fn health_path_follows_the_flag() {
    let up = FakeUpstream::builder("h")
        .behavior(Behavior::Silent)
        .start()
        .expect("start");
    assert_eq!(http_get(&up.url("/health"), &[]).expect("get").status, 200);
    up.set_healthy(false);
    let resp = http_request("HEAD", &up.url("/health"), &[], b"").expect("head");
    assert_eq!(resp.status, 503);
    assert!(resp.body.is_empty());
    up.set_health_down_status(404);
    assert_eq!(http_get(&up.url("/health"), &[]).expect("get").status, 404);
    assert_eq!(
        http_request("POST", &up.url("/health/enable"), &[], b"")
            .expect("post")
            .status,
        200
    );
    assert!(up.is_healthy());
    assert_eq!(http_get(&up.url("/health"), &[]).expect("get").status, 200);
    assert_eq!(
        http_request("POST", &up.url("/health/disable"), &[], b"")
            .expect("post")
            .status,
        200
    );
    assert!(!up.is_healthy());
    assert_eq!(up.health_checks(), 4);
    assert_eq!(up.requests(), 0);
}

#[test]
fn stop_and_restart_on_the_same_port() {
    let port = free_port();
    let mut up = FakeUpstream::start_on("green", port);
    assert_eq!(up.port(), port);
    let mut client = KeepAliveClient::connect(&up.addr().to_string()).expect("connect");
    assert_eq!(client.get("/").expect("get").status, 200);
    up.stop();
    assert!(!up.is_running());
    assert!(!can_connect(up.addr()));
    assert!(client.get("/").is_err(), "open connections close on stop");
    up.restart();
    assert_eq!(up.port(), port);
    let resp = http_get(&up.url("/"), &[]).expect("get after restart");
    assert_eq!(resp.header("x-served-by"), Some("green"));
    assert_eq!(up.requests(), 2);
    up.clear();
    assert_eq!(up.requests(), 0);
    assert!(up.received().is_empty());
}

#[test]
fn keep_alive_client_reuses_one_connection_and_sees_behaviour_changes() {
    let up = FakeUpstream::start("ka");
    let mut client = KeepAliveClient::connect(&up.addr().to_string()).expect("connect");
    for _ in 0..5 {
        assert_eq!(client.get("/").expect("get").status, 200);
    }
    up.set_behavior(Behavior::Status(500));
    assert_eq!(client.get("/").expect("get").status, 500);
    let posted = client
        .request("POST", "/up", &[("Content-Type", "text/plain")], b"hello")
        .expect("post");
    assert_eq!(posted.json().expect("json")["body_length"], 5);
    assert_eq!(up.connections(), 1);
    assert_eq!(up.requests(), 7);
    assert!(!client.peer_closed());
}

#[test]
fn chunked_and_pipelined_requests() {
    let up = FakeUpstream::start("chunky");
    let mut client = KeepAliveClient::connect(&up.addr().to_string()).expect("connect");
    client
        .send_raw(
            b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n\
              GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .expect("send");
    let a = client.read_response("POST").expect("a");
    let b = client.read_response("GET").expect("b");
    assert_eq!(a.json().expect("json")["body_length"], 5);
    assert_eq!(b.json().expect("json")["path"], "/b");
    let heads = up.received();
    assert_eq!(heads.len(), 2);
    assert_eq!(heads[0].body_len, 5);
}

#[test]
fn in_flight_counts_slow_requests() {
    let up = FakeUpstream::builder("slow")
        .behavior(Behavior::Delay(Duration::from_millis(500)))
        .start()
        .expect("start");
    let url = up.url("/");
    let t = std::thread::spawn(move || http_get(&url, &[]).map(|r| r.status));
    eventually(WAIT, TICK, || up.in_flight() == 1);
    assert_eq!(t.join().expect("thread").expect("get"), 200);
    eventually(WAIT, TICK, || up.in_flight() == 0);
}

#[tokio::test]
async fn usable_and_droppable_from_async_tests() {
    let up = FakeUpstream::start("async");
    let url = up.url("/");
    let status = tokio::task::spawn_blocking(move || http_get(&url, &[]).map(|r| r.status))
        .await
        .expect("join")
        .expect("get");
    assert_eq!(status, 200);
    drop(up);
}
