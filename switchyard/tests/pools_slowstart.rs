//! `slowstart`: a server coming back from DOWN gets a share of the traffic that grows
//! over the slowstart window instead of its full share at once. Against switchyard and
//! (the baseline) the real HAProxy 2.6, same config; the bounds below were set from
//! HAProxy's measured shares on this scenario (see `SHARES`), wide enough for a loaded
//! machine, narrow enough that a proxy ignoring slowstart (50 % at once) fails.
//! `show stat` must also show the ramp as HAProxy does: the `throttle` column set from the
//! moment the server shows UP and for the whole `slowstart 6s` (HAProxy's warmup task
//! steps the weight once a second counted from that moment, so the ramp ends 6 s later).
//!
//! Reproduce by hand: `cargo test -p switchyard --test pools_slowstart -- --nocapture`
//! (the per-second shares are printed).

mod pools_support;

use pools_support::sampler::{window, Sampler};
use pools_support::*;
use std::time::{Duration, Instant};

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
    server a 127.0.0.1:@A@ check inter 500ms fall 2 rise 2 weight 100 slowstart 6s
    server b 127.0.0.1:@B@ check inter 500ms fall 2 rise 2 weight 100 slowstart 6s
";

/// The slowstart window of the config.
const SLOWSTART: f64 = 6.0;
/// How long after the window the steady share is measured.
const AFTER: f64 = 3.0;

/// (window start, window end, lowest share, highest share) of the returning server,
/// in seconds after `show stat` first showed it UP again. With weight w(t) stepping up
/// every second to 100 against its peer's 100, its share is w/(100+w): ~11 % averaged
/// over the first 2 s, 88/188 = 47 % in the last second, 50 % after; a proxy ignoring
/// slowstart gives 50 % from the start. HAProxy measured (7 runs): 0–2 s: 10.8–12.0 %,
/// 5–6 s: 46.6–46.7 %, 7–9 s: 50.0 %.
const SHARES: [(f64, f64, f64, f64); 3] = [
    (0.0, 2.0, 0.0, 0.30),
    (5.0, 6.0, 0.40, 0.55),
    (7.0, 9.0, 0.40, 0.60),
];

fn slowstart_ramp(target: Target) {
    let _serial = serial();
    let timer = Timer::start(&format!("slowstart / {}", target.label()));
    let a = Upstream::start("a", &[]);
    let mut b = Upstream::start("b", &[]);
    let lab = Lab::start(target, CONFIG, &[&a, &b]);
    lab.wait_up("app", "a");
    lab.wait_up("app", "b");
    let sampler = Sampler::start(&format!("127.0.0.1:{}", lab.port), "/", 8);
    lab.wait_more_requests("fe", 500);
    b.stop_graceful();
    lab.wait_down("app", "b");
    timer.note("b DOWN");
    b.restart();
    lab.wait_up("app", "b");
    let up_at = Instant::now();
    timer.note("b UP again: slowstart begins");
    // The ramp as `show stat` shows it: (seconds after UP, throttle, weight) at each change.
    let mut ramp: Vec<(f64, String, String)> = Vec::new();
    while up_at.elapsed() < Duration::from_secs_f64(SLOWSTART + AFTER) {
        if let Some(stat) = lab.try_stat() {
            let t = up_at.elapsed().as_secs_f64();
            let throttle = stat.get("app", "b", "throttle").unwrap_or("?").to_owned();
            let weight = stat.get("app", "b", "weight").unwrap_or("?").to_owned();
            let changed = match ramp.last() {
                Some((_, th, w)) => (th, w) != (&throttle, &weight),
                None => true,
            };
            if changed {
                ramp.push((t, throttle, weight));
            }
        }
        std::thread::sleep(POLL);
    }
    let samples = sampler.finish();
    let failed = samples.iter().filter(|s| s.status != 200).count();
    let per_second: Vec<String> = (0..(SLOWSTART + AFTER) as usize)
        .map(|t| {
            let w = window(&samples, up_at, t as f64, t as f64 + 1.0, "b");
            format!("{t}s: {:.0}% of {}", w.share() * 100.0, w.total)
        })
        .collect();
    timer.note(&format!(
        "b's share per second after UP: {}",
        per_second.join(", ")
    ));
    let ramp_text: Vec<String> = ramp
        .iter()
        .map(|(t, th, w)| format!("+{t:.2}s throttle {th:?} weight {w}"))
        .collect();
    timer.note(&format!("b's ramp in show stat: {}", ramp_text.join(", ")));
    let mut problems = Vec::new();
    for (from, to, lo, hi) in SHARES {
        let w = window(&samples, up_at, from, to, "b");
        let share = w.share();
        timer.note(&format!(
            "{from}-{to}s: b served {:.1}% of {} (bounds {:.0}-{:.0}%)",
            share * 100.0,
            w.total,
            lo * 100.0,
            hi * 100.0
        ));
        if w.total < 200 {
            problems.push(format!("{from}-{to}s: only {} responses", w.total));
        } else if !(lo..=hi).contains(&share) {
            problems.push(format!(
                "{from}-{to}s: share {:.1}% outside {:.0}-{:.0}%",
                share * 100.0,
                lo * 100.0,
                hi * 100.0
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}: slowstart ramp wrong: {}\nper second: {}",
        lab.label(),
        problems.join("; "),
        per_second.join(", ")
    );
    // HAProxy's warmup task steps the weight every second counted from the moment the
    // server went UP, so the ramp lasts the whole slowstart (observed: throttle empty again
    // 5.99-6.02 s after `show stat` first showed UP). The margin covers the polling delay.
    let ramping_at_up = ramp.first().is_some_and(|(_, th, _)| !th.is_empty());
    let ramp_end = ramp
        .iter()
        .skip_while(|(_, th, _)| !th.is_empty())
        .map(|(t, _, _)| *t)
        .next();
    assert!(
        ramping_at_up
            && ramp_end.is_some_and(|t| (SLOWSTART - 0.25..=SLOWSTART + 0.5).contains(&t)),
        "{}: the ramp must start when the server shows UP and last the whole `slowstart 6s` \
         (throttle shown until ~6 s after UP); got ramp end {ramp_end:?}: {}",
        lab.label(),
        ramp_text.join(", ")
    );
    assert_eq!(
        failed,
        0,
        "{}: {failed} requests failed during the restart",
        lab.label()
    );
}

#[test]
fn slowstart_ramps_returning_server_share_switchyard() {
    slowstart_ramp(Target::Switchyard);
}

#[test]
fn slowstart_ramps_returning_server_share_haproxy() {
    slowstart_ramp(Target::Haproxy);
}
