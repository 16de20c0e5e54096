//! Balancing algorithms, connection retries with redispatch, L7 retries.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;

use common::Harness;
use switchyard_testkit::{free_port, http_get, Behavior, FakeUpstream, KeepAliveClient};

fn cfg(be: &str, servers: &[String]) -> String {
    let mut s = String::from(
        "defaults\n  mode http\n  timeout connect 300ms\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n  default_backend be\nbackend be\n",
    );
    s.push_str(be);
    for l in servers {
        s.push_str("  ");
        s.push_str(l);
        s.push('\n');
    }
    s
}

fn spread(h: &Harness, n: usize, path: &str, headers: &[(&str, &str)]) -> HashMap<String, usize> {
    let mut c = KeepAliveClient::connect(&h.addr(0).to_string()).expect("connect");
    let mut m = HashMap::new();
    for _ in 0..n {
        let r = c.request("GET", path, headers, b"").expect("req");
        assert_eq!(r.status, 200, "{}", r.text());
        *m.entry(r.header("x-served-by").unwrap_or("?").to_string())
            .or_default() += 1;
    }
    m
}

#[test]
fn roundrobin_spreads_by_weight() {
    let ups: Vec<FakeUpstream> = ["a", "b", "c"]
        .iter()
        .map(|n| FakeUpstream::start(n))
        .collect();
    let h = Harness::start(&cfg(
        "  balance roundrobin\n",
        &[
            format!("server a {} weight 3", ups[0].addr()),
            format!("server b {} weight 1", ups[1].addr()),
            format!("server c {} weight 1", ups[2].addr()),
        ],
    ));
    let m = spread(&h, 100, "/", &[]);
    assert_eq!(m.get("a"), Some(&60), "{m:?}");
    assert_eq!(m.get("b"), Some(&20), "{m:?}");
    assert_eq!(m.get("c"), Some(&20), "{m:?}");
}

