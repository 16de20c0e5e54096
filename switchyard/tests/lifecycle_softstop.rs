//! Soft stop (SIGUSR1, and the end of an upgrade for the old process):
//! listeners close at once, every request in flight gets its full
//! response, idle keep-alive connections are closed and a busy one is told
//! `Connection: close`; the process leaves when all are done, or when
//! `hard-stop-after` expires, saying what it cut (as HAProxy does).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use tk::{eventually, Behavior, ChildGuard, FakeUpstream, KeepAliveClient, Signal};

fn config(port: u16, fast: SocketAddr, slow: SocketAddr, global: &str) -> String {
    format!(
        "global
{global}
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s

frontend fe
    bind 127.0.0.1:{port}
    use_backend be_slow if {{ path_beg /slow }}
    default_backend be_fast

backend be_fast
    server fast1 {fast}

backend be_slow
    server slow1 {slow}
"
    )
}

fn start(binary: &std::path::Path, name: &str, cfg: &str) -> (tempfile::TempDir, ChildGuard) {
    let dir = tempdir();
    write(dir.path(), "haproxy.cfg", cfg);
    let mut cmd = std::process::Command::new(binary);
    cmd.current_dir(dir.path())
        .args(["-db", "-f", "haproxy.cfg"]);
    let child = ChildGuard::spawn(name, cmd).unwrap_or_else(|e| panic!("spawn {name}: {e}"));
    (dir, child)
}

#[test]
fn soft_stop_under_load_finishes_every_request_in_flight() {
    const SLOW: usize = 40;
    let fast = FakeUpstream::start("fast");
    let slow = FakeUpstream::builder("slow")
        .behavior(Behavior::Delay(Duration::from_secs(2)))
        .start()
        .unwrap_or_else(|e| panic!("slow upstream: {e}"));
    let port = tk::free_port();
    let (_dir, mut proxy) = start(
        &switchyard(),
        "switchyard",
        &config(port, fast.addr(), slow.addr(), ""),
    );
    assert!(tk::wait_for_port(lo(port), STARTUP));
    let addr = format!("127.0.0.1:{port}");

    // An idle keep-alive connection, and one busy with a slow request.
    let mut idle = KeepAliveClient::connect(&addr).unwrap_or_else(|e| panic!("connect: {e}"));
    assert_eq!(idle.get("/").map(|r| r.status).ok(), Some(200));
    let mut busy = KeepAliveClient::connect(&addr).unwrap_or_else(|e| panic!("connect: {e}"));
    assert_eq!(busy.get("/").map(|r| r.status).ok(), Some(200));
    let busy = std::thread::spawn(move || busy.get("/slow/busy"));
    // Many slow requests in flight, each on its own connection.
    let clients: Vec<_> = (0..SLOW)
        .map(|i| {
            let url = format!("http://{addr}/slow/{i}");
            std::thread::spawn(move || tk::http_get(&url, &[]))
        })
        .collect();
    eventually(Duration::from_secs(10), Duration::from_millis(5), || {
        slow.in_flight() == SLOW + 1
    });

    proxy
        .signal(Signal::SIGUSR1)
        .unwrap_or_else(|e| panic!("signal: {e}"));
    eventually(Duration::from_secs(5), Duration::from_millis(5), || {
        !tk::can_connect(lo(port))
    });
    assert_eq!(slow.in_flight(), SLOW + 1, "requests in flight must go on");
    assert!(proxy.is_running());
    eventually(Duration::from_secs(5), Duration::from_millis(5), || {
        idle.peer_closed()
    });

    for (i, c) in clients.into_iter().enumerate() {
        let resp = c
            .join()
            .unwrap_or_else(|_| panic!("client {i} panicked"))
            .unwrap_or_else(|e| panic!("request {i} in flight failed: {e}"));
        assert_eq!(resp.status, 200, "{resp:?}");
        let echo = resp
            .json()
            .unwrap_or_else(|e| panic!("request {i}: incomplete body ({e}): {resp:?}"));
        assert_eq!(echo["path"], format!("/slow/{i}"));
    }
    let resp = busy
        .join()
        .unwrap_or_else(|_| panic!("busy client panicked"))
        .unwrap_or_else(|e| panic!("the keep-alive request in flight failed: {e}"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("connection"), Some("close"), "{resp:?}");

    let status = proxy
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("switchyard did not exit once the requests were done"));
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(slow.served(), (SLOW + 1) as u64);
    proxy.output().wait_closed(Duration::from_secs(5));
    assert!(
        proxy
            .lines()
            .iter()
            .any(|l| l.contains("Proxy fe stopped (cumulated conns: FE: ")),
        "{}",
        proxy.output().tail(20)
    );
}

