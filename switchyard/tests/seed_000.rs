//! Seed 000 ("Blue/green deployment with HA Proxy") end to end, against switchyard and,
//! as the baseline, the real HAProxy 2.6 — everything else identical.
//!
//! `tests/seeds/seed000.sh` runs inside fresh net/mount/PID namespaces (see
//! `tests/seeds/lib.sh`): the article's `haproxy.cfg` and `deploy` script unchanged (only
//! the lines the blog's rendering glued together are split) in
//! `/home/dong/code/learn-haproxy` (a private tmpfs), a hickory-server DNS server on
//! `127.0.0.53:53` for `resolvers local` (answering `localhost` A 127.0.0.1), a fake
//! `docker compose` starting `switchyard-echo` upstreams on 3000/4000, the proxy started
//! as `haproxy -W -f haproxy.cfg -p haproxy.pid`, and `hey -n 100000 -c 100
//! http://localhost:8785/` while `./deploy release`, `./deploy rollback`, `./deploy
//! release`, `./deploy done` run. hey is stopped (SIGINT, it still reports) 5 s after the
//! last step so the run stays short.
//!
//! Each step is checked as the article describes it (waitItUp sees UP, the other colour
//! answers after forwardTo, readyToDown reaches 0), and hey must report only 200s and no
//! errors.
//!
//! Reproduce by hand (as root), e.g. against switchyard:
//! ```text
//! W=$(mktemp -d); PROXY_BIN=$PWD/target/debug/switchyard \
//!   ECHO_BIN=$PWD/target/debug/switchyard-echo TESTDNS_BIN=$PWD/target/debug/switchyard-testdns \
//!   WORK=$W unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private \
//!   bash switchyard/tests/seeds/seed000.sh
//! ```

#[path = "seeds/harness.rs"]
mod harness;

use harness::{run_seed, Target};

/// hey as in the article; it is interrupted 5 s after the deploy's last step.
const HEY_ENV: &[(&str, &str)] = &[("HEY_N", "100000"), ("HEY_C", "100"), ("HEY_GRACE", "5")];

fn seed_000(target: Target) {
    let run = run_seed("seed000.sh", target, HEY_ENV);
    run.assert_steps_ok();
    run.assert_hey_all_200("hey.txt", 5_000);
    for step in [
        "blue-up",
        "release-waitItUp",
        "release-forwardTo",
        "rollback-forwardTo",
        "rollback-readyToDown",
        "release2-forwardTo",
        "done-waitItUp",
        "done-forwardTo",
        "done-readyToDown",
        "hey-covered-deploy",
    ] {
        assert!(
            run.run.step_ok(step),
            "{}: step {step} not passed",
            run.label
        );
    }
}

#[test]
fn seed_000_blue_green_deploy_against_switchyard() {
    seed_000(Target::Switchyard);
}

#[test]
fn seed_000_blue_green_deploy_against_haproxy() {
    seed_000(Target::Haproxy);
}
