//! Draining: the old backend after a cutover, and one server with `ctl drain`.

mod common;

use common::{ctl, proxy_kind, Lab, LabSpec, POLL, WAIT};
use std::thread;
use std::time::Duration;
use switchyard_testkit::{eventually_named, http_get, Behavior, FakeUpstream};

/// Sends a request through the lab's frontend on another thread; returns the handle
/// once the upstream has it in flight.
fn hold_request(lab: &Lab, upstream: &FakeUpstream) -> thread::JoinHandle<u16> {
    let url = lab.url("/slow");
    let before = upstream.in_flight();
    let handle = thread::spawn(move || http_get(&url, &[]).map_or(0, |r| r.status));
    eventually_named("request in flight upstream", WAIT, POLL, || {
        upstream.in_flight() > before
    });
    handle
}

#[test]
fn drain_deadline_is_reported_with_connections_left() {
    let Some(kind) = proxy_kind() else { return };
    let lab = Lab::start(
        &kind,
        LabSpec {
            blue_behavior: Behavior::Delay(Duration::from_secs(3)),
            green_behavior: Behavior::Delay(Duration::from_millis(1500)),
            ..LabSpec::default()
        },
    );
    let (map, state, tcp) = (lab.map(), lab.state_file().display().to_string(), lab.tcp());
    let held = hold_request(&lab, &lab.blue);
    let run = ctl(
        lab.state_dir.path(),
        &[
            "cutover",
            "-s",
            &tcp,
            "--map",
            &map,
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
    run.expect_code(5);
    let doc = run.json();
    assert_eq!(doc["exit"], "drain_deadline");
    assert_eq!(doc["drain"]["complete"], false);
    assert_eq!(doc["drain"]["connections_left"], 1, "{doc}");
    assert_eq!(doc["drain"]["left"][0]["backend"], "be_blue");
    let error = doc["error"].as_str().expect("error");
    assert!(error.contains("1 connection(s) still open"), "{error}");
    assert!(error.contains("switch is kept"), "{error}");
    assert!(
        run.stderr.contains("draining be_blue"),
        "progress:\n{}",
        run.stderr
    );
    // The switch stands, and the old request still completes.
    assert_eq!(lab.active(), ["be_green"]);
    assert_eq!(held.join().expect("request thread"), 200);

    // Rolling back waits for green's in-flight request, then succeeds.
    let held = hold_request(&lab, &lab.green);
    let run = ctl(
        lab.state_dir.path(),
        &[
            "rollback",
            "-s",
            &tcp,
            "--map",
            &map,
            "--key",
            "active",
            "--state-file",
            &state,
            "--drain-timeout",
            "20s",
            "--json",
        ],
    );
    run.expect_code(0);
    let doc = run.json();
    assert_eq!(doc["drain"]["complete"], true, "{doc}");
    assert_eq!(doc["drain"]["connections_left"], 0);
    assert_eq!(held.join().expect("request thread"), 200);
    assert_eq!(lab.active(), ["be_blue"]);
}

#[test]
fn drain_a_server_then_ready_and_wait_up() {
    let Some(kind) = proxy_kind() else { return };
    let lab = Lab::start(
        &kind,
        LabSpec {
            blue_behavior: Behavior::Delay(Duration::from_millis(1500)),
            ..LabSpec::default()
        },
    );
    let (home, tcp) = (lab.state_dir.path(), lab.tcp());

    // Waits for the held request, then puts the server in maintenance.
    let held = hold_request(&lab, &lab.blue);
    let run = ctl(
        home,
        &["drain", "-s", &tcp, "be_blue/blue1", "--timeout", "20s"],
    );
    run.expect_code(0);
    assert!(
        run.stdout.contains("drained and in MAINT"),
        "{}",
        run.stdout
    );
    assert_eq!(held.join().expect("request thread"), 200);
    assert_eq!(lab.status_of("be_blue", "blue1"), "MAINT");

    let run = ctl(
        home,
        &["wait-up", "-s", &tcp, "be_blue/blue1", "--timeout", "1s"],
    );
    run.expect_code(3);

    let run = ctl(home, &["ready", "-s", &tcp, "be_blue/blue1", "--json"]);
    run.expect_code(0);
    let run = ctl(
        home,
        &["wait-up", "-s", &tcp, "be_blue/blue1", "--timeout", "20s"],
    );
    run.expect_code(0);
    let run = ctl(home, &["wait-up", "-s", &tcp, "be_green", "--min-up", "1"]);
    run.expect_code(0);
    let run = ctl(
        home,
        &[
            "wait-up",
            "-s",
            &tcp,
            "be_green",
            "--min-up",
            "2",
            "--timeout",
            "1s",
        ],
    );
    run.expect_code(3);

    // A deadline missed leaves the server in DRAIN (not MAINT) and says how many are left.
    lab.blue
        .set_behavior(Behavior::Delay(Duration::from_secs(3)));
    let held = hold_request(&lab, &lab.blue);
    let run = ctl(
        home,
        &["drain", "-s", &tcp, "be_blue/blue1", "--timeout", "1s"],
    );
    run.expect_code(5);
    assert!(
        run.stderr.contains("1 connection(s) still open"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("left in DRAIN"), "{}", run.stderr);
    assert_eq!(lab.status_of("be_blue", "blue1"), "DRAIN");
    assert_eq!(held.join().expect("request thread"), 200);

    let run = ctl(home, &["drain", "-s", &tcp, "be_blue/nope"]);
    run.expect_code(3);
}
