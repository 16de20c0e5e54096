//! Seed 001's shutdown contract: on SIGTERM the application keeps its port open for a
//! grace period, answers 503 to new requests and finishes the ones in flight
//! (`switchyard-echo --sigterm-503 --grace-ms N`). With `retry-on 503` the proxy replays
//! those requests on another server, so while another server is UP no 503 reaches the
//! client. Against switchyard and (the baseline) the real HAProxy 2.6, same config.
//!
//! Reproduce by hand: `cargo test -p switchyard --test pools_retry_503 -- --nocapture`.

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
    retry-on 503

frontend fe
    bind 127.0.0.1:@FE@
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /healthz
    server a 127.0.0.1:@A@ check inter 500ms fall 2 rise 2
    server b 127.0.0.1:@B@ check inter 500ms fall 2 rise 2
";

/// Long enough for the checks (`inter 500ms fall 2`) to mark the draining server DOWN
/// well before its listener closes, even on a loaded machine: only then is `retry-on 503`
/// (without `conn-failure`) enough.
const GRACE: &[&str] = &["--sigterm-503", "--grace-ms", "4000"];

/// Each upstream in turn gets SIGTERM under `hey -c 200`, answers 503 while the checks
/// notice, exits, and is started again; hey must see only 200s, while the draining
/// upstream really did answer 503 to proxied requests (its own counter).
fn draining_503_is_retried(target: Target) {
    let _serial = serial();
    let timer = Timer::start(&format!("retry-on 503 while draining / {}", target.label()));
    let mut ups = vec![Upstream::start("a", GRACE), Upstream::start("b", GRACE)];
    let lab = Lab::start(target, CONFIG, &ups.iter().collect::<Vec<_>>());
    for up in &ups {
        lab.wait_up("app", &up.name);
    }
    let hey = start_hey(&lab.url("/"));
    lab.wait_more_requests("fe", 2000);
    timer.note("load flowing");
    for up in ups.iter_mut() {
        let before = up.requests();
        up.sigterm();
        lab.wait_down("app", &up.name);
        // Answered while draining: all 503s, minus this read, a few checks and the read
        // above. The draining upstream must really have been sent traffic.
        let answered_503 = up.requests().saturating_sub(before + 1);
        timer.note(&format!(
            "{} draining, DOWN after answering ~{answered_503} requests with 503",
            up.name
        ));
        assert!(
            answered_503 >= 50,
            "{}: {} answered only {answered_503} requests while draining: the scenario did not \
             exercise retry-on 503",
            lab.label(),
            up.name
        );
        up.wait_exit();
        up.restart();
        lab.wait_up("app", &up.name);
        timer.note(&format!("{} restarted and UP", up.name));
        lab.wait_more_requests("fe", 1000);
    }
    let summary = hey.finish(std::time::Duration::ZERO);
    timer.note(&format!(
        "hey: {} requests, statuses {:?}, errors {:?}",
        summary.total_requests, summary.status_codes, summary.errors
    ));
    assert_eq!(
        summary.count(503),
        0,
        "{}: 503s reached the client\n{}",
        lab.label(),
        summary.raw
    );
    assert_all_200(lab.label(), &summary, 4000);
}

#[test]
fn draining_upstream_503_never_reaches_client_switchyard() {
    draining_503_is_retried(Target::Switchyard);
}

#[test]
fn draining_upstream_503_never_reaches_client_haproxy() {
    draining_503_is_retried(Target::Haproxy);
}
