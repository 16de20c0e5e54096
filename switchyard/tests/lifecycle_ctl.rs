//! `switchyard ctl cutover` / `ctl rollback` (the binary's own subcommand)
//! against switchyard under load: the map-based switch of seed 004, many
//! times, without a failed request; a failing smoke test rolls back by
//! itself; `--persist` writes the map file a reload reads back.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::life::{self, pid_in, reload, served_by};
use common::*;
use tk::{eventually, BackgroundHey, FakeUpstream, Signal};

fn config(dir: &Path, port: u16, stats_port: u16, blue: SocketAddr, green: SocketAddr) -> String {
    format!(
        "global
    stats socket ipv4@127.0.0.1:{stats_port} level admin
    stats socket {dir}/admin.sock mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 5s
    default-server inter 500ms fall 3 rise 1

frontend fe_http
    bind 127.0.0.1:{port}
    use_backend %[str(active),map({dir}/bluegreen.map,be_blue)]

backend be_blue
    option httpchk GET /healthz
    server blue1 {blue} check

backend be_green
    option httpchk GET /healthz
    server green1 {green} check
",
        dir = dir.display()
    )
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `switchyard ctl <args>`, with its state under `state_home`.
fn ctl(state_home: &Path, args: &[&str]) -> Run {
    let out = Command::new(switchyard())
        .arg("ctl")
        .args(args)
        .env("XDG_STATE_HOME", state_home)
        .output()
        .unwrap_or_else(|e| panic!("switchyard ctl: {e}"));
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    #[track_caller]
    fn expect(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }
}

#[test]
fn cutover_and_rollback_twenty_times_under_load() {
    let blue = FakeUpstream::builder("blue")
        .health_path("/healthz")
        .start()
        .unwrap_or_else(|e| panic!("blue: {e}"));
    let green = FakeUpstream::builder("green")
        .health_path("/healthz")
        .start()
        .unwrap_or_else(|e| panic!("green: {e}"));
    let dir = tempdir();
    let (port, stats_port) = (tk::free_port(), tk::free_port());
    write(
        dir.path(),
        "haproxy.cfg",
        &config(dir.path(), port, stats_port, blue.addr(), green.addr()),
    );
    let map = dir.path().join("bluegreen.map");
    write(dir.path(), "bluegreen.map", "active be_blue\n");
    let map_arg = map.display().to_string();
    let proxy = life::spawn(
        dir.path(),
        "switchyard",
        &["-W", "-f", "haproxy.cfg", "-p", "haproxy.pid"],
    );
    proxy.wait_for_line("Loading success.", STARTUP);
    let pid = pid_in(&dir.path().join("haproxy.pid"));
    let url = format!("http://127.0.0.1:{port}/release");
    let tcp = format!("127.0.0.1:{stats_port}");
    let unix = dir.path().join("admin.sock").display().to_string();
    let state = dir.path().join("ctl-state.json").display().to_string();
    let procedure = |verb: &str, socket: &str, extra: &[&str]| -> Run {
        let mut args = vec![
            verb,
            "-s",
            socket,
            "--map",
            &map_arg,
            "--key",
            "active",
            "--state-file",
            &state,
            "--no-drain",
            "--smoke-url",
            &url,
            "--wait-up-timeout",
            "20s",
        ];
        args.extend_from_slice(extra);
        ctl(dir.path(), &args)
    };

    let hey = BackgroundHey::start(&["-z", "120s", "-c", "100", &url])
        .unwrap_or_else(|e| panic!("hey: {e}"));
    eventually(Duration::from_secs(20), Duration::from_millis(20), || {
        blue.requests() > 200
    });

    for i in 0..20 {
        let socket = if i % 2 == 0 { &tcp } else { &unix };
        procedure(
            "cutover",
            socket,
            &["--to", "be_green", "--expect-body", "\"green\""],
        )
        .expect(0);
        assert_eq!(served_by(&url), "green", "cutover {i}");
        let g = green.requests();
        eventually(Duration::from_secs(20), Duration::from_millis(5), || {
            green.requests() > g + 100
        });
        procedure("rollback", socket, &["--expect-body", "\"blue\""]).expect(0);
        assert_eq!(served_by(&url), "blue", "rollback {i}");
        let b = blue.requests();
        eventually(Duration::from_secs(20), Duration::from_millis(5), || {
            blue.requests() > b + 100
        });
    }

    // A smoke test that fails puts blue back by itself (exit 4).
    let run = procedure(
        "cutover",
        &tcp,
        &["--to", "be_green", "--expect-body", "purple"],
    );
    run.expect(4);
    assert_eq!(served_by(&url), "blue");

    // --persist: the file says green, and a reload reads it back.
    procedure("cutover", &tcp, &["--to", "be_green", "--persist"]).expect(0);
    let file = std::fs::read_to_string(&map).unwrap_or_else(|e| panic!("map: {e}"));
    assert_eq!(file, "active be_green\n");
    assert!(reload(&proxy, pid, Signal::SIGUSR2));
    let shown = tk::cli(&tcp, &format!("show map {map_arg}"));
    assert!(shown.contains(" active be_green"), "{shown}");
    assert_eq!(served_by(&url), "green");

    let summary = hey.finish(Duration::ZERO);
    eprintln!(
        "ctl under load: {} requests, blue {}, green {}",
        summary.total_requests,
        blue.requests(),
        green.requests()
    );
    life::assert_no_failures(&summary, 2000);
}

#[test]
fn ctl_help_and_usage_come_from_the_binary() {
    let dir = tempdir();
    let run = ctl(dir.path(), &["--help"]);
    run.expect(0);
    assert!(run.stdout.contains("cutover"), "{}", run.stdout);
    let run = ctl(dir.path(), &["cutover", "--bogus"]);
    run.expect(1);
}

#[test]
fn a_drain_past_its_deadline_says_how_many_connections_are_left() {
    let blue = FakeUpstream::builder("blue")
        .health_path("/healthz")
        .behavior(tk::Behavior::Delay(Duration::from_secs(3)))
        .start()
        .unwrap_or_else(|e| panic!("blue: {e}"));
    let green = FakeUpstream::builder("green")
        .health_path("/healthz")
        .start()
        .unwrap_or_else(|e| panic!("green: {e}"));
    let dir = tempdir();
    let (port, stats_port) = (tk::free_port(), tk::free_port());
    write(
        dir.path(),
        "haproxy.cfg",
        &config(dir.path(), port, stats_port, blue.addr(), green.addr()),
    );
    write(dir.path(), "bluegreen.map", "active be_blue\n");
    let proxy = life::spawn(dir.path(), "switchyard", &["-db", "-f", "haproxy.cfg"]);
    assert!(tk::wait_for_port(lo(port), STARTUP));
    let tcp = format!("127.0.0.1:{stats_port}");
    eventually(Duration::from_secs(20), Duration::from_millis(20), || {
        tk::try_cli(&tcp, "show stat")
            .is_ok_and(|s| s.contains("be_green,green1,") && s.contains(",UP,"))
    });
    // Two requests held on blue.
    let url = format!("http://127.0.0.1:{port}/slow");
    let held: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || tk::http_get(&url, &[]).map_or(0, |r| r.status))
        })
        .collect();
    eventually(Duration::from_secs(10), Duration::from_millis(5), || {
        blue.in_flight() == 2
    });

    let map_arg = dir.path().join("bluegreen.map").display().to_string();
    let state = dir.path().join("ctl-state.json").display().to_string();
    let run = ctl(
        dir.path(),
        &[
            "cutover",
            "-s",
            &tcp,
            "--map",
            &map_arg,
            "--key",
            "active",
            "--to",
            "be_green",
            "--state-file",
            &state,
            "--drain-timeout",
            "1s",
            "--json",
        ],
    );
    run.expect(5);
    assert!(
        run.stdout.contains("\"connections_left\": 2,"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("2 connection(s) still open"),
        "{}",
        run.stdout
    );
    assert_eq!(
        served_by(&format!("http://127.0.0.1:{port}/")),
        "green",
        "the switch is kept"
    );
    for h in held {
        assert_eq!(h.join().unwrap_or(0), 200, "held requests still complete");
    }

    // `ctl drain` of one server: left in DRAIN, with the count.
    blue.set_behavior(tk::Behavior::Delay(Duration::from_secs(3)));
    tk::cli(&tcp, &format!("set map {map_arg} active be_blue"));
    let one = std::thread::spawn(move || tk::http_get(&url, &[]).map_or(0, |r| r.status));
    eventually(Duration::from_secs(10), Duration::from_millis(5), || {
        blue.in_flight() == 1
    });
    let run = ctl(
        dir.path(),
        &["drain", "-s", &tcp, "be_blue/blue1", "--timeout", "1s"],
    );
    run.expect(5);
    assert!(
        run.stderr.contains("1 connection(s) still open"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("left in DRAIN"), "{}", run.stderr);
    assert_eq!(one.join().unwrap_or(0), 200);
    drop(proxy);
}