/// The lines `hard-stop-after` makes a proxy print, from the first.
fn hard_stop_lines(binary: &std::path::Path, name: &str) -> Vec<String> {
    let stuck = FakeUpstream::builder("stuck")
        .behavior(Behavior::Delay(Duration::from_secs(60)))
        .start()
        .unwrap_or_else(|e| panic!("upstream: {e}"));
    let port = tk::free_port();
    let (_dir, mut proxy) = start(
        binary,
        name,
        &config(port, stuck.addr(), stuck.addr(), "    hard-stop-after 1s"),
    );
    assert!(tk::wait_for_port(lo(port), STARTUP));
    let url = format!("http://127.0.0.1:{port}/");
    let client = std::thread::spawn(move || tk::http_get(&url, &[]));
    eventually(Duration::from_secs(10), Duration::from_millis(5), || {
        stuck.in_flight() == 1
    });
    proxy
        .signal(Signal::SIGUSR1)
        .unwrap_or_else(|e| panic!("signal: {e}"));
    let status = proxy
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{name}: hard-stop-after did not stop the process"));
    assert!(status.code().is_some(), "{name}: {status:?}");
    let resp = client.join().unwrap_or_else(|_| panic!("client panicked"));
    assert!(
        resp.as_ref().map_or(true, |r| r.status != 200),
        "{name}: the stuck request cannot complete: {resp:?}"
    );
    proxy.output().wait_closed(Duration::from_secs(5));
    proxy
        .lines()
        .into_iter()
        .filter(|l| l.contains("hard-stop"))
        .map(|l| {
            l.split_once(") : ")
                .map_or(l.clone(), |(_, m)| m.to_owned())
        })
        .collect()
}

#[test]
fn hard_stop_after_cuts_what_is_left_and_says_so() {
    let ours = hard_stop_lines(&switchyard(), "switchyard");
    assert_eq!(
        ours,
        [
            "soft-stop running for too long, performing a hard-stop.",
            "Proxy fe hard-stopped (1 remaining conns will be closed).",
        ]
    );
    if have_haproxy("hard_stop_after_cuts_what_is_left_and_says_so") {
        let theirs = hard_stop_lines(std::path::Path::new(tk::HAPROXY_PATH), "haproxy");
        assert_eq!(ours, theirs, "same report as HAProxy");
    }
}

/// Three streams in flight on one HTTP/2 connection (curl with prior
/// knowledge, multiplexed) when SIGUSR1 comes: all three complete, then
/// the process exits. The same through HAProxy 2.6 when it is installed.
fn h2_streams_through_a_soft_stop(binary: &std::path::Path, name: &str) {
    let fast = FakeUpstream::start("fast");
    let slow = FakeUpstream::builder("slow")
        .behavior(Behavior::Delay(Duration::from_secs(1)))
        .start()
        .unwrap_or_else(|e| panic!("slow upstream: {e}"));
    let port = tk::free_port();
    let (_dir, mut proxy) = start(binary, name, &config(port, fast.addr(), slow.addr(), ""));
    assert!(tk::wait_for_port(lo(port), STARTUP));
    let mut curl = std::process::Command::new("curl");
    curl.args([
        "-s",
        "--http2-prior-knowledge",
        "--parallel",
        "--parallel-immediate",
    ])
    .args(["-w", "%{http_version} %{http_code}\\n"]);
    for i in 0..3 {
        curl.args([
            "-o",
            "/dev/null",
            &format!("http://127.0.0.1:{port}/slow/{i}"),
        ]);
    }
    let curl = std::thread::spawn(move || curl.output());
    eventually(Duration::from_secs(10), Duration::from_millis(5), || {
        slow.in_flight() == 3
    });
    proxy
        .signal(Signal::SIGUSR1)
        .unwrap_or_else(|e| panic!("signal: {e}"));
    let out = curl
        .join()
        .unwrap_or_else(|_| panic!("curl thread"))
        .unwrap_or_else(|e| panic!("curl: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text, "2 200\n2 200\n2 200\n", "{name}");
    let status = proxy
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{name} did not exit once the streams were done"));
    assert_eq!(status.code(), Some(0), "{name}: {status:?}");
    assert_eq!(slow.served(), 3, "{name}");
}

#[test]
fn h2_streams_in_flight_finish_through_a_soft_stop() {
    h2_streams_through_a_soft_stop(&switchyard(), "switchyard");
    if have_haproxy("h2_streams_in_flight_finish_through_a_soft_stop") {
        h2_streams_through_a_soft_stop(std::path::Path::new(tk::HAPROXY_PATH), "haproxy");
    }
}
