//! DNS re-resolution against a test nameserver on loopback (never any
//! other address): first address for an `init-addr none` server, address
//! changes, and NXDOMAIN after `hold nx`; compared with real HAProxy.
//! `localhost` is asked to the nameservers like any name, the nameservers
//! in order, AAAA first unless `resolve-prefer ipv4`.

mod common;

use std::net::{IpAddr, UdpSocket};
use std::time::Duration;

use common::dns_server::TestDns;
use common::servers::closed_port;
use common::{capture_logs, logs_with, status, store_from, wait_until, with_server, Checker};
use hickory_proto::rr::RecordType;
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
    // NXDOMAIN for longer than `hold nx`: maintenance, and the address is
    // cleared, as HAProxy's resolution error callback does
    dns.remove("dn1.test");
    wait_until("NX maintenance", T, || {
        status(&store, b, b) == "MAINT (resolution)"
    });
    assert!(
        logs_with("dn1b/dn1b is going DOWN for maintenance (DNS NX status).").len() == 1
            || logs_with("dn1b/dn1b was DOWN and now enters maintenance (DNS NX status).").len()
                == 1
    );
    with_server(&store, b, b, |s| assert!(s.addr.is_none()));
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

/// A loopback UDP port nothing listens on (queries to it get ICMP port
/// unreachable, i.e. no answer).
fn closed_udp_addr() -> std::net::SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    s.local_addr().expect("addr")
}

/// A section with the given loopback nameservers and one backend per
/// `(name, host:port, options)`, each server waiting for DNS.
fn resolvers_config(
    nameservers: &[std::net::SocketAddr],
    servers: &[(&str, String, &str)],
) -> String {
    let mut text = String::from("resolvers local\n");
    for (i, ns) in nameservers.iter().enumerate() {
        assert!(ns.ip().is_loopback());
        text += &format!("    nameserver ns{} {ns}\n", i + 1);
    }
    text += "    hold valid 1s\n    timeout resolve 1s\n    timeout retry 200ms\n    resolve_retries 2\n\
             defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n";
    for (name, addr, opts) in servers {
        text += &format!(
            "backend {name}\n    server {name} {addr} resolvers local init-addr none{opts}\n"
        );
    }
    text
}

fn ip_of(store: &switchyard_state::Store, name: &str) -> Option<IpAddr> {
    with_server(store, name, name, |s| s.addr.map(|a| a.ip()))
}

/// Regression: `localhost` was answered by the resolver library itself
/// (::1 first) without asking anyone. HAProxy asks its nameservers: AAAA,
/// then A when there is no AAAA, and uses 127.0.0.1 from the A answer.
#[test]
fn localhost_is_asked_to_the_nameservers() {
    capture_logs();
    let dns = TestDns::start();
    dns.set("localhost", &[v4("127.0.0.1")]);
    let up = FakeUpstream::start("dnslocalhost");
    let store = store_from(&resolvers_config(
        &[dns.addr],
        &[(
            "dn4",
            format!("localhost:{}", up.port()),
            " check inter 300 fall 2 rise 2",
        )],
    ));
    assert_eq!(status(&store, "dn4", "dn4"), "MAINT (resolution)");
    let _checker = Checker::start(store.clone());
    wait_until("UP", T, || status(&store, "dn4", "dn4") == "UP");
    with_server(&store, "dn4", "dn4", |s| {
        assert_eq!(
            s.addr,
            Some(format!("127.0.0.1:{}", up.port()).parse().expect("addr"))
        )
    });
    assert_eq!(
        logs_with("dn4/dn4 changed its IP"),
        ["dn4/dn4 changed its IP from (none) to 127.0.0.1 by local/ns1."]
    );
    let asked = dns.asked();
    assert_eq!(
        asked[..2],
        [
            ("localhost".to_string(), RecordType::AAAA),
            ("localhost".to_string(), RecordType::A)
        ],
        "{asked:?}"
    );
}

/// ns1 does not answer: ns2 does, and is named in the log; ns3 is never
/// asked while ns2 answers.
#[test]
fn nameservers_are_asked_in_order() {
    capture_logs();
    let dead = closed_udp_addr();
    let (ns2, ns3) = (TestDns::start(), TestDns::start());
    ns2.set("dn5.test", &[v4("127.0.0.1")]);
    ns3.set("dn5.test", &[v4("127.0.0.3")]);
    let store = store_from(&resolvers_config(
        &[dead, ns2.addr, ns3.addr],
        &[("dn5", "dn5.test:80".to_string(), " resolve-prefer ipv4")],
    ));
    let _checker = Checker::start(store.clone());
    wait_until("resolved", T, || ip_of(&store, "dn5").is_some());
    assert_eq!(ip_of(&store, "dn5"), Some(v4("127.0.0.1")));
    // The new address is published before the line is logged.
    wait_until("logged", T, || {
        !logs_with("dn5/dn5 changed its IP").is_empty()
    });
    assert_eq!(
        logs_with("dn5/dn5 changed its IP"),
        ["dn5/dn5 changed its IP from (none) to 127.0.0.1 by local/ns2."]
    );
    assert!(ns2.queries() > 0);
    assert_eq!(ns3.queries(), 0, "{:?}", ns3.asked());
}

/// Both families known: AAAA wins by default, A with `resolve-prefer ipv4`.
#[test]
fn resolve_prefer_picks_the_family() {
    capture_logs();
    let dns = TestDns::start();
    dns.set("dn6.test", &[v4("127.0.0.1"), v4("::1")]);
    let store = store_from(&resolvers_config(
        &[dns.addr],
        &[
            ("dn6a", "dn6.test:80".to_string(), ""),
            ("dn6b", "dn6.test:80".to_string(), " resolve-prefer ipv4"),
            ("dn6c", "dn6.test:80".to_string(), " resolve-prefer ipv6"),
        ],
    ));
    let _checker = Checker::start(store.clone());
    wait_until("all resolved", T, || {
        ["dn6a", "dn6b", "dn6c"]
            .iter()
            .all(|n| ip_of(&store, n).is_some())
    });
    assert_eq!(ip_of(&store, "dn6a"), Some(v4("::1")));
    assert_eq!(ip_of(&store, "dn6b"), Some(v4("127.0.0.1")));
    assert_eq!(ip_of(&store, "dn6c"), Some(v4("::1")));
    // each resolution asked its own preferred type
    let asked = dns.asked();
    assert!(asked.contains(&("dn6.test".to_string(), RecordType::A)));
    assert!(asked.contains(&("dn6.test".to_string(), RecordType::AAAA)));
}
