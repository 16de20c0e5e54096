//! The prober against real loopback servers: status sequences, the bytes an
//! HTTP check sends, expect rules, soft-stop, slowstart, check-port,
//! paused checks, and servers coming and going with the store.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use common::servers::{closed_port, RawServer, Reply};
use common::{
    capture_logs, logs_with, status, store_from, wait_until, with_server, Checker, StatusRecorder,
};
use switchyard_state::{CheckStatus, OpState, Store};
use switchyard_testkit::FakeUpstream;

const T: Duration = Duration::from_secs(10);

fn defaults() -> &'static str {
    "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"
}

fn check_of(store: &Store, be: &str, sv: &str) -> (CheckStatus, u16, String) {
    with_server(store, be, sv, |s| {
        (
            s.live.check_status(),
            s.live.check_code.load(Relaxed),
            s.live
                .last_check_text
                .load()
                .as_deref()
                .cloned()
                .unwrap_or_default(),
        )
    })
}

/// The reference's timeline (inter 1s, rise 2, fall 2): a dead server at
/// startup, coming back, failing.
#[test]
fn status_sequence_of_a_server_that_stops_and_comes_back() {
    capture_logs();
    let mut up = FakeUpstream::start("ck_seq");
    let port = up.port();
    up.stop();
    let store = store_from(&format!(
        "{}backend ck_seq\n    option httpchk GET /health\n    server s1 127.0.0.1:{port} check inter 1s rise 2 fall 2\n",
        defaults()
    ));
    let rec = StatusRecorder::start(store.clone(), "ck_seq", "s1");
    let _checker = Checker::start(store.clone());
    assert_eq!(rec.wait_for("DOWN", T), ["UP 1/2", "DOWN"]);
    assert_eq!(
        check_of(&store, "ck_seq", "s1"),
        (CheckStatus::L4Con, 0, "Connection refused".into())
    );
    rec.clear();
    up.restart();
    assert_eq!(rec.wait_for("UP", T), ["DOWN", "DOWN 1/2", "UP"]);
    assert_eq!(
        check_of(&store, "ck_seq", "s1"),
        (CheckStatus::L7Ok, 200, String::new())
    );
    rec.clear();
    up.set_healthy(false);
    assert_eq!(rec.wait_for("DOWN", T), ["UP", "UP 1/2", "DOWN"]);
    assert_eq!(
        check_of(&store, "ck_seq", "s1"),
        (CheckStatus::L7Sts, 503, "Service Unavailable".into())
    );
    with_server(&store, "ck_seq", "s1", |s| {
        assert_eq!(s.live.chkdown.load(Relaxed), 2);
        assert_eq!(s.live.chkfail.load(Relaxed), 3);
        assert!(s.live.check_duration_ms.load(Relaxed) >= 0);
    });
    let logs = logs_with("ck_seq/s1 is");
    assert_eq!(logs.len(), 3, "{logs:?}");
    assert!(logs[0].starts_with("Server ck_seq/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: "));
    assert!(logs[1].starts_with(
        "Server ck_seq/s1 is UP, reason: Layer7 check passed, code: 200, check duration: "
    ));
    assert!(logs[1].ends_with(
        "ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
    ));
    assert!(logs[2].contains(
        "is DOWN, reason: Layer7 wrong status, code: 503, info: \"Service Unavailable\""
    ));
}

