//! DNS re-resolution against a test nameserver on loopback (never any
//! other address): first address for an `init-addr none` server, address
//! changes, and NXDOMAIN after `hold nx`; compared with real HAProxy.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::dns_server::TestDns;
use common::servers::closed_port;
use common::{capture_logs, logs_with, status, store_from, wait_until, with_server, Checker};
use switchyard_state::AdminState;
use switchyard_testkit::{haproxy_available, FakeUpstream, Proxy};

const T: Duration = Duration::from_secs(15);

fn v4(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn config(
    dns: &TestDns,
    be: &str,
    blue: u16,
    green: u16,
    extra_global: &str,
    blue_opts: &str,
) -> String {
    assert!(dns.addr.ip().is_loopback());
    format!(
        "global\n{extra_global}\
         resolvers local\n    nameserver ns1 {dns}\n    hold valid 1s\n    hold nx 1s\n    timeout resolve 1s\n    timeout retry 200ms\n    resolve_retries 2\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         backend {be}b\n    option httpchk\n    http-check send meth GET  uri /health\n    server {be}b {be}.test:{blue} check inter 300 fall 2 rise 2 resolvers local init-addr none{blue_opts}\n\
         backend {be}g\n    option httpchk\n    http-check send meth GET  uri /health\n    server {be}g {be}.test:{green} check inter 300 fall 2 rise 2 resolvers local init-addr none\n",
        dns = dns.addr
    )
}

#[test]
fn init_addr_none_waits_for_dns_then_follows_it() {
    capture_logs();
    let dns = TestDns::start();
    let blue = FakeUpstream::start("dnsblue");
    let store = store_from(&config(&dns, "dn1", blue.port(), closed_port(), "", ""));
    let (b, g) = ("dn1b", "dn1g");
    // no answer yet: RMAINT, no address, no traffic
    assert_eq!(status(&store, b, b), "MAINT (resolution)");
    with_server(&store, b, b, |s| {
        assert!(s.addr.is_none() && !s.is_usable())
    });
    let _checker = Checker::start(store.clone());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        status(&store, b, b),
        "MAINT (resolution)",
        "NXDOMAIN keeps it out"
    );
    dns.set("dn1.test", &[v4("127.0.0.1")]);
    wait_until("blue UP", T, || status(&store, b, b) == "UP");
    wait_until("green DOWN", T, || status(&store, g, g) == "DOWN");
    with_server(&store, b, b, |s| {
        assert_eq!(
            s.addr,
            Some(format!("127.0.0.1:{}", blue.port()).parse().expect("addr"))
        );
        assert!(!s.admin.has(AdminState::RMAINT));
    });
    let first_lines = [
        "dn1b/dn1b changed its IP from (none) to 127.0.0.1 by local/ns1.",
        "Server dn1b/dn1b ('dn1.test') is UP/READY (resolves again).",
        "Server dn1b/dn1b administratively READY thanks to valid DNS answer.",
        "dn1g/dn1g changed its IP from (none) to 127.0.0.1 by DNS cache.",
        "Server dn1g/dn1g ('dn1.test') is UP/READY (resolves again).",
        "Server dn1g/dn1g administratively READY thanks to valid DNS answer.",
    ];
    assert_eq!(logs_with("dn1")[..6], first_lines);
    // the address moves (still loopback): applied to both servers, logged
    dns.set("dn1.test", &[v4("127.0.0.2")]);
    wait_until("new address", T, || {
        with_server(&store, b, b, |s| {
            s.addr.map(|a| a.ip()) == Some(v4("127.0.0.2"))
        })
    });
    wait_until("both moved", T, || logs_with("to 127.0.0.2").len() == 2);
    assert_eq!(
        logs_with("to 127.0.0.2"),
        [
            "dn1b/dn1b changed its IP from 127.0.0.1 to 127.0.0.2 by local/ns1.",
            "dn1g/dn1g changed its IP from 127.0.0.1 to 127.0.0.2 by DNS cache.",
        ]
    );
    // NXDOMAIN for longer than `hold nx`: maintenance, address kept
    dns.remove("dn1.test");
    wait_until("NX maintenance", T, || {
        status(&store, b, b) == "MAINT (resolution)"
    });
    assert!(
        logs_with("dn1b/dn1b is going DOWN for maintenance (DNS NX status).").len() == 1
            || logs_with("dn1b/dn1b was DOWN and now enters maintenance (DNS NX status).").len()
                == 1
    );
    with_server(&store, b, b, |s| assert!(s.addr.is_some()));
    // and back
    dns.set("dn1.test", &[v4("127.0.0.1")]);
    wait_until("back", T, || {
        !with_server(&store, b, b, |s| s.admin.is_maint())
    });
    assert!(dns.queries() > 0);
}

