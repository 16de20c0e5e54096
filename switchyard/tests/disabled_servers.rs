//! A server marked `disabled` in the config starts in maintenance and is
//! brought in by the Runtime API (`set server .. state ready`, `enable
//! server`), the blue/green way of keeping the idle colour configured but
//! out of rotation. Regression: switchyard kept such a server in
//! maintenance, because it had only the config marker (CMAINT) where
//! HAProxy sets CMAINT and FMAINT and `ready` clears FMAINT. Compared with
//! the real haproxy: states, then traffic, which must be shared evenly by
//! the two servers in rotation (regression: round robin gave the slot of a
//! server in maintenance to the server after it).

mod common;

use std::time::Duration;

use common::*;
use tk::{eventually, FakeUpstream, Proxy, ProxyKind};

/// `(server, op state, admin state)` from `show servers state be`.
type Row = (String, String, String);

fn states(sock: &str) -> Vec<Row> {
    servers_state_rows(&tk::cli(sock, "show servers state be"))
        .into_iter()
        .map(|f| (f[3].clone(), f[5].clone(), f[6].clone()))
        .collect()
}

/// The states after each step, and the requests blue and green served.
fn routine(kind: &ProxyKind) -> (Vec<Vec<Row>>, u64, u64) {
    let (blue, green, red) = (
        FakeUpstream::start("blue"),
        FakeUpstream::start("green"),
        FakeUpstream::start("red"),
    );
    let port = tk::free_port();
    let text = format!(
        "{}backend be
    balance roundrobin
    server blue {} disabled
    server green {} disabled
    server red {}
",
        admin_frontend(port, "be"),
        blue.addr(),
        green.addr(),
        red.addr()
    );
    let mut proxy = Proxy::spawn_kind(kind, &text, &[]).expect("proxy starts");
    proxy.wait_ready(lo(port), STARTUP);
    let sock = proxy.dir().join("admin.sock").display().to_string();
    let mut seen = vec![states(&sock)];
    assert_eq!(tk::cli(&sock, "set server be/blue state ready").trim(), "");
    assert_eq!(tk::cli(&sock, "enable server be/green").trim(), "");
    assert_eq!(tk::cli(&sock, "disable server be/red").trim(), "");
    seen.push(states(&sock));
    let url = format!("http://127.0.0.1:{port}/");
    for _ in 0..6 {
        let r = eventually(Duration::from_secs(5), Duration::from_millis(20), || {
            tk::http_get(&url, &[])
        });
        assert_eq!(r.status, 200, "{}", kind.label());
    }
    // and back into maintenance
    assert_eq!(tk::cli(&sock, "set server be/green state maint").trim(), "");
    seen.push(states(&sock));
    let counts = (blue.requests(), green.requests());
    assert_eq!(red.requests(), 0, "{}: red was disabled", kind.label());
    drop(proxy);
    (seen, counts.0, counts.1)
}

#[test]
fn a_disabled_server_comes_in_with_ready_and_enable() {
    let ours = routine(&ProxyKind::Switchyard(switchyard()));
    let row = |s: &str, op: &str, admin: &str| (s.to_owned(), op.to_owned(), admin.to_owned());
    assert_eq!(
        ours.0,
        [
            vec![
                row("blue", "0", "5"),
                row("green", "0", "5"),
                row("red", "2", "0")
            ],
            vec![
                row("blue", "2", "4"),
                row("green", "2", "4"),
                row("red", "0", "1")
            ],
            vec![
                row("blue", "2", "4"),
                row("green", "0", "5"),
                row("red", "0", "1")
            ],
        ]
    );
    // Even shares: red's slot in the round is not handed to its neighbour.
    assert_eq!((ours.1, ours.2), (3, 3), "round robin over blue and green");
    if have_haproxy("a_disabled_server_comes_in_with_ready_and_enable") {
        assert_eq!(ours, routine(&ProxyKind::Haproxy), "ours vs haproxy");
    }
}