/// What each form of HTTP check puts on the wire (captured from HAProxy
/// 2.6 in the reference).
#[test]
fn http_check_wire_bytes() {
    let servers: Vec<RawServer> = (0..5)
        .map(|_| RawServer::start(Reply::status(200, "OK")))
        .collect();
    let p: Vec<u16> = servers.iter().map(|s| s.port).collect();
    let store = store_from(&format!(
        "{d}backend ck_w0\n    option httpchk\n    server s 127.0.0.1:{} check inter 300\n\
         backend ck_w1\n    option httpchk GET /health\n    server s 127.0.0.1:{} check inter 300\n\
         backend ck_w2\n    option httpchk\n    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host app.local\n    server s 127.0.0.1:{} check inter 300\n\
         backend ck_w3\n    option httpchk\n    http-check send meth GET  uri /\n    server s 127.0.0.1:{} check inter 300\n\
         backend ck_w4\n    option httpchk\n    http-check send-state\n    server s 127.0.0.1:{} check inter 300 weight 10\n",
        p[0],
        p[1],
        p[2],
        p[3],
        p[4],
        d = defaults()
    ));
    let _checker = Checker::start(store.clone());
    wait_until("every server checked twice", T, || {
        servers.iter().all(|s| s.requests().len() >= 2)
    });
    let first = |i: usize| String::from_utf8_lossy(&servers[i].requests()[0]).into_owned();
    assert_eq!(first(0), "OPTIONS / HTTP/1.0\r\n\r\n");
    assert_eq!(first(1), "GET /health HTTP/1.0\r\n\r\n");
    assert_eq!(
        first(2),
        "GET /healthz HTTP/1.1\r\nhost: app.local\r\nconnection: close\r\n\r\n"
    );
    assert_eq!(first(3), "GET / HTTP/1.0\r\n\r\n");
    let node = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let node = node.trim();
    let state = |st: &str| {
        format!(
            "OPTIONS / HTTP/1.0\r\nx-haproxy-server-state: {st}; address=127.0.0.1; port={}; name=ck_w4/s; node={node}; weight=10/10; scur=0/0; qcur=0\r\n\r\n",
            p[4]
        )
    };
    assert_eq!(first(4), state("UP 1/3"));
    let second = String::from_utf8_lossy(&servers[4].requests()[1]).into_owned();
    assert_eq!(second, state("UP"));
}

#[test]
fn expect_rules_and_failure_kinds() {
    let ok = RawServer::start(Reply::status(200, "OK"));
    let s503 = RawServer::start(Reply::status(503, "Service Unavailable"));
    let s302 = RawServer::start(Reply::status(302, "Found"));
    let junk = RawServer::start(Reply::Bytes(b"GARBAGE\r\n\r\n".to_vec()));
    let empty = RawServer::start(Reply::Close);
    let hang = RawServer::start(Reply::Hang);
    let refused = closed_port();
    let store = store_from(&format!(
        "{d}    timeout check 300ms\n\
         backend ck_e\n    option httpchk GET /\n\
             server s503 127.0.0.1:{} check inter 300\n\
             server s302 127.0.0.1:{} check inter 300\n\
             server junk 127.0.0.1:{} check inter 300\n\
             server empty 127.0.0.1:{} check inter 300\n\
             server hang 127.0.0.1:{} check inter 300\n\
             server refused 127.0.0.1:{refused} check inter 300\n\
         backend ck_e200\n    option httpchk GET /\n    http-check expect status 200\n    server s302 127.0.0.1:{} check inter 300\n\
         backend ck_estr\n    option httpchk GET /\n    http-check expect string nothere\n    server ok 127.0.0.1:{} check inter 300\n\
         backend ck_enstr\n    option httpchk GET /\n    http-check expect ! rstring hel+o\n    server ok 127.0.0.1:{} check inter 300\n\
         backend ck_ers\n    option httpchk GET /\n    http-check expect rstatus ^5\n    server s503 127.0.0.1:{} check inter 300\n\
         backend ck_tcp\n    server ok 127.0.0.1:{} check inter 300\n    server refused 127.0.0.1:{refused} check inter 300\n",
        s503.port,
        s302.port,
        junk.port,
        empty.port,
        hang.port,
        s302.port,
        ok.port,
        ok.port,
        s503.port,
        ok.port,
        d = defaults()
    ));
    let _checker = Checker::start(store.clone());
    let expect = [
        (
            "ck_e",
            "s503",
            CheckStatus::L7Sts,
            503,
            "Service Unavailable",
            "DOWN",
        ),
        ("ck_e", "s302", CheckStatus::L7Ok, 302, "", "UP"),
        ("ck_e", "junk", CheckStatus::L7Rsp, 0, "", "DOWN"),
        ("ck_e", "empty", CheckStatus::L7Rsp, 0, "", "DOWN"),
        ("ck_e", "hang", CheckStatus::L7Tout, 0, "", "DOWN"),
        (
            "ck_e",
            "refused",
            CheckStatus::L4Con,
            0,
            "Connection refused",
            "DOWN",
        ),
        ("ck_e200", "s302", CheckStatus::L7Sts, 302, "Found", "DOWN"),
        (
            "ck_estr",
            "ok",
            CheckStatus::L7Rsp,
            0,
            "HTTP content check did not match",
            "DOWN",
        ),
        (
            "ck_enstr",
            "ok",
            CheckStatus::L7Rsp,
            0,
            "HTTP check matched unwanted content",
            "DOWN",
        ),
        ("ck_ers", "s503", CheckStatus::L7Ok, 503, "", "UP"),
        ("ck_tcp", "ok", CheckStatus::L4Ok, 0, "", "UP"),
        (
            "ck_tcp",
            "refused",
            CheckStatus::L4Con,
            0,
            "Connection refused",
            "DOWN",
        ),
    ];
    wait_until("every server checked", T, || {
        expect.iter().all(|(be, sv, ..)| {
            with_server(&store, be, sv, |s| {
                s.live.check_status() != CheckStatus::Ini
            })
        })
    });
    // give slow (timeout) checks their time, then compare
    wait_until("all verdicts", T, || {
        expect.iter().all(|(be, sv, st, code, text, _)| {
            check_of(&store, be, sv) == (*st, *code, text.to_string())
        })
    });
    for (be, sv, _, _, _, want) in expect {
        assert_eq!(status(&store, be, sv), want, "{be}/{sv}");
    }
    // L7TOUT takes `timeout check` after the connection
    let d = with_server(&store, "ck_e", "hang", |s| {
        s.live.check_duration_ms.load(Relaxed)
    });
    assert!((250..1000).contains(&d), "hang took {d} ms");
}

