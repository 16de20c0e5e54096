//! `switchyard demo`: starts two echo upstreams and the proxy, answers, and
//! cleans up everything on SIGTERM. Ports come from
//! `SWITCHYARD_DEMO_PORT_BASE`, so the test never needs 8785/9000/3000/4000.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use tk::{cli, eventually, http_get, ChildGuard, Signal};

/// Four consecutive free ports.
fn port_block() -> u16 {
    for _ in 0..200 {
        let base = tk::free_port();
        if base < 31_990 && (1..4).all(|i| tk::port_is_free(base + i)) {
            return base;
        }
    }
    panic!("no block of 4 free ports");
}

#[test]
fn demo_starts_routes_by_map_and_cleans_up() {
    let base = port_block();
    let (proxy, admin, blue, green) = (base, base + 1, base + 2, base + 3);
    let mut cmd = Command::new(switchyard());
    cmd.arg("demo")
        .env("SWITCHYARD_DEMO_PORT_BASE", base.to_string())
        .env("SWITCHYARD_ECHO_BIN", tk::echo_binary_path());
    let mut demo = ChildGuard::spawn("demo", cmd).unwrap_or_else(|e| panic!("spawn demo: {e}"));
    demo.wait_for_line("switchyard demo is running", Duration::from_secs(60));

    let url = format!("http://127.0.0.1:{proxy}/");
    let served_by = || {
        http_get(&url, &[])
            .ok()
            .and_then(|r| r.header("x-served-by").map(str::to_owned))
    };
    eventually(Duration::from_secs(10), Duration::from_millis(50), || {
        served_by().filter(|s| s == "blue")
    });

    // The printed guide names the map file; cut over with it.
    let map_line = demo.wait_for_line("set map ", Duration::from_secs(5));
    let map = map_line
        .split_whitespace()
        .skip_while(|w| *w != "map")
        .nth(1)
        .unwrap_or_else(|| panic!("no map path in {map_line:?}"))
        .to_owned();
    let admin_addr = format!("127.0.0.1:{admin}");

    // The demo's config is one real HAProxy accepts too.
    if have_haproxy("demo config under haproxy -c") {
        let cfg_line = demo.wait_for_line("(frontend igw; config ", Duration::from_secs(5));
        let cfg = cfg_line
            .rsplit("config ")
            .next()
            .map(|c| c.trim_end_matches(')').trim())
            .unwrap_or_else(|| panic!("no config path in {cfg_line:?}"));
        let dir = std::path::Path::new(cfg)
            .parent()
            .unwrap_or_else(|| panic!("config path {cfg}"));
        let h = check(std::path::Path::new(tk::HAPROXY_PATH), dir, &[cfg], &[]);
        assert_eq!(
            h.code,
            Some(0),
            "haproxy -c on the demo config:\n{}",
            h.stderr
        );
    }
    cli(&admin_addr, &format!("set map {map} SIMPLE_SERVICE green"));
    eventually(Duration::from_secs(10), Duration::from_millis(50), || {
        served_by().filter(|s| s == "green")
    });

    // Seed 000's status check, through socat as the article does.
    // (like its waitItUp loop: checks may still be settling).
    eventually(Duration::from_secs(15), Duration::from_millis(100), || {
        let stat = String::from_utf8_lossy(&tk::socat(&admin_addr, b"show stat\n")).into_owned();
        let statuses: Vec<String> = stat
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f.len() > 17 && (f[1] == "blue" || f[1] == "green")).then(|| f[17].to_owned())
            })
            .collect();
        if statuses == ["UP", "UP"] {
            Ok(())
        } else {
            Err(statuses)
        }
    });

    let stats_page = format!("http://127.0.0.1:{proxy}/admin");
    let denied = http_get(&stats_page, &[]).unwrap_or_else(|e| panic!("stats page: {e}"));
    assert_eq!(denied.status, 401);
    // admin:admin
    let page = http_get(&stats_page, &[("Authorization", "Basic YWRtaW46YWRtaW4=")])
        .unwrap_or_else(|e| panic!("stats page: {e}"));
    assert_eq!(page.status, 200, "{}", page.text());

    let monitor = http_get(&format!("http://127.0.0.1:{proxy}/haproxy-status"), &[])
        .unwrap_or_else(|e| panic!("monitor-uri: {e}"));
    assert_eq!(monitor.status, 200);

    demo.signal(Signal::SIGTERM)
        .unwrap_or_else(|e| panic!("signal: {e}"));
    let status = demo
        .wait_exit(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("demo did not exit"));
    assert!(status.success(), "{status:?}");
    for port in [proxy, admin, blue, green] {
        assert!(
            !tk::can_connect(lo(port)),
            "port {port} still answers after the demo ended"
        );
    }
    let dir = std::path::Path::new(&map).parent().map(|p| p.to_path_buf());
    assert!(
        dir.is_some_and(|d| !d.exists()),
        "demo's temp dir was not removed"
    );
}
