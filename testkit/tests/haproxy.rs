//! The testkit against the real HAProxy: Proxy launcher, cli() vs real socat, and a
//! miniature of seed 000 (map-based switch from blue to green over the Runtime API).

use std::time::Duration;
use switchyard_testkit::{
    cli, cli_raw, eventually_named, free_ports, haproxy_available, http_get, loopback, socat,
    socat_available, FakeUpstream, Proxy, ProxyKind,
};

const WAIT: Duration = Duration::from_secs(15);
const TICK: Duration = Duration::from_millis(50);

fn config(cli_port: u16, fe_port: u16, blue: u16, green: u16) -> String {
    format!(
        "global
    stats socket ipv4@127.0.0.1:{cli_port} level admin
    stats socket @DIR@/admin.sock mode 600 level admin
    stats timeout 2m

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend igw
    bind 127.0.0.1:{fe_port}
    option forwardfor
    default_backend blue
    use_backend %[str(SIMPLE_SERVICE),map(@DIR@/hosts.map)]

backend blue
    option httpchk GET /health
    server blue 127.0.0.1:{blue} check inter 100ms fall 2 rise 2

backend green
    option httpchk GET /health
    server green 127.0.0.1:{green} check inter 100ms fall 2 rise 2
"
    )
}

/// Status column (18th field) of server `name` in `show stat`, as seed 000's waitItUp reads it.
fn status_of(stat: &str, name: &str) -> Option<String> {
    stat.lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f.len() > 17 && f[1] == name)
        .map(|f| f[17].to_owned())
}

#[test]
fn cli_and_socat_against_real_haproxy() {
    if !haproxy_available() || !socat_available() {
        eprintln!("haproxy or socat not installed; skipping");
        return;
    }
    let blue = FakeUpstream::start("blue");
    let green = FakeUpstream::start("green");
    let p = free_ports(2);
    let (cli_port, fe_port) = (p[0], p[1]);
    let mut proxy = Proxy::builder(&ProxyKind::Haproxy)
        .config(&config(cli_port, fe_port, blue.port(), green.port()))
        .file("hosts.map", "SIMPLE_SERVICE blue\n")
        .spawn()
        .expect("spawn haproxy");
    let cli_addr = format!("127.0.0.1:{cli_port}");
    proxy.wait_ready(loopback(cli_port), WAIT);
    proxy.wait_ready(loopback(fe_port), WAIT);

    // Byte-exact agreement with the real socat, for TCP and unix-socket addresses.
    for addr in [
        cli_addr.clone(),
        format!("ipv4@{cli_addr}"),
        format!("{}/admin.sock", proxy.dir().display()),
    ] {
        for cmd in [
            "show cli level\n",
            "get weight blue/blue\n",
            "show map\n",
            "xyzzy\n",
        ] {
            let ours = cli_raw(&addr, cmd.as_bytes()).expect("cli_raw");
            assert_eq!(ours, socat(&addr, cmd.as_bytes()), "{addr} {cmd:?}");
        }
    }
    assert_eq!(cli(&cli_addr, "get weight blue/blue"), "1 (initial 1)\n\n");

    eventually_named("blue and green UP", WAIT, TICK, || {
        let stat = cli(&cli_addr, "show stat");
        status_of(&stat, "blue").as_deref() == Some("UP")
            && status_of(&stat, "green").as_deref() == Some("UP")
    });
    let resp = http_get(&format!("http://127.0.0.1:{fe_port}/"), &[]).expect("get via haproxy");
    assert_eq!(resp.header("x-served-by"), Some("blue"));
    assert_eq!(
        blue.last_request()
            .and_then(|h| h.header("x-forwarded-for").map(str::to_owned))
            .as_deref(),
        Some("127.0.0.1")
    );

    let map = format!("{}/hosts.map", proxy.dir().display());
    assert_eq!(
        cli(&cli_addr, &format!("set map {map} SIMPLE_SERVICE green")),
        "\n"
    );
    let resp = http_get(&format!("http://127.0.0.1:{fe_port}/"), &[]).expect("get via haproxy");
    assert_eq!(resp.header("x-served-by"), Some("green"));

    // Health toggling on the fake upstream is seen by HAProxy's checks.
    green.set_healthy(false);
    eventually_named("green DOWN", WAIT, TICK, || {
        status_of(&cli(&cli_addr, "show stat"), "green").as_deref() == Some("DOWN")
    });
    assert!(proxy.child_mut().is_running());
}

#[test]
fn spawn_reports_a_bad_config() {
    if !haproxy_available() {
        return;
    }
    let mut proxy = Proxy::haproxy("global\n    no-such-keyword\n", &[]).expect("spawn");
    let status = proxy
        .child_mut()
        .wait_exit(WAIT)
        .expect("haproxy exits on a bad config");
    assert!(!status.success());
    assert!(
        proxy
            .child()
            .lines()
            .iter()
            .any(|l| l.contains("no-such-keyword")),
        "{:?}",
        proxy.child().lines()
    );
}
