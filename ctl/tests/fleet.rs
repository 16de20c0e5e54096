//! Several proxies at once: checked together, switched together, rolled back together.

mod common;

use common::relay::Relay;
use common::{ctl, proxy_kind, Lab, LabSpec, MAP_NAME, MAP_TEXT};
use switchyard_testkit::{free_port, loopback, Behavior};

/// Two proxies sharing one map path (as a fleet shares /etc/haproxy/maps/…).
fn two_labs(b_green: Behavior) -> (tempfile::TempDir, Lab, Lab) {
    let kind = proxy_kind().expect("checked by the caller");
    let shared = tempfile::tempdir().expect("tmp");
    let map = shared.path().join(MAP_NAME);
    std::fs::write(&map, MAP_TEXT).expect("map file");
    let spec = LabSpec {
        shared_map: Some(map),
        ..LabSpec::default()
    };
    let a = Lab::start(&kind, spec.clone());
    let b = Lab::start(
        &kind,
        LabSpec {
            green_behavior: b_green,
            ..spec
        },
    );
    (shared, a, b)
}

#[test]
fn two_proxies_switch_together_and_roll_back_together() {
    if proxy_kind().is_none() {
        return;
    }
    // B's green passes health checks but fails real requests at first.
    let (_shared, a, b) = two_labs(Behavior::Status(503));
    let home = a.state_dir.path();
    let state = a.state_file().display().to_string();
    let (map, tcp_a, unix_b, url_a, url_b) = (a.map(), a.tcp(), b.unix(), a.url("/"), b.url("/"));
    let base = [
        "cutover",
        "-s",
        &tcp_a,
        "-s",
        &unix_b,
        "--map",
        &map,
        "--key",
        "active",
        "--to",
        "be_green",
        "--state-file",
        &state,
        "--no-drain",
    ];
    let with = |extra: &[&'static str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run_args = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ctl(home, &args)
    };

    // 1. Checked on all before any switch: B's green in MAINT stops both.
    b.cli("set server be_green/green1 state maint");
    let run = run_args(&with(&["--wait-up-timeout", "1s"]));
    run.expect_code(3);
    assert!(run.stderr.contains(&unix_b), "{}", run.stderr);
    assert_eq!(
        (a.active(), b.active()),
        (vec!["be_blue".to_owned()], vec!["be_blue".to_owned()])
    );
    b.cli("set server be_green/green1 state ready");
    b.wait_status("be_green", "green1", "UP");

    // 2. Switched on both, smoke test fails through B: both rolled back.
    let mut args = with(&["--json"]);
    args.extend([
        "--smoke-url".into(),
        url_a.clone(),
        "--smoke-url".into(),
        url_b.clone(),
    ]);
    let run = run_args(&args);
    run.expect_code(4);
    let doc = run.json();
    let steps = doc["steps"].as_array().expect("steps");
    let targets_of = |phase: &str| -> Vec<String> {
        steps
            .iter()
            .filter(|s| s["phase"] == phase && s["ok"] == true)
            .filter_map(|s| s["target"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(targets_of("switch"), [tcp_a.clone(), unix_b.clone()]);
    assert_eq!(targets_of("verify"), [tcp_a.clone(), unix_b.clone()]);
    assert_eq!(targets_of("rollback"), [tcp_a.clone(), unix_b.clone()]);
    assert!(
        doc["error"].as_str().expect("error").contains("status 503"),
        "{doc}"
    );
    assert_eq!(a.active(), ["be_blue"]);
    assert_eq!(b.active(), ["be_blue"]);
    assert_eq!(
        (a.served_by(), b.served_by()),
        ("blue".into(), "blue".into())
    );

    // 3. Fixed: both switch, both serve green.
    b.green.set_behavior(Behavior::Echo);
    let run = run_args(&args);
    run.expect_code(0);
    assert_eq!(a.active(), ["be_green"]);
    assert_eq!(b.active(), ["be_green"]);
    assert_eq!(
        (a.served_by(), b.served_by()),
        ("green".into(), "green".into())
    );

    // 4. Rolled back together.
    let run = ctl(
        home,
        &[
            "rollback",
            "-s",
            &tcp_a,
            "-s",
            &unix_b,
            "--map",
            &map,
            "--key",
            "active",
            "--state-file",
            &state,
            "--no-drain",
        ],
    );
    run.expect_code(0);
    assert_eq!(a.active(), ["be_blue"]);
    assert_eq!(b.active(), ["be_blue"]);
}

#[test]
fn unreachable_target_changes_nothing() {
    if proxy_kind().is_none() {
        return;
    }
    let (_shared, a, _b) = two_labs(Behavior::Echo);
    let dead = format!("127.0.0.1:{}", free_port());
    let (map, state, tcp) = (a.map(), a.state_file().display().to_string(), a.tcp());
    let run = ctl(
        a.state_dir.path(),
        &[
            "cutover",
            "-s",
            &tcp,
            "-s",
            &dead,
            "--map",
            &map,
            "--key",
            "active",
            "--to",
            "be_green",
            "--state-file",
            &state,
            "--no-drain",
        ],
    );
    run.expect_code(2);
    assert!(run.stderr.contains(&dead), "{}", run.stderr);
    assert_eq!(a.active(), ["be_blue"]);
}

#[test]
fn a_refused_switch_on_one_proxy_rolls_back_the_others() {
    if proxy_kind().is_none() {
        return;
    }
    let (_shared, a, b) = two_labs(Behavior::Echo);
    let home = a.state_dir.path();
    let state = a.state_file().display().to_string();
    let map = a.map();
    // B refuses the switch to green (after A has switched).
    let b_relay = Relay::start(loopback(b.stats_port), "active be_green");
    let (tcp_a, relay_b) = (a.tcp(), b_relay.target());
    let args = [
        "cutover",
        "-s",
        &tcp_a,
        "-s",
        &relay_b,
        "--map",
        &map,
        "--key",
        "active",
        "--to",
        "be_green",
        "--state-file",
        &state,
        "--no-drain",
    ];
    let run = ctl(home, &args);
    run.expect_code(4);
    assert!(run.stderr.contains("switch failed on"), "{}", run.stderr);
    assert!(run.stderr.contains("Permission denied"), "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!("rollback {tcp_a}: ")),
        "{}",
        run.stdout
    );
    assert_eq!(a.active(), ["be_blue"]);
    assert_eq!(b.active(), ["be_blue"]);
    assert_eq!(a.served_by(), "blue");

    // If A then refuses to go back, the rollback failure is exit 6 and names A.
    let a_relay = Relay::start(loopback(a.stats_port), "active be_blue");
    let relay_a = a_relay.target();
    let args = [
        "cutover",
        "-s",
        &relay_a,
        "-s",
        &relay_b,
        "--map",
        &map,
        "--key",
        "active",
        "--to",
        "be_green",
        "--state-file",
        &state,
        "--no-drain",
    ];
    let run = ctl(home, &args);
    run.expect_code(6);
    assert!(run.stderr.contains("ROLLBACK FAILED"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{relay_a} should be be_blue")),
        "{}",
        run.stderr
    );
    assert_eq!(a.active(), ["be_green"], "A really is stuck on green");
    assert_eq!(b.active(), ["be_blue"]);
}
