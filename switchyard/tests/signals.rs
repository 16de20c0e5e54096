//! Process control by signal: SIGUSR1 soft stop (listeners close at once,
//! the in-flight request finishes, exit 0), SIGTERM (stop at once) and
//! SIGHUP/SIGUSR2 (reload).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use tk::{eventually, http_get, Behavior, FakeUpstream, Proxy, ProxyKind, Signal};

fn config(port: u16, upstream: SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    timeout server 30s
    server s1 {upstream}
"
    )
}

fn start(upstream: &FakeUpstream) -> (Proxy, u16) {
    let port = tk::free_port();
    let mut p = Proxy::spawn_kind(
        &ProxyKind::Switchyard(switchyard()),
        &config(port, upstream.addr()),
        &[],
    )
    .unwrap_or_else(|e| panic!("spawn switchyard: {e}"));
    p.wait_ready(lo(port), STARTUP);
    (p, port)
}

#[test]
fn sigusr1_finishes_the_in_flight_request_then_exits_0() {
    let up = FakeUpstream::builder("slow")
        .behavior(Behavior::Delay(Duration::from_millis(1500)))
        .start()
        .unwrap_or_else(|e| panic!("upstream: {e}"));
    let (mut p, port) = start(&up);

    let url = format!("http://127.0.0.1:{port}/slow");
    let client = std::thread::spawn(move || http_get(&url, &[]));
    eventually(Duration::from_secs(10), Duration::from_millis(10), || {
        up.in_flight() == 1
    });

    p.signal(Signal::SIGUSR1)
        .unwrap_or_else(|e| panic!("signal: {e}"));
    // Listeners close at once: new connections are refused while the slow
    // request is still being served.
    eventually(Duration::from_secs(5), Duration::from_millis(10), || {
        !tk::can_connect(lo(port))
    });
    assert_eq!(up.in_flight(), 1, "the request must still be in flight");

    let resp = client
        .join()
        .unwrap_or_else(|_| panic!("client thread panicked"))
        .unwrap_or_else(|e| panic!("in-flight request failed: {e}"));
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.header("x-served-by"), Some("slow"));

    let status = p
        .child_mut()
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("switchyard did not exit after the soft stop"));
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn sigterm_stops_at_once() {
    let up = FakeUpstream::builder("stuck")
        .behavior(Behavior::Delay(Duration::from_secs(60)))
        .start()
        .unwrap_or_else(|e| panic!("upstream: {e}"));
    let (mut p, port) = start(&up);

    let url = format!("http://127.0.0.1:{port}/stuck");
    let client = std::thread::spawn(move || http_get(&url, &[]));
    eventually(Duration::from_secs(10), Duration::from_millis(10), || {
        up.in_flight() == 1
    });

    p.signal(Signal::SIGTERM)
        .unwrap_or_else(|e| panic!("signal: {e}"));
    let status = p
        .child_mut()
        .wait_exit(Duration::from_secs(3))
        .unwrap_or_else(|| panic!("switchyard did not stop within 3s of SIGTERM"));
    assert!(!status.success(), "{status:?}");
    // The client is cut off rather than served.
    let resp = client
        .join()
        .unwrap_or_else(|_| panic!("client thread panicked"));
    assert!(
        resp.as_ref().map_or(true, |r| r.status != 200),
        "the in-flight request must not complete normally: {resp:?}"
    );
    assert!(!tk::can_connect(lo(port)));
}

#[test]
fn sighup_and_sigusr2_reload_without_stopping_the_proxy() {
    let up = FakeUpstream::start("up");
    let (mut p, port) = start(&up);
    for sig in [Signal::SIGHUP, Signal::SIGUSR2] {
        let before = p.child().line_count();
        p.signal(sig).unwrap_or_else(|e| panic!("signal: {e}"));
        p.child()
            .wait_for_line_from(before, "Loading success.", Duration::from_secs(5));
    }
    let resp = http_get(&format!("http://127.0.0.1:{port}/"), &[])
        .unwrap_or_else(|e| panic!("request after SIGHUP/SIGUSR2: {e}"));
    assert_eq!(resp.status, 200);
    assert!(p.child_mut().is_running());
}
