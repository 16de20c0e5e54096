//! Seed 001 ("ZERO Downtime deployment with HA Proxy", its "very graceful deploy"), against
//! switchyard and, as the baseline, the real HAProxy 2.6.
//!
//! `tests/seeds/seed001.sh` runs inside fresh net/mount/PID namespaces (see
//! `tests/seeds/lib.sh`): the seed's `deploy.sh` unchanged; seed 000's `haproxy.cfg` with the
//! map key `STATIC` (seed 001 does not print its config; `tests/seeds/seed001/haproxy.cfg`
//! differs from seed 000's only in that key); both colours running as `switchyard-echo
//! --sigterm-503 --grace-ms 1000` ("application will stop listening on registered port and
//! return 503 for incoming request"); the seed's `hey -n 200000 -c 200 -t 100
//! http://localhost:8785/cms` while `./deploy.sh` runs and the driver redeploys each colour
//! when the script says so. hey is stopped (SIGINT, it still reports) 5 s after the script
//! ends so the run stays short. hey must report only 200s and no errors (the haproxy
//! baseline is run a second time if its first run had failures; switchyard's is not).
//!
//! Reproduce by hand (as root), e.g. against switchyard:
//! ```text
//! W=$(mktemp -d); PROXY_BIN=$PWD/target/debug/switchyard \
//!   ECHO_BIN=$PWD/target/debug/switchyard-echo TESTDNS_BIN=$PWD/target/debug/switchyard-testdns \
//!   WORK=$W unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private \
//!   bash switchyard/tests/seeds/seed001.sh
//! ```

#[path = "seeds/harness.rs"]
mod harness;

use harness::{run_seed, SeedRun, Target};

const HEY_ENV: &[(&str, &str)] = &[("HEY_N", "200000"), ("HEY_C", "200"), ("HEY_GRACE", "5")];

fn seed_001(target: Target) {
    let mut run = run_seed("seed001.sh", target, HEY_ENV);
    // Real haproxy once answered two 503s here (session 4, a loaded 2-core
    // machine; the rerun passed). The baseline shows that the seed works
    // against haproxy, so it gets one more run; switchyard gets none.
    if target == Target::Haproxy && !all_200(&run) {
        eprintln!(
            "haproxy baseline: failed requests on the first run, running it once more:\n{}",
            run.hey("hey.txt").raw
        );
        run = run_seed("seed001.sh", target, HEY_ENV);
    }
    run.assert_steps_ok();
    run.assert_hey_all_200("hey.txt", 5_000);
    for step in [
        "resolver-queried",
        "deploy",
        "readyToDown-blue",
        "readyToDown-green",
        "after-deploy",
        "hey-covered-deploy",
    ] {
        assert!(
            run.run.step_ok(step),
            "{}: step {step} not passed",
            run.label
        );
    }
}

/// Whether hey made requests and saw only 200s (the assertion itself comes after).
fn all_200(run: &SeedRun) -> bool {
    let hey = run.hey("hey.txt");
    hey.total_requests > 0 && hey.only_200()
}

#[test]
fn seed_001_graceful_rolling_deploy_against_switchyard() {
    seed_001(Target::Switchyard);
}

#[test]
fn seed_001_graceful_rolling_deploy_against_haproxy() {
    seed_001(Target::Haproxy);
}