#[test]
fn connect_timeout_is_l4tout() {
    // A listener whose accept queue is full: SYNs are dropped, the connect hangs.
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    sock.bind(
        &"127.0.0.1:0"
            .parse::<std::net::SocketAddr>()
            .expect("addr")
            .into(),
    )
    .expect("bind");
    sock.listen(0).expect("listen");
    let addr = sock.local_addr().expect("addr").as_socket().expect("inet");
    let fillers: Vec<_> = (0..4)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()
        })
        .collect();
    assert!(!fillers.is_empty());
    let store = store_from(&format!(
        "{}    timeout check 300ms\n    timeout connect 400ms\nbackend ck_l4t\n    server s 127.0.0.1:{} check inter 2s\n",
        defaults(),
        addr.port()
    ));
    let _checker = Checker::start(store.clone());
    wait_until("L4TOUT", T, || {
        check_of(&store, "ck_l4t", "s").0 == CheckStatus::L4Tout
    });
    // the connect phase gets min(inter, timeout connect)
    let d = with_server(&store, "ck_l4t", "s", |s| {
        s.live.check_duration_ms.load(Relaxed)
    });
    assert!((350..1500).contains(&d), "took {d} ms");
    assert_eq!(status(&store, "ck_l4t", "s"), "DOWN");
}

