//! The real `switchyard-echo` binary: echo, health toggling, special paths, SIGTERM.

use std::thread;
use std::time::Duration;
use switchyard_loadtest::echo::{pattern_byte, STATS_PATH};
use switchyard_testkit::{
    can_connect, eventually, http_get, http_request, spawn_echo_binary, EchoOptions, EchoProcess,
    KeepAliveClient, Signal,
};

const WAIT: Duration = Duration::from_secs(15);
const TICK: Duration = Duration::from_millis(10);

fn echo(name: &str, args: &[&str]) -> EchoProcess {
    let mut opts = EchoOptions::new(name)
        .version("v7")
        .binary(env!("CARGO_BIN_EXE_switchyard-echo"));
    for a in args {
        opts = opts.arg(a);
    }
    spawn_echo_binary(opts)
}

fn in_flight(e: &EchoProcess) -> u64 {
    http_get(&e.url(STATS_PATH), &[])
        .ok()
        .and_then(|r| r.json().ok())
        .and_then(|j| j["in_flight"].as_u64())
        .unwrap_or(0)
}

#[test]
fn echoes_requests_as_json() {
    let e = echo("blue", &[]);
    let resp = http_request(
        "POST",
        &e.url("/some/path?x=1&y=2"),
        &[
            ("X-Forwarded-For", "1.1.1.1"),
            ("X-Forwarded-For", "2.2.2.2"),
            ("X-Custom", "Yes"),
        ],
        b"twelve bytes",
    )
    .expect("post");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-served-by"), Some("blue"));
    let j = resp.json().expect("json");
    assert_eq!(j["name"], "blue");
    assert_eq!(j["version"], "v7");
    assert_eq!(j["method"], "POST");
    assert_eq!(j["path"], "/some/path");
    assert_eq!(j["query"], "x=1&y=2");
    assert_eq!(j["body_length"], 12);
    assert_eq!(j["headers"]["x-custom"], "Yes");
    assert_eq!(j["headers"]["x-forwarded-for"], "1.1.1.1, 2.2.2.2");
    let xff: Vec<_> = j["header_list"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|p| p[0] == "x-forwarded-for")
        .map(|p| p[1].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(xff, vec!["1.1.1.1", "2.2.2.2"]);
}

#[test]
fn health_endpoints_toggle() {
    let e = echo("h", &["--disabled-status", "404"]);
    let ok = http_get(&e.url("/healthz"), &[]).expect("healthz");
    assert_eq!((ok.status, ok.text().as_str()), (200, "ok"));
    assert_eq!(
        http_request("HEAD", &e.url("/health"), &[], b"")
            .expect("head")
            .status,
        200
    );
    assert_eq!(
        http_request("POST", &e.url("/health/disable"), &[], b"")
            .expect("disable")
            .status,
        200
    );
    let down = http_request("HEAD", &e.url("/health"), &[], b"").expect("head");
    assert_eq!(down.status, 404);
    assert_eq!(down.header("x-served-by"), Some("h"));
    assert_eq!(http_get(&e.url("/health"), &[]).expect("get").status, 404);
    assert_eq!(
        http_get(&e.url("/healthz"), &[]).expect("healthz").status,
        200
    );
    assert_eq!(
        http_request("POST", &e.url("/health/enable"), &[], b"")
            .expect("enable")
            .status,
        200
    );
    assert_eq!(http_get(&e.url("/health"), &[]).expect("get").status, 200);

    let d = echo("d", &["--start-disabled"]);
    assert_eq!(http_get(&d.url("/health"), &[]).expect("get").status, 503);
}

#[test]
fn special_paths() {
    let e = echo("sp", &[]);
    let t = std::time::Instant::now();
    assert_eq!(
        http_get(&e.url("/delay/200"), &[]).expect("delay").status,
        200
    );
    assert!(t.elapsed() >= Duration::from_millis(200));
    let teapot = http_get(&e.url("/status/418"), &[]).expect("status");
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.json().expect("json")["name"], "sp");
    assert_eq!(
        http_get(&e.url("/status/abc"), &[]).expect("bad").status,
        400
    );
    assert_eq!(http_get(&e.url("/delay/-1"), &[]).expect("bad").status, 400);

    let n = 1_000_003u64;
    let bytes = http_get(&e.url(&format!("/bytes/{n}")), &[]).expect("bytes");
    assert_eq!(bytes.header("content-length"), Some(n.to_string().as_str()));
    assert_eq!(bytes.body.len() as u64, n);
    assert!(bytes
        .body
        .iter()
        .enumerate()
        .all(|(i, b)| *b == pattern_byte(i as u64)));

    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let up = http_request("POST", &e.url("/upload"), &[], &body).expect("upload");
    let j = up.json().expect("json");
    assert_eq!(j["length"], body.len() as u64);
    assert_eq!(j["crc32"], format!("{:08x}", crc32fast::hash(&body)));
    // Chunked upload, as a proxy may forward it.
    let mut c = KeepAliveClient::connect(&e.addr.to_string()).expect("connect");
    c.send_raw(b"PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        .expect("send");
    let j = c.read_response("PUT").expect("resp").json().expect("json");
    assert_eq!(j["length"], 5);
    assert_eq!(j["crc32"], format!("{:08x}", crc32fast::hash(b"hello")));
}

#[test]
fn sigterm_closes_the_listener_and_finishes_in_flight_requests() {
    let mut e = echo("t", &[]);
    let url = e.url("/delay/1500");
    let slow = thread::spawn(move || http_get(&url, &[]).map(|r| r.status));
    eventually(WAIT, TICK, || in_flight(&e) == 1);
    e.child.signal(Signal::SIGTERM).expect("sigterm");
    eventually(WAIT, TICK, || !can_connect(e.addr));
    assert_eq!(slow.join().expect("thread").expect("slow request"), 200);
    let status = e.child.wait_exit(WAIT).expect("exits after draining");
    assert!(status.success(), "{status}");
    e.child.wait_for_line("SIGTERM received", WAIT);
}

#[test]
fn sigterm_503_keeps_listening_and_answers_503_during_grace() {
    let mut e = echo("g", &["--sigterm-503", "--grace-ms", "1500"]);
    let url = e.url("/delay/800");
    let slow = thread::spawn(move || http_get(&url, &[]).map(|r| r.status));
    eventually(WAIT, TICK, || in_flight(&e) == 1);
    let started = std::time::Instant::now();
    e.child.signal(Signal::SIGTERM).expect("sigterm");
    let draining = eventually(WAIT, TICK, || {
        http_get(&e.url("/"), &[]).ok().filter(|r| r.status == 503)
    });
    assert_eq!(draining.header("x-served-by"), Some("g"));
    assert_eq!(draining.header("connection"), Some("close"));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "503 must come during the grace period"
    );
    assert_eq!(slow.join().expect("thread").expect("slow request"), 200);
    eventually(WAIT, TICK, || !can_connect(e.addr));
    assert!(started.elapsed() >= Duration::from_millis(1400));
    let status = e.child.wait_exit(WAIT).expect("exits after grace");
    assert!(status.success(), "{status}");
}

#[test]
fn reads_port_name_and_version_from_the_environment() {
    let port = switchyard_testkit::free_port();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard-echo"));
    cmd.env("PORT", port.to_string())
        .env("NAME", "envy")
        .env("VERSION", "v9");
    let child = switchyard_testkit::ChildGuard::spawn("envy", cmd).expect("spawn");
    let line = child.wait_for_line("listening on", WAIT);
    assert_eq!(line, format!("listening on 127.0.0.1:{port}"));
    let j = http_get(&format!("http://127.0.0.1:{port}/"), &[])
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(
        (j["name"].as_str(), j["version"].as_str()),
        (Some("envy"), Some("v9"))
    );
}

#[test]
fn rejects_bad_flags() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard-echo"))
        .args(["--disabled-status", "42"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("disabled-status"));
}
