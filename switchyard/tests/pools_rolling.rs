//! Upstream pools that lose no request: a rolling restart of every upstream, and one
//! upstream killed outright, both under `hey -c 200` load, against switchyard and (the
//! baseline) the real HAProxy 2.6 on the same config.
//!
//! The config is seed 001's recipe ("need to configure retry request to another server if
//! target server goes down"): `retries 3`, `option redispatch`,
//! `retry-on all-retryable-errors`, HTTP checks `inter 500ms fall 2 rise 2`.
//!
//! Reproduce one by hand: `cargo test -p switchyard --test pools_rolling -- --nocapture`.

mod pools_support;

use pools_support::*;

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
    server a 127.0.0.1:@A@ check inter 500ms fall 2 rise 2
    server b 127.0.0.1:@B@ check inter 500ms fall 2 rise 2
    server c 127.0.0.1:@C@ check inter 500ms fall 2 rise 2
";

/// Seed 001's deploy loop, one upstream at a time: stop it gracefully (SIGTERM: the
/// listener closes, in-flight requests finish), let the proxy see it DOWN, start it again
/// on its port and wait until `show stat` says UP before the next. hey must see only 200s.
fn rolling_restart(target: Target) {
    let _serial = serial();
    let timer = Timer::start(&format!("rolling restart / {}", target.label()));
    let mut ups: Vec<Upstream> = ["a", "b", "c"]
        .iter()
        .map(|n| Upstream::start(n, &[]))
        .collect();
    let lab = Lab::start(target, CONFIG, &ups.iter().collect::<Vec<_>>());
    for up in &ups {
        lab.wait_up("app", &up.name);
    }
    let hey = start_hey(&lab.url("/"));
    lab.wait_more_requests("fe", 2000);
    timer.note("load flowing");
    for up in ups.iter_mut() {
        up.stop_graceful();
        timer.note(&format!("{} stopped", up.name));
        lab.wait_down("app", &up.name);
        timer.note(&format!("{} DOWN", up.name));
        up.restart();
        lab.wait_up("app", &up.name);
        timer.note(&format!("{} restarted and UP", up.name));
        // Some load on the restarted upstream before the next one goes.
        lab.wait_more_requests("fe", 1000);
    }
    let summary = hey.finish(std::time::Duration::ZERO);
    timer.note(&format!(
        "hey: {} requests, statuses {:?}, errors {:?}",
        summary.total_requests, summary.status_codes, summary.errors
    ));
    assert_all_200(lab.label(), &summary, 5000);
    // Every restarted upstream is in rotation (a check may time out under the load, so
    // this waits for the checks to settle rather than reading one snapshot).
    for up in &ups {
        lab.wait_up("app", &up.name);
    }
}

#[test]
fn rolling_restart_under_load_loses_nothing_switchyard() {
    rolling_restart(Target::Switchyard);
}

#[test]
fn rolling_restart_under_load_loses_nothing_haproxy() {
    rolling_restart(Target::Haproxy);
}

/// One of two upstreams dies by SIGKILL with requests in flight on it: every GET must
/// still be answered 200 (connection failures and empty responses are retried on the
/// other upstream), before and after the checks mark it DOWN.
fn sigkill_one_of_two(target: Target) {
    let _serial = serial();
    let timer = Timer::start(&format!("SIGKILL one of two / {}", target.label()));
    let cfg = CONFIG.replace(
        "    server c 127.0.0.1:@C@ check inter 500ms fall 2 rise 2\n",
        "",
    );
    let mut a = Upstream::start("a", &[]);
    let b = Upstream::start("b", &[]);
    let lab = Lab::start(target, &cfg, &[&a, &b]);
    lab.wait_up("app", "a");
    lab.wait_up("app", "b");
    // Slow enough answers that many requests are in flight on `a` when it dies.
    let hey = start_hey(&lab.url("/delay/20"));
    lab.wait_more_requests("fe", 2000);
    timer.note("load flowing");
    a.kill();
    timer.note("a killed");
    lab.wait_down("app", "a");
    timer.note("a DOWN");
    lab.wait_more_requests("fe", 2000);
    let summary = hey.finish(std::time::Duration::ZERO);
    timer.note(&format!(
        "hey: {} requests, statuses {:?}, errors {:?}",
        summary.total_requests, summary.status_codes, summary.errors
    ));
    assert_all_200(lab.label(), &summary, 4000);
    drop(b);
}

#[test]
fn sigkill_one_of_two_loses_no_get_switchyard() {
    sigkill_one_of_two(Target::Switchyard);
}

#[test]
fn sigkill_one_of_two_loses_no_get_haproxy() {
    sigkill_one_of_two(Target::Haproxy);
}
