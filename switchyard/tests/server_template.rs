//! `server-template` with DNS, as in a compose stack that scales a service:
//! the template's servers share out the A records of their name, one
//! address each; those left over wait in maintenance; when the answer
//! changes only the servers whose address went away move. Two plain
//! servers of one backend naming the same host follow the same rule, and
//! `resolve-opts allow-dup-ip` lets them share. switchyard and the real
//! haproxy run the same config against the same nameserver, answer by
//! answer, and must show the same `show servers state`.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use common::*;
use tk::dns::{DnsRecord, TestDns};
use tk::{eventually, Proxy, ProxyKind};

const NAME: &str = "app.test";

/// `hold` lines beyond `hold valid` go in `holds`.
fn config(dns: SocketAddr, port: u16, holds: &str) -> String {
    let opts = format!("{NAME}:8080 resolvers local init-addr none resolve-prefer ipv4");
    let head = admin_frontend(port, "app");
    format!(
        "{head}
resolvers local
    nameserver ns1 {dns}
    hold valid 100ms
{holds}    timeout resolve 100ms
    timeout retry 100ms
    resolve_retries 3

backend app
    server-template app 1-3 {opts}

backend pair
    server p1 {opts}
    server p2 {opts}

backend dup
    server-template d 2 {opts} resolve-opts allow-dup-ip
"
    )
}

/// The nameserver, answering `ips` for the name (restarted on the same
/// address to change its answer).
fn nameserver(at: SocketAddr, ips: &[&str]) -> TestDns {
    let records: Vec<DnsRecord> = ips
        .iter()
        .map(|ip| DnsRecord::new(NAME, ip.parse().expect("ip")))
        .collect();
    // The port was just freed by the previous server; retry briefly.
    let mut last = None;
    for _ in 0..50 {
        match TestDns::start(at, &records) {
            Ok(d) => return d,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("test nameserver on {at}: {last:?}");
}

/// `(backend/server, address, op state, admin state)` of every server.
type Row = (String, String, String, String);

fn states(sock: &str) -> Vec<Row> {
    servers_state_rows(&tk::try_cli(sock, "show servers state").unwrap_or_default())
        .into_iter()
        .filter(|f| f.len() > 6)
        .map(|f| {
            (
                format!("{}/{}", f[1], f[3]),
                f[4].clone(),
                f[5].clone(),
                f[6].clone(),
            )
        })
        .collect()
}

/// The servers have taken in the answer `ips`: in `app` and `pair`, as
/// many servers as there are addresses (or servers) hold distinct ones
/// from the answer, the rest have none; in `dup` all share.
fn settled(rows: &[Row], ips: &[&str]) -> bool {
    let addr_of = |r: &Row| (r.1 != "-" && r.1 != "0.0.0.0").then(|| r.1.clone());
    let backend = |be: &str| -> Vec<Option<String>> {
        rows.iter()
            .filter(|r| r.0.starts_with(&format!("{be}/")))
            .map(addr_of)
            .collect()
    };
    let spread = |v: Vec<Option<String>>| {
        let held: Vec<&String> = v.iter().flatten().collect();
        let mut distinct = held.clone();
        distinct.sort();
        distinct.dedup();
        held.len() == v.len().min(ips.len())
            && distinct.len() == held.len()
            && held.iter().all(|a| ips.contains(&a.as_str()))
    };
    let dup = backend("dup");
    spread(backend("app"))
        && spread(backend("pair"))
        && dup.len() == 2
        && dup
            .iter()
            .all(|a| a.as_deref().is_some_and(|a| ips.contains(&a)))
}

/// Each answer in turn (an empty one: the nameserver is gone); the
/// servers' states once each has been taken in.
fn run(kind: &ProxyKind, holds: &str, answers: &[&[&str]]) -> Vec<Vec<Row>> {
    let at: SocketAddr = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), tk::free_port());
    let mut dns = Some(nameserver(at, answers[0]));
    let port = tk::free_port();
    let mut proxy = Proxy::spawn_kind(kind, &config(at, port, holds), &[]).expect("proxy starts");
    proxy.wait_ready(lo(port), STARTUP);
    let sock = proxy.dir().join("admin.sock").display().to_string();
    let mut seen = Vec::new();
    for (i, ips) in answers.iter().enumerate() {
        if i > 0 {
            drop(dns.take());
            if !ips.is_empty() {
                dns = Some(nameserver(at, ips));
            }
        }
        let rows = eventually(Duration::from_secs(15), Duration::from_millis(50), || {
            let rows = states(&sock);
            let done = if ips.is_empty() {
                rows.iter().all(|r| r.1 == "-")
            } else {
                settled(&rows, ips)
            };
            if done {
                Ok(rows)
            } else {
                Err(format!(
                    "{}: answer {ips:?} not taken in: {rows:#?}",
                    kind.label()
                ))
            }
        });
        // A resolution round or two more: nothing moves once settled.
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(states(&sock), rows, "{}: still moving", kind.label());
        seen.push(rows);
    }
    drop(proxy);
    drop(dns);
    seen
}

