//! `backup` servers: the backup gets traffic only while the active server is DOWN, and
//! the traffic returns to the active server once its checks bring it UP again. Against
//! switchyard and (the baseline) the real HAProxy 2.6, same config; `show stat`'s act/bck
//! columns are compared with what HAProxy shows in each phase.
//!
//! Reproduce by hand: `cargo test -p switchyard --test pools_backup -- --nocapture`.

mod pools_support;

use pools_support::*;
use std::collections::BTreeMap;

const CONFIG: &str = "\
global
    stats socket ipv4@127.0.0.1:@CLI@ level admin

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch
    retry-on all-retryable-errors

frontend fe
    bind 127.0.0.1:@FE@
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /healthz
    server act 127.0.0.1:@ACT@ check inter 500ms fall 2 rise 2
    server bak 127.0.0.1:@BAK@ check inter 500ms fall 2 rise 2 backup
";

/// Requests per phase, each on a fresh connection.
const REQUESTS: usize = 40;

/// Who answered `REQUESTS` sequential GETs: X-Served-By (or the status) → count.
fn served(lab: &Lab) -> BTreeMap<String, usize> {
    let mut by = BTreeMap::new();
    for _ in 0..REQUESTS {
        let key = match tk::http_get(&lab.url("/"), &[]) {
            Ok(r) if r.status == 200 => r.header("x-served-by").unwrap_or("?").to_owned(),
            Ok(r) => format!("status {}", r.status),
            Err(e) => format!("error {e}"),
        };
        *by.entry(key).or_default() += 1;
    }
    by
}

/// [status, act, bck] of the rows act, bak and BACKEND.
fn roles(lab: &Lab) -> Vec<[String; 3]> {
    let stat = lab.stat();
    ["act", "bak", "BACKEND"]
        .iter()
        .map(|row| {
            ["status", "act", "bck"].map(|col| stat.get("app", row, col).unwrap_or("?").to_owned())
        })
        .collect()
}

#[track_caller]
fn assert_phase(lab: &Lab, phase: &str, only: &str, roles_want: [[&str; 3]; 3]) {
    let by = served(lab);
    let want: BTreeMap<String, usize> = [(only.to_owned(), REQUESTS)].into();
    assert_eq!(
        by,
        want,
        "{}: {phase}: every request must be answered 200 by {only}",
        lab.label()
    );
    let got = roles(lab);
    let want_roles: Vec<[String; 3]> = roles_want.iter().map(|r| r.map(str::to_owned)).collect();
    assert_eq!(
        got,
        want_roles,
        "{}: {phase}: [status, act, bck] of act, bak, BACKEND",
        lab.label()
    );
}

fn backup_only_while_active_down(target: Target) {
    let _serial = serial();
    let timer = Timer::start(&format!("backup / {}", target.label()));
    let mut act = Upstream::start("act", &[]);
    let bak = Upstream::start("bak", &[]);
    let lab = Lab::start(target, CONFIG, &[&act, &bak]);
    lab.wait_up("app", "act");
    lab.wait_up("app", "bak");

    assert_phase(
        &lab,
        "active UP",
        "act",
        [["UP", "1", "0"], ["UP", "0", "1"], ["UP", "1", "1"]],
    );
    timer.note("active UP: all traffic on act");

    act.stop_graceful();
    lab.wait_down("app", "act");
    assert_phase(
        &lab,
        "active DOWN",
        "bak",
        [["DOWN", "1", "0"], ["UP", "0", "1"], ["UP", "0", "1"]],
    );
    timer.note("active DOWN: all traffic on bak");

    act.restart();
    lab.wait_up("app", "act");
    assert_phase(
        &lab,
        "active UP again",
        "act",
        [["UP", "1", "0"], ["UP", "0", "1"], ["UP", "1", "1"]],
    );
    timer.note("active UP again: all traffic back on act");
}

#[test]
fn backup_serves_only_while_active_is_down_switchyard() {
    backup_only_while_active_down(Target::Switchyard);
}

#[test]
fn backup_serves_only_while_active_is_down_haproxy() {
    backup_only_while_active_down(Target::Haproxy);
}