#[test]
fn a_valid_answer_without_address_is_maintenance() {
    capture_logs();
    let dns = TestDns::start();
    let up = FakeUpstream::start("dnsnoip");
    let store = store_from(&config(&dns, "dn2", up.port(), up.port(), "", ""));
    dns.set("dn2.test", &[v4("127.0.0.1")]);
    let _checker = Checker::start(store.clone());
    wait_until("UP", T, || status(&store, "dn2b", "dn2b") == "UP");
    dns.set("dn2.test", &[]);
    wait_until("no IP", T, || {
        status(&store, "dn2b", "dn2b") == "MAINT (resolution)"
    });
    with_server(&store, "dn2b", "dn2b", |s| assert!(s.addr.is_none()));
    assert_eq!(
        logs_with("dn2b/dn2b is going DOWN for maintenance"),
        ["Server dn2b/dn2b is going DOWN for maintenance (No IP for server ). 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."]
    );
}

/// The same config under real HAProxy 2.6 and under switchyard's checker:
/// the DNS and state lines match.
#[test]
fn same_dns_lines_as_haproxy() {
    if !haproxy_available() {
        eprintln!("haproxy not installed; skipping");
        return;
    }
    capture_logs();
    let dns = TestDns::start();
    dns.set("dn3.test", &[v4("127.0.0.1")]);
    let blue = FakeUpstream::start("dn3blue");
    let green = closed_port();
    let text = config(
        &dns,
        "dn3",
        blue.port(),
        green,
        "    stats socket @DIR@/h.sock level admin\n",
        " slowstart 1s",
    );
    let hap = Proxy::haproxy(&text, &[]).expect("haproxy runs");
    let store = store_from(&text.replace("    stats socket @DIR@/h.sock level admin\n", ""));
    let _checker = Checker::start(store.clone());
    wait_until("both settle", T, || {
        status(&store, "dn3b", "dn3b") == "UP" && status(&store, "dn3g", "dn3g") == "DOWN"
    });
    let wanted = |l: &str| l.contains("dn3");
    wait_until("haproxy settles", T, || {
        hap.child()
            .stderr_lines()
            .iter()
            .filter(|l| wanted(l))
            .count()
            >= 9
    });
    wait_until("our ramp ends", T, || {
        logs_with("dn3b/dn3b is UP.").len() == 1
    });
    std::thread::sleep(Duration::from_millis(500));
    let theirs: Vec<String> = hap
        .child()
        .stderr_lines()
        .iter()
        .filter(|l| wanted(l))
        .map(|l| {
            l.split_once(" : ")
                .map(|(_, m)| m.to_string())
                .unwrap_or_default()
        })
        .collect();
    let ours: Vec<String> = logs_with("dn3").into_iter().filter(|l| wanted(l)).collect();
    eprintln!("haproxy: {theirs:#?}\nours: {ours:#?}");
    let dur = regex::Regex::new(r"check duration: \d+ms").expect("regex");
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v
            .iter()
            .map(|l| {
                dur.replace_all(
                    &l.replace("backend 'dn3g'", "backend dn3g"),
                    "check duration: Nms",
                )
                .into_owned()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        norm(&ours),
        norm(&theirs),
        "ours: {ours:#?}\ntheirs: {theirs:#?}"
    );
}