#[test]
fn disable_on_404_soft_stops_the_server() {
    capture_logs();
    let up = FakeUpstream::builder("ck_404")
        .health_down_status(404)
        .start()
        .expect("upstream");
    let store = store_from(&format!(
        "{}backend ck_404\n    option httpchk GET /health\n    http-check disable-on-404\n    server s1 127.0.0.1:{} check inter 200 rise 2 fall 2\n",
        defaults(),
        up.port()
    ));
    let rec = StatusRecorder::start(store.clone(), "ck_404", "s1");
    let _checker = Checker::start(store.clone());
    rec.wait_for("UP", T);
    up.set_healthy(false);
    rec.wait_for("NOLB", T);
    assert_eq!(
        check_of(&store, "ck_404", "s1"),
        (CheckStatus::L7OkC, 404, String::new())
    );
    with_server(&store, "ck_404", "s1", |s| {
        assert_eq!(s.live.op_state(), OpState::Stopping);
        assert!(s.accepts_persistent() && !s.is_usable());
    });
    up.set_healthy(true);
    let seq = rec.wait_for("UP", T);
    assert_eq!(seq, ["UP 1/2", "UP", "NOLB", "UP"]);
    assert!(
        logs_with("ck_404/s1 is stopping, reason: Layer7 check conditionally passed, code: 404")
            .first()
            .is_some_and(|l| l.ends_with(
                "0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
            ))
    );
    assert_eq!(
        logs_with("backend ck_404 has no server available!").len(),
        1
    );
}

#[test]
fn a_down_server_answering_404_stays_down() {
    let mut up = FakeUpstream::builder("ck_404d")
        .health_down_status(404)
        .healthy(false)
        .start()
        .expect("upstream");
    let port = up.port();
    up.stop();
    let store = store_from(&format!(
        "{}backend ck_404d\n    option httpchk GET /health\n    http-check disable-on-404\n    server s1 127.0.0.1:{port} check inter 200\n",
        defaults()
    ));
    let rec = StatusRecorder::start(store.clone(), "ck_404d", "s1");
    let _checker = Checker::start(store.clone());
    rec.wait_for("DOWN", T);
    up.restart();
    wait_until("404 seen", T, || {
        check_of(&store, "ck_404d", "s1").0 == CheckStatus::L7Sts
    });
    assert_eq!(
        check_of(&store, "ck_404d", "s1"),
        (CheckStatus::L7Sts, 404, "Not Found".into())
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rec.seen(), ["UP 1/3", "DOWN"]);
}

/// Weight 100, slowstart 3s: 7 → 38 → 69 → 100 on whole seconds (what
/// HAProxy 2.6 shows), STARTING meanwhile, then a reason-less `is UP.`.
#[test]
fn slowstart_ramp_after_coming_back() {
    capture_logs();
    let mut up = FakeUpstream::start("ck_ss");
    let port = up.port();
    up.stop();
    let store = store_from(&format!(
        "{}backend ck_ss\n    option httpchk GET /health\n    server s1 127.0.0.1:{port} check inter 200 rise 1 fall 1 slowstart 3s weight 100\n    server s2 127.0.0.1:{} check inter 200\n",
        defaults(),
        closed_port()
    ));
    // never at boot: a fresh server is at full weight
    with_server(&store, "ck_ss", "s1", |s| {
        assert_eq!(s.effective_weight(switchyard_state::now_ms()), 100)
    });
    let _checker = Checker::start(store.clone());
    wait_until("s1 DOWN", T, || status(&store, "ck_ss", "s1") == "DOWN");
    up.restart();
    wait_until("s1 starting", T, || {
        with_server(&store, "ck_ss", "s1", |s| {
            s.live.op_state() == OpState::Starting
        })
    });
    let mut weights = Vec::new();
    let mut throttles = Vec::new();
    wait_until("ramp over", T, || {
        with_server(&store, "ck_ss", "s1", |s| {
            let now = switchyard_state::now_ms();
            let w = s.effective_weight(now);
            if weights.last() != Some(&w) {
                weights.push(w);
            }
            if let Some(t) = s.throttle_pct(now) {
                if throttles.last() != Some(&t) {
                    throttles.push(t);
                }
            }
            s.live.op_state() == OpState::Running
        })
    });
    assert_eq!(weights, [7, 38, 69, 100]);
    assert_eq!(throttles, [6, 37, 68]);
    let logs = logs_with("ck_ss/s1 is UP");
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert!(logs[0].starts_with("Server ck_ss/s1 is UP, reason: Layer7 check passed"));
    assert_eq!(logs[1], "Server ck_ss/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.");
}

