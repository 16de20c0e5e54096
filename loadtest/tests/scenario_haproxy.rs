//! The scenarios against the real HAProxy 2.6 (the oracle): a map cutover, a rolling
//! restart, a reload storm and an upstream crash, each with zero failed requests — and a
//! cutover to a dead backend, which must fail. Skipped (with a note) where
//! /usr/sbin/haproxy is not installed. Later the same runs point at switchyard.

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Duration;
use switchyard_testkit::{
    free_ports, haproxy_available, spawn_echo_binary, EchoOptions, EchoProcess, Proxy, ProxyKind,
};

const LOAD: &str = env!("CARGO_BIN_EXE_switchyard-load");
const ECHO: &str = env!("CARGO_BIN_EXE_switchyard-echo");

/// One scenario at a time: each runs a proxy, upstreams and 20 workers on 2 cores.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn skip() -> bool {
    if haproxy_available() {
        return false;
    }
    eprintln!("skipped: /usr/sbin/haproxy is not installed");
    true
}

fn echo(name: &str) -> EchoProcess {
    spawn_echo_binary(EchoOptions::new(name).binary(ECHO))
}

fn haproxy(config: &str, files: &[(&str, &str)], args: &[&str], frontend: u16) -> Proxy {
    let mut builder = Proxy::builder(&ProxyKind::Haproxy)
        .config(config)
        .args(args);
    for (name, contents) in files {
        builder = builder.file(name, contents);
    }
    let mut proxy = builder.spawn().expect("haproxy starts");
    let addr: SocketAddr = ([127, 0, 0, 1], frontend).into();
    proxy.wait_ready(addr, Duration::from_secs(10));
    proxy
}