#[test]
fn static_rr_first_and_hashes() {
    let ups: Vec<FakeUpstream> = ["a", "b"].iter().map(|n| FakeUpstream::start(n)).collect();
    let servers = [
        format!("server a {}", ups[0].addr()),
        format!("server b {}", ups[1].addr()),
    ];

    let h = Harness::start(&cfg("  balance static-rr\n", &servers));
    let m = spread(&h, 10, "/", &[]);
    assert_eq!((m.get("a"), m.get("b")), (Some(&5), Some(&5)), "{m:?}");
    drop(h);

    let h = Harness::start(&cfg("  balance first\n", &servers));
    assert_eq!(spread(&h, 10, "/", &[]).get("a"), Some(&10));
    drop(h);

    let h = Harness::start(&cfg("  balance source\n", &servers));
    assert_eq!(spread(&h, 10, "/", &[]).len(), 1, "one client, one server");
    drop(h);

    let h = Harness::start(&cfg("  balance uri\n", &servers));
    assert_eq!(spread(&h, 10, "/same/path?x=1", &[]).len(), 1);
    let mut seen = HashMap::new();
    for i in 0..40 {
        let r = http_get(&h.url(&format!("/p{i}")), &[]).expect("get");
        *seen
            .entry(r.header("x-served-by").unwrap_or("?").to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(
        seen.len(),
        2,
        "different URIs hash over both servers: {seen:?}"
    );
    drop(h);

    let h = Harness::start(&cfg("  balance url_param user\n", &servers));
    assert_eq!(spread(&h, 10, "/?user=bob", &[]).len(), 1);
    assert_eq!(
        spread(&h, 10, "/", &[]).len(),
        2,
        "missing parameter: round robin"
    );
    drop(h);

    let h = Harness::start(&cfg("  balance hdr(x-user)\n", &servers));
    assert_eq!(spread(&h, 10, "/", &[("X-User", "alice")]).len(), 1);
    drop(h);

    let h = Harness::start(&cfg("  balance random\n", &servers));
    assert_eq!(spread(&h, 60, "/", &[]).len(), 2);
    drop(h);

    let h = Harness::start(&cfg("  balance leastconn\n", &servers));
    assert_eq!(spread(&h, 10, "/", &[]).len(), 2, "ties rotate");
}

#[test]
fn backups_only_when_no_active_server() {
    let ups: Vec<FakeUpstream> = ["a", "bk1", "bk2"]
        .iter()
        .map(|n| FakeUpstream::start(n))
        .collect();
    let dead = free_port();
    let servers = [
        format!("server a 127.0.0.1:{dead} disabled"),
        format!("server bk1 {} backup", ups[1].addr()),
        format!("server bk2 {} backup", ups[2].addr()),
    ];
    let h = Harness::start(&cfg("", &servers));
    assert_eq!(
        spread(&h, 6, "/", &[]).get("bk1"),
        Some(&6),
        "first backup only"
    );
    drop(h);
    let h = Harness::start(&cfg("  option allbackups\n", &servers));
    assert_eq!(spread(&h, 6, "/", &[]).len(), 2);
    drop(h);
    let servers = [
        format!("server a {}", ups[0].addr()),
        format!("server bk1 {} backup", ups[1].addr()),
    ];
    let h = Harness::start(&cfg("", &servers));
    assert_eq!(spread(&h, 6, "/", &[]).get("a"), Some(&6));
}

#[test]
fn retries_redispatch_away_from_a_dead_server() {
    let good = FakeUpstream::start("good");
    let dead = free_port();
    let h = Harness::start(&cfg(
        "  balance roundrobin\n  retries 3\n  option redispatch\n",
        &[
            format!("server dead 127.0.0.1:{dead}"),
            format!("server good {}", good.addr()),
        ],
    ));
    // Every request succeeds: a failed connection is redispatched at once.
    let m = spread(&h, 30, "/", &[]);
    assert_eq!(m.get("good"), Some(&30));
    let snap = h.store.load();
    let (p, s) = snap.find_server("be", "dead").expect("srv");
    let dead_srv = snap.server(p, s).expect("srv");
    assert!(
        dead_srv.live.counters.wredis.load(Relaxed) >= 14,
        "{}",
        dead_srv.live.counters.wredis.load(Relaxed)
    );
    assert_eq!(dead_srv.live.counters.econ.load(Relaxed), 0);
}

#[test]
fn l7_retry_on_503_moves_to_a_good_server() {
    let bad = FakeUpstream::builder("bad")
        .behavior(Behavior::Unavailable)
        .start()
        .expect("bad");
    let good = FakeUpstream::start("good");
    let servers = [
        format!("server bad {}", bad.addr()),
        format!("server good {}", good.addr()),
    ];
    let h = Harness::start(&cfg(
        "  balance roundrobin\n  retries 3\n  retry-on 503 conn-failure\n  option redispatch\n",
        &servers,
    ));
    let mut c = KeepAliveClient::connect(&h.addr(0).to_string()).expect("connect");
    for i in 0..10 {
        let r = if i % 2 == 0 {
            c.request("GET", "/l7", &[], b"").expect("get")
        } else {
            c.request("POST", "/l7", &[], b"payload").expect("post")
        };
        assert_eq!(r.status, 200, "request {i}: {}", r.text());
        assert_eq!(r.header("x-served-by"), Some("good"));
    }
    let snap = h.store.load();
    let be = snap.proxy(snap.proxy_idx("be").expect("be")).expect("be");
    assert_eq!(
        be.live.be.hrsp[4].load(Relaxed),
        0,
        "retried 503s are not counted"
    );
    assert_eq!(be.live.be.hrsp[1].load(Relaxed), 10);
    let (p, s) = snap.find_server("be", "bad").expect("srv");
    let b = snap.server(p, s).expect("srv");
    assert!(b.live.counters.wretr.load(Relaxed) >= 1);
    assert!(b.live.counters.wredis.load(Relaxed) >= 1);
    drop(h);

    // Without retry-on the 503 reaches the client.
    let h = Harness::start(&cfg("  balance roundrobin\n", &servers));
    let statuses: Vec<u16> = (0..4)
        .map(|_| http_get(&h.url("/"), &[]).expect("get").status)
        .collect();
    assert!(statuses.contains(&503), "{statuses:?}");
}
