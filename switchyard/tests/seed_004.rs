//! Seed 004 ("How to run a blue-green deployment cutover with HAProxy"): its 16 steps, with
//! the commands as printed, against switchyard and, as the baseline, the real HAProxy 2.6.
//!
//! `tests/seeds/seed004.sh` runs inside fresh net/mount/PID namespaces (see
//! `tests/seeds/lib.sh`) with the seed's `haproxy.cfg` unchanged (only its blank lines'
//! non-breaking spaces, a rendering artifact HAProxy itself rejects, are plain): `bind
//! :80`, `/run/haproxy/admin.sock`, `/etc/haproxy/maps/bluegreen.map`, servers
//! `10.10.10.11/12:8080` and `10.10.20.11/12:8080` — those addresses exist only inside
//! the private network namespace, where the application servers (`seed004/upstream.py`,
//! answering `version=<colour>` on `/release`) listen. `www.example.com` is 127.0.0.1 via
//! a bind-mounted /etc/hosts; `sudo` and `systemctl reload haproxy` are shims (the latter
//! does what Debian's haproxy.service does: check, then SIGUSR2 to the `-Ws` master).
//!
//! The proxy first runs a pre-release config (blue only, `seed004/haproxy-before.cfg`);
//! `hey -c 100 http://www.example.com/` runs across steps 2-6 (the reload, `hey-reload.txt`)
//! and across steps 7-16 (cutover and rollback, `hey-cutover.txt`); both must show only
//! 200s. If the reload does not take effect the driver restarts the proxy (not under
//! load) so steps 7-16 are still exercised, and step06 is reported failed.
//!
//! Reproduce by hand (as root), e.g. against switchyard:
//! ```text
//! W=$(mktemp -d); PROXY_BIN=$PWD/target/debug/switchyard \
//!   ECHO_BIN=$PWD/target/debug/switchyard-echo TESTDNS_BIN=$PWD/target/debug/switchyard-testdns \
//!   WORK=$W unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private \
//!   bash switchyard/tests/seeds/seed004.sh
//! ```

#[path = "seeds/harness.rs"]
mod harness;

use harness::{run_seed, Target};

const HEY_ENV: &[(&str, &str)] = &[("HEY_N", "1000000"), ("HEY_C", "100")];

fn seed_004(target: Target) {
    let run = run_seed("seed004.sh", target, HEY_ENV);
    // Load results first: they hold even when a step fails.
    run.assert_hey_all_200("hey-reload.txt", 2_000);
    run.assert_hey_all_200("hey-cutover.txt", 2_000);
    run.assert_steps_ok();
    for n in 1..=16 {
        let step = format!("step{n:02}");
        assert!(run.run.step_ok(&step), "{}: {step} not passed", run.label);
    }
    for step in [
        "step12-load",
        "step15-load",
        "hey-covered-reload",
        "hey-covered-cutover",
    ] {
        assert!(run.run.step_ok(step), "{}: {step} not passed", run.label);
    }
}

#[test]
fn seed_004_runtime_api_cutover_against_switchyard() {
    seed_004(Target::Switchyard);
}

#[test]
fn seed_004_runtime_api_cutover_against_haproxy() {
    seed_004(Target::Haproxy);
}