fn scenario(args: &[String]) -> Output {
    let out = Command::new(LOAD)
        .arg("scenario")
        .args(args)
        .output()
        .expect("switchyard-load runs");
    eprintln!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn report_json(dir: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("valid JSON")
}

const MAP_CONFIG: &str = "
global
    stats socket ipv4@127.0.0.1:@STATS@ level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 5s
    # A check may be slow on a loaded 2-core CI machine; a stopped server
    # still fails its check at once (connection refused).
    timeout check 2s
frontend igw
    bind 127.0.0.1:@FE@
    default_backend DEFAULT
    use_backend %[str(SIMPLE_SERVICE),map(@DIR@/hosts.map)]
backend blue
    option httpchk GET /healthz
    server blue 127.0.0.1:@BLUE@ check inter 100ms fall 1 rise 1
backend green
    option httpchk GET /healthz
    server green 127.0.0.1:@GREEN@ check inter 100ms fall 1 rise 1
backend DEFAULT
    http-request return status 404 content-type \"text/html\" string \"Default backend\"
";

struct MapRig {
    proxy: Proxy,
    stats: u16,
    frontend: u16,
    _blue: EchoProcess,
    _green: Option<EchoProcess>,
}

impl MapRig {
    /// HAProxy routing by map to blue or green; `green_port` overrides green's address
    /// (a port nothing listens on makes a dead backend).
    fn start(green_alive: bool) -> MapRig {
        let ports = free_ports(3);
        let (stats, frontend, dead) = (ports[0], ports[1], ports[2]);
        let blue = echo("blue");
        let green = green_alive.then(|| echo("green"));
        let green_port = green.as_ref().map_or(dead, |g| g.port());
        let config = MAP_CONFIG
            .replace("@STATS@", &stats.to_string())
            .replace("@FE@", &frontend.to_string())
            .replace("@BLUE@", &blue.port().to_string())
            .replace("@GREEN@", &green_port.to_string());
        let proxy = haproxy(
            &config,
            &[("hosts.map", "SIMPLE_SERVICE blue\n")],
            &[],
            frontend,
        );
        MapRig {
            proxy,
            stats,
            frontend,
            _blue: blue,
            _green: green,
        }
    }

    fn common(&self, report: &std::path::Path) -> Vec<String> {
        strings(&[
            "--url",
            &format!("http://127.0.0.1:{}/", self.frontend),
            "--stats-socket",
            &format!("127.0.0.1:{}", self.stats),
            "--warmup",
            "300ms",
            "--settle",
            "300ms",
            "-c",
            "50",
            "--backend-header",
            "X-Served-By",
            "--report",
            &report.display().to_string(),
        ])
    }

    fn map(&self) -> String {
        self.proxy.dir().join("hosts.map").display().to_string()
    }
}

#[test]
fn cutover_against_haproxy_has_zero_failures() {
    if skip() {
        return;
    }
    let _one = serial();
    let rig = MapRig::start(true);
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report");
    let mut args = vec!["cutover".to_string()];
    args.extend(rig.common(&report));
    args.extend(strings(&[
        "--map",
        &rig.map(),
        "--key",
        "SIMPLE_SERVICE",
        "--from",
        "blue",
        "--to",
        "green",
        "--cutovers",
        "10",
        "--interval",
        "100ms",
        "--event-file",
        &dir.path().join("events").display().to_string(),
    ]));
    let out = scenario(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "scenario failed");
    assert!(stdout.contains("scenario cutover: PASS"), "{stdout}");
    let json = report_json(&report);
    assert_eq!(json["totals"]["failed"], 0);
    assert_eq!(json["totals"]["errors"], 0);
    for backend in ["blue", "green"] {
        assert!(
            json["totals"]["backends"][backend]
                .as_u64()
                .is_some_and(|n| n > 0),
            "{backend} served nothing: {}",
            json["totals"]
        );
    }
    // The initial `set map` plus 10 cutovers and 10 rollbacks.
    assert_eq!(json["events"].as_array().map(Vec::len), Some(21));
    let events = std::fs::read_to_string(dir.path().join("events")).expect("event file");
    assert_eq!(events.lines().count(), 21);
    assert!(report.join("timeline.svg").is_file());
    // The map ends where it started.
    let reply = switchyard_testkit::cli(
        &format!("127.0.0.1:{}", rig.stats),
        &format!("show map {}", rig.map()),
    );
    assert!(reply.contains("SIMPLE_SERVICE blue"), "{reply}");
}

#[test]
fn cutover_to_a_dead_backend_fails() {
    if skip() {
        return;
    }
    let _one = serial();
    let rig = MapRig::start(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report");
    let mut args = vec!["cutover".to_string()];
    args.extend(rig.common(&report));
    args.extend(strings(&[
        "--map",
        &rig.map(),
        "--key",
        "SIMPLE_SERVICE",
        "--from",
        "blue",
        "--to",
        "green",
        "--cutovers",
        "1",
        "--interval",
        "300ms",
        "--no-verify",
    ]));
    let out = scenario(&args);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("scenario cutover: FAIL"), "{stdout}");
    let json = report_json(&report);
    assert!(json["totals"]["status_5xx"].as_u64().is_some_and(|n| n > 0));
    let timeline = std::fs::read_to_string(report.join("timeline.txt")).expect("timeline");
    assert!(
        timeline.contains("cutover 1: set map SIMPLE_SERVICE -> green"),
        "{timeline}"
    );
}

const POOL_CONFIG: &str = "
global
    stats socket ipv4@127.0.0.1:@STATS@ level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 5s
    retries 3
    option redispatch
    retry-on all-retryable-errors
    # (As above: slow checks under load are not failures.)
    timeout check 2s
frontend fe
    bind 127.0.0.1:@FE@
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 100ms fall 1 rise 1
    server s1 127.0.0.1:@P1@ check
    server s2 127.0.0.1:@P2@ check
";

/// HAProxy in front of two servers with retries and redispatch (seed 001); the
/// scenario starts the upstreams itself.
struct PoolRig {
    _proxy: Proxy,
    pid: u32,
    stats: u16,
    frontend: u16,
    upstream_ports: [u16; 2],
}

impl PoolRig {
    fn start(args: &[&str]) -> PoolRig {
        let ports = free_ports(4);
        let config = POOL_CONFIG
            .replace("@STATS@", &ports[0].to_string())
            .replace("@FE@", &ports[1].to_string())
            .replace("@P1@", &ports[2].to_string())
            .replace("@P2@", &ports[3].to_string());
        let proxy = haproxy(&config, &[], args, ports[1]);
        PoolRig {
            pid: proxy.pid(),
            _proxy: proxy,
            stats: ports[0],
            frontend: ports[1],
            upstream_ports: [ports[2], ports[3]],
        }
    }

    fn common(&self, report: &std::path::Path) -> Vec<String> {
        strings(&[
            "--url",
            &format!("http://127.0.0.1:{}/", self.frontend),
            "--stats-socket",
            &format!("ipv4@127.0.0.1:{}", self.stats),
            "--warmup",
            "300ms",
            "--settle",
            "300ms",
            "-c",
            "20",
            "--backend-header",
            "X-Served-By",
            "--report",
            &report.display().to_string(),
        ])
    }

    fn upstreams(&self) -> Vec<String> {
        let mut args = Vec::new();
        for (i, port) in self.upstream_ports.iter().enumerate() {
            args.push("--upstream".to_string());
            args.push(format!(
                "app/s{n}@127.0.0.1:{port}={ECHO} --port {port} --name s{n}",
                n = i + 1
            ));
        }
        args
    }
}

#[test]
fn rolling_restart_against_haproxy_has_zero_failures() {
    if skip() {
        return;
    }
    let _one = serial();
    let rig = PoolRig::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report");
    let mut args = vec!["rolling-restart".to_string()];
    args.extend(rig.common(&report));
    args.extend(rig.upstreams());
    args.extend(strings(&["--pause", "200ms", "--drain"]));
    let out = scenario(&args);
    assert!(out.status.success(), "scenario failed");
    let json = report_json(&report);
    assert_eq!(json["totals"]["failed"], 0);
    let labels: Vec<String> = json["events"]
        .as_array()
        .map(|a| a.iter().map(|e| e["label"].to_string()).collect())
        .unwrap_or_default();
    assert!(
        labels.iter().any(|l| l.contains("stop app/s1")),
        "{labels:?}"
    );
    assert!(labels.iter().any(|l| l.contains("app/s2 UP")), "{labels:?}");
    assert!(json["totals"]["backends"]["s1"]
        .as_u64()
        .is_some_and(|n| n > 0));
    assert!(json["totals"]["backends"]["s2"]
        .as_u64()
        .is_some_and(|n| n > 0));
}

#[test]
fn upstream_crash_against_haproxy_has_zero_failures() {
    if skip() {
        return;
    }
    let _one = serial();
    let rig = PoolRig::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report");
    let mut args = vec!["upstream-crash".to_string()];
    args.extend(rig.common(&report));
    args.extend(rig.upstreams());
    args.extend(strings(&["--victim", "app/s1", "--down-for", "500ms"]));
    let out = scenario(&args);
    assert!(out.status.success(), "scenario failed");
    let json = report_json(&report);
    assert_eq!(json["totals"]["failed"], 0);
    assert_eq!(json["events"].as_array().map(Vec::len), Some(3));
}

#[test]
fn reload_storm_against_haproxy_master_worker_has_zero_failures() {
    if skip() {
        return;
    }
    let _one = serial();
    let rig = PoolRig::start(&["-W"]);
    let s1 = echo_on(rig.upstream_ports[0], "s1");
    let s2 = echo_on(rig.upstream_ports[1], "s2");
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report");
    let mut args = vec!["reload-storm".to_string()];
    args.extend(rig.common(&report));
    args.extend(strings(&[
        "--pid",
        &rig.pid.to_string(),
        "--signal",
        "USR2",
        "--reloads",
        "3",
        "--interval",
        "300ms",
    ]));
    let out = scenario(&args);
    assert!(out.status.success(), "scenario failed");
    let json = report_json(&report);
    assert_eq!(json["totals"]["failed"], 0);
    assert_eq!(json["events"].as_array().map(Vec::len), Some(3));
    drop((s1, s2));
}

fn echo_on(port: u16, name: &str) -> EchoProcess {
    spawn_echo_binary(EchoOptions::new(name).port(port).binary(ECHO))
}