#[test]
fn check_port_and_check_addr() {
    let srv = RawServer::start(Reply::status(200, "OK"));
    let store = store_from(&format!(
        "{}backend ck_port\n    option httpchk GET /\n    server s1 127.0.0.1:{} check inter 200 port {} addr 127.0.0.1\n",
        defaults(),
        closed_port(),
        srv.port
    ));
    let _checker = Checker::start(store.clone());
    wait_until("checked on the check port", T, || {
        check_of(&store, "ck_port", "s1").0 == CheckStatus::L7Ok
    });
    assert_eq!(status(&store, "ck_port", "s1"), "UP");
}

#[test]
fn servers_in_maintenance_or_with_checks_disabled_are_not_checked() {
    let a = RawServer::start(Reply::status(200, "OK"));
    let b = RawServer::start(Reply::status(200, "OK"));
    let c = RawServer::start(Reply::status(200, "OK"));
    let store = store_from(&format!(
        "{}backend ck_pause\n    option httpchk GET /\n    server off 127.0.0.1:{} check inter 100 disabled\n    server dis 127.0.0.1:{} check inter 100\n    server on 127.0.0.1:{} check inter 100\n",
        defaults(),
        a.port,
        b.port,
        c.port
    ));
    let (p, s) = common::idx(&store, "ck_pause", "dis");
    switchyard_health::set_checks_enabled(&store.load(), p, s, false).expect("disable");
    let _checker = Checker::start(store.clone());
    wait_until("the enabled server is checked a few times", T, || {
        c.requests().len() >= 5
    });
    assert!(
        a.requests().is_empty(),
        "a disabled (MAINT) server is not checked"
    );
    assert!(b.requests().is_empty(), "checks disabled");
    assert_eq!(status(&store, "ck_pause", "off"), "MAINT");
    with_server(&store, "ck_pause", "off", |s| {
        assert_eq!(
            s.live.op_state(),
            OpState::Stopped,
            "maintenance at boot is DOWN underneath"
        );
        assert_eq!(s.live.health.load(Relaxed), 0);
    });
    switchyard_health::set_checks_enabled(&store.load(), p, s, true).expect("enable");
    wait_until("checks resume", T, || !b.requests().is_empty());
}

/// A publish that adds or removes servers: new ones get checked, removed
/// ones stop being checked, and kept ones keep their live state.
#[test]
fn follows_the_store_across_generations() {
    let a = RawServer::start(Reply::status(200, "OK"));
    let b = RawServer::start(Reply::status(503, "Service Unavailable"));
    let text = |with_b: bool| {
        let mut t = format!(
            "{}backend ck_gen\n    option httpchk GET /\n    server a 127.0.0.1:{} check inter 100\n",
            defaults(),
            a.port
        );
        if with_b {
            t.push_str(&format!(
                "    server b 127.0.0.1:{} check inter 100\n",
                b.port
            ));
        }
        t
    };
    let store = store_from(&text(false));
    let live_a = with_server(&store, "ck_gen", "a", |s| s.live.clone());
    let _checker = Checker::start(store.clone());
    wait_until("a checked", T, || !a.requests().is_empty());
    let reload = |with_b: bool| {
        let cfg = switchyard_config::parse_str("test.cfg", &text(with_b)).expect("parse");
        store
            .replace(|cur| switchyard_state::build(Arc::new(cfg), Some(cur), &|_| None))
            .expect("reload");
    };
    reload(true);
    wait_until("b checked and DOWN", T, || {
        status(&store, "ck_gen", "b") == "DOWN"
    });
    assert!(Arc::ptr_eq(
        &live_a,
        &with_server(&store, "ck_gen", "a", |s| s.live.clone())
    ));
    reload(false);
    std::thread::sleep(Duration::from_millis(300));
    let n = b.requests().len();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        b.requests().len(),
        n,
        "a removed server is no longer checked"
    );
    assert_eq!(status(&store, "ck_gen", "a"), "UP");
}
