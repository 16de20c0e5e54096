//! Passive health (`observe layer4|layer7`): live traffic reports each
//! connection attempt and response to the server's `ServerLive::observe`,
//! and the health checker applies `on-error` at `error-limit`, long before
//! the next active check would have noticed anything.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::tcp::{client, closed_port, closed_within};
use common::{raw, Harness};
use switchyard_state::{CheckStatus, OpState};
use switchyard_testkit::{eventually, Behavior, FakeUpstream};

const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);

const DEFAULTS: &str = "defaults\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n";

fn get(h: &Harness, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    String::from_utf8_lossy(&raw(h.addr(0), req.as_bytes(), Duration::from_secs(2))).into_owned()
}

#[test]
fn observe_layer7_marks_a_server_answering_500_down_before_its_next_check() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Status(500))
        .start()
        .expect("upstream");
    let cfg = format!(
        "{DEFAULTS}frontend fe\n  mode http\n  bind @BIND@\n  default_backend be\n\
         backend be\n  mode http\n\
         server s1 {} check inter 30s observe layer7 error-limit 3 on-error mark-down\n",
        up.addr()
    );
    let h = Harness::start(&cfg);
    let _health = h.start_health();
    let s1 = h.server("be", "s1");
    // The first active check (a TCP connect) passes; the next is 30 s away.
    eventually(WAIT, POLL, || s1.check_status() == CheckStatus::L4Ok);
    assert_eq!(s1.op_state(), OpState::Running);

    for _ in 0..3 {
        assert!(get(&h, "/x").starts_with("HTTP/1.1 500 "));
    }
    eventually(WAIT, POLL, || s1.op_state() == OpState::Stopped);
    assert_eq!(s1.check_status(), CheckStatus::Hana);
    assert_eq!(s1.hanafail.load(Relaxed), 1);
    // DOWN: no server left for new requests.
    assert!(get(&h, "/y").starts_with("HTTP/1.1 503 "));
    assert_eq!(up.requests(), 3);
}

#[test]
fn observe_layer7_successes_reset_the_error_streak() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Status(500))
        .start()
        .expect("upstream");
    let cfg = format!(
        "{DEFAULTS}frontend fe\n  mode http\n  bind @BIND@\n  default_backend be\n\
         backend be\n  mode http\n\
         server s1 {} observe layer7 error-limit 3 on-error mark-down\n",
        up.addr()
    );
    let h = Harness::start(&cfg);
    let s1 = h.server("be", "s1");
    for _ in 0..2 {
        get(&h, "/x");
    }
    assert_eq!(s1.observe_errors.load(Relaxed), 2);
    up.set_behavior(Behavior::Status(404));
    get(&h, "/x");
    assert_eq!(
        s1.observe_errors.load(Relaxed),
        0,
        "404 is a valid response"
    );
    up.set_behavior(Behavior::Junk);
    get(&h, "/x");
    assert_eq!(
        s1.observe_errors.load(Relaxed),
        1,
        "junk is an invalid response"
    );
}

#[test]
fn observe_layer4_counts_failed_connects_in_tcp_mode() {
    // Active checks go to a port that accepts, so only live traffic fails.
    let chk = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let cfg = format!(
        "{DEFAULTS}frontend fe\n  bind @BIND@\n  default_backend be\n\
         backend be\n  retries 2\n  timeout connect 100ms\n\
         server s1 127.0.0.1:{} check port {} inter 30s observe layer4 error-limit 3 on-error mark-down\n",
        closed_port(),
        chk.local_addr().expect("addr").port()
    );
    let h = Harness::start(&cfg);
    let s1 = h.server("be", "s1");
    let _health = h.start_health();
    eventually(WAIT, POLL, || s1.check_status() == CheckStatus::L4Ok);
    // Three connection attempts (1 + 2 retries), all refused.
    let mut c = client(h.addr(0));
    assert!(closed_within(&mut c, WAIT));
    eventually(WAIT, POLL, || s1.op_state() == OpState::Stopped);
    assert_eq!(s1.check_status(), CheckStatus::Hana);
    assert_eq!(s1.hanafail.load(Relaxed), 1);
}