#[test]
fn template_servers_share_out_the_answer_like_haproxy() {
    let answers: &[&[&str]] = &[
        &["127.0.0.2", "127.0.0.3"],
        // .2 goes away: only its holders move, to .4
        &["127.0.0.3", "127.0.0.4"],
        // one address: one server per backend keeps it, the rest wait
        &["127.0.0.4"],
        // enough for everyone: app3 leaves maintenance
        &["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"],
    ];
    let ours = run(&ProxyKind::Switchyard(switchyard()), "", answers);
    // Beyond `settled`: the holder of an address still answered keeps it.
    let addr = |step: usize, srv: &str| {
        ours[step]
            .iter()
            .find(|r| r.0 == srv)
            .map(|r| r.1.clone())
            .unwrap_or_default()
    };
    for srv in ["app/app1", "app/app2", "pair/p1", "pair/p2"] {
        if addr(0, srv) == "127.0.0.3" {
            assert_eq!(addr(1, srv), "127.0.0.3", "{srv} keeps .3");
        }
        if addr(1, srv) == "127.0.0.4" {
            assert_eq!(addr(2, srv), "127.0.0.4", "{srv} keeps .4");
        }
    }
    if have_haproxy("template_servers_share_out_the_answer_like_haproxy") {
        let theirs = run(&ProxyKind::Haproxy, "", answers);
        assert_eq!(ours, theirs, "ours vs haproxy");
    }
}

/// The nameserver goes away for longer than `hold timeout`: every server
/// goes to maintenance and loses its address, and the records go too, so
/// the next answer is shared out afresh (.3 need not stay with its old
/// holder).
#[test]
fn a_lost_nameserver_clears_the_addresses_like_haproxy() {
    let holds = "    hold timeout 1s\n    hold obsolete 1s\n";
    let answers: &[&[&str]] = &[
        &["127.0.0.2", "127.0.0.3"],
        &[],
        &["127.0.0.3", "127.0.0.4"],
    ];
    let ours = run(&ProxyKind::Switchyard(switchyard()), holds, answers);
    if have_haproxy("a_lost_nameserver_clears_the_addresses_like_haproxy") {
        let theirs = run(&ProxyKind::Haproxy, holds, answers);
        assert_eq!(ours, theirs, "ours vs haproxy");
    }
}

