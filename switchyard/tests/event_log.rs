//! Operational events reach the global `log` targets as well as stderr, as
//! in seed 000's output where each health change appears twice: tagged on
//! stderr, raw on stdout (`log stdout format raw daemon debug`).

mod common;

use std::time::Duration;

use common::*;
use tk::{Proxy, ProxyKind, Signal};

#[test]
fn health_events_and_stop_lines_go_to_stdout_log_and_stderr() {
    let port = tk::free_port();
    // Nothing listens on this port: the check fails at once.
    let dead = tk::free_port();
    let cfg = format!(
        "global
    log stdout format raw daemon debug
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 127.0.0.1:{dead} check inter 100 fall 1 rise 1
"
    );
    let mut p = Proxy::spawn_kind(&ProxyKind::Switchyard(switchyard()), &cfg, &[])
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    p.wait_ready(lo(port), STARTUP);

    let down = "Server be/s1 is DOWN";
    p.child().wait_for_line(down, Duration::from_secs(10));
    tk::eventually(Duration::from_secs(5), Duration::from_millis(20), || {
        let raw = p.child().stdout_lines().iter().any(|l| l.starts_with(down));
        let tagged = p
            .child()
            .stderr_lines()
            .iter()
            .any(|l| l.starts_with("[WARNING]  (") && l.contains(down));
        raw && tagged
    });

    p.signal(Signal::SIGUSR1)
        .unwrap_or_else(|e| panic!("signal: {e}"));
    let stopped = "Proxy fe stopped (cumulated conns: FE: ";
    p.child().wait_for_line(stopped, Duration::from_secs(5));
    let status = p
        .child_mut()
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no exit after SIGUSR1"));
    assert_eq!(status.code(), Some(0));
    assert!(
        p.child()
            .stdout_lines()
            .iter()
            .any(|l| l.starts_with(stopped)),
        "raw copy on stdout:\n{:?}",
        p.child().stdout_lines()
    );
}