/// The `cols` fields of each `show servers state` line, space-joined
/// ("?" where a line is short).
fn state_columns(reply: &str, cols: &[usize]) -> Vec<String> {
    servers_state_rows(reply)
        .into_iter()
        .map(|f| {
            cols.iter()
                .map(|&i| f.get(i).map_or("?", String::as_str))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn template_lines_expand_like_haproxy() {
    let port = tk::free_port();
    let text = format!(
        "{}backend b
    server first 127.0.0.1:81
    server-template app 3 127.0.0.1:80 weight 3
    server-template web 0-1 127.0.0.1 check port 83 disabled
    server last 127.0.0.1:82
",
        admin_frontend(port, "b")
    );
    let show = |kind: &ProxyKind| {
        let mut p = Proxy::spawn_kind(kind, &text, &[]).expect("proxy starts");
        p.wait_ready(lo(port), STARTUP);
        let sock = p.dir().join("admin.sock").display().to_string();
        // srv_id srv_name srv_addr srv_admin_state srv_uweight srv_port
        // srv_check_port
        let rows = state_columns(
            &tk::cli(&sock, "show servers state b"),
            &[2, 3, 4, 6, 7, 18, 21],
        );
        drop(p);
        rows
    };
    let ours = show(&ProxyKind::Switchyard(switchyard()));
    assert_eq!(
        ours,
        [
            "1 first 127.0.0.1 0 1 81 0",
            "2 app1 127.0.0.1 0 3 80 0",
            "3 app2 127.0.0.1 0 3 80 0",
            "4 app3 127.0.0.1 0 3 80 0",
            "5 web0 127.0.0.1 5 1 0 83",
            "6 web1 127.0.0.1 5 1 0 83",
            "7 last 127.0.0.1 0 1 82 0",
        ]
    );
    if have_haproxy("template_lines_expand_like_haproxy") {
        assert_eq!(ours, show(&ProxyKind::Haproxy), "ours vs haproxy");
    }
}

/// `id` on a frontend, a backend, a server and a template: the others are
/// numbered around them as HAProxy does (its counters step past every
/// section and server, numbered or not), and a template's copies carry
/// its forced-id flag but not its id.
#[test]
fn forced_ids_number_the_rest_like_haproxy() {
    let port = tk::free_port();
    let text = format!(
        "global
    stats socket @DIR@/admin.sock level admin
{DEFAULTS}frontend fe
    id 10
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server-template app 3 127.0.0.1:80 id 5
backend c
    server x 127.0.0.1:80
    server-template app 3 127.0.0.1:80 id 7
    server y 127.0.0.1:80
backend d
    id 3
    server a 127.0.0.1:80 id 2
    server b 127.0.0.1:80
    server c 127.0.0.1:80
backend e
    server a 127.0.0.1:80
"
    );
    let show = |kind: &ProxyKind| {
        let mut p = Proxy::spawn_kind(kind, &text, &[]).expect("proxy starts");
        p.wait_ready(lo(port), STARTUP);
        let sock = p.dir().join("admin.sock").display().to_string();
        // be_id be_name srv_id srv_name bk_f_forced_id srv_f_forced_id
        let mut rows = state_columns(&tk::cli(&sock, "show servers state"), &[0, 1, 2, 3, 15, 16]);
        // pxname svname iid of the frontend and backends
        rows.extend(tk::cli(&sock, "show stat").lines().filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.len() > 27 && (f[1] == "FRONTEND" || f[1] == "BACKEND"))
                .then(|| format!("{} {} {}", f[0], f[1], f[27]))
        }));
        drop(p);
        rows
    };
    let ours = show(&ProxyKind::Switchyard(switchyard()));
    assert_eq!(
        ours,
        [
            "4 b 5 app1 0 1",
            "4 b 2 app2 0 1",
            "4 b 3 app3 0 1",
            "5 c 1 x 0 0",
            "5 c 7 app1 0 1",
            "5 c 3 app2 0 1",
            "5 c 4 app3 0 1",
            "5 c 5 y 0 0",
            "3 d 2 a 1 1",
            "3 d 3 b 1 0",
            "3 d 4 c 1 0",
            "7 e 1 a 0 0",
            "fe FRONTEND 10",
            "b BACKEND 4",
            "c BACKEND 5",
            "d BACKEND 3",
            "e BACKEND 7",
        ]
    );
    if have_haproxy("forced_ids_number_the_rest_like_haproxy") {
        assert_eq!(ours, show(&ProxyKind::Haproxy), "ours vs haproxy");
    }
}
