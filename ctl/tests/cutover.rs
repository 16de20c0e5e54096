//! `ctl cutover` / `ctl rollback` against a real proxy: the map flips, traffic follows,
//! preconditions are enforced, and a failing smoke test rolls back by itself.

mod common;

use common::{ctl, proxy_kind, Lab, LabSpec};
use switchyard_testkit::Behavior;

fn cutover_args<'a>(
    lab_map: &'a str,
    socket: &'a str,
    state: &'a str,
    to: &'a str,
) -> Vec<&'a str> {
    vec![
        "cutover",
        "--socket",
        socket,
        "--map",
        lab_map,
        "--key",
        "active",
        "--to",
        to,
        "--state-file",
        state,
        "--no-drain",
    ]
}

#[test]
fn cutover_then_rollback_flips_map_and_traffic() {
    let Some(kind) = proxy_kind() else { return };
    let lab = Lab::start(&kind, LabSpec::default());
    let (map, state, tcp) = (lab.map(), lab.state_file().display().to_string(), lab.tcp());
    assert_eq!(lab.active(), ["be_blue"]);
    assert_eq!(lab.served_by(), "blue");

    // Cutover over the UNIX socket, with a smoke test through the frontend.
    let unix = lab.unix();
    let url = lab.url("/release");
    let mut args = cutover_args(&map, &unix, &state, "be_green");
    args.extend(["--smoke-url", &url, "--expect-body", "\"green\""]);
    let run = ctl(lab.state_dir.path(), &args);
    run.expect_code(0);
    for phase in ["check", "note", "switch", "verify", "smoke"] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(phase)),
            "no {phase} step:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("be_blue -> be_green"), "{}", run.stdout);
    assert_eq!(lab.active(), ["be_green"]);
    assert_eq!(lab.served_by(), "green");
    // The runtime change does not touch the file without --persist.
    let file = std::fs::read_to_string(lab.map_path()).expect("map file");
    assert!(file.contains("active be_blue"), "{file}");

    // Rollback over TCP (another spelling of the same proxy): back to the recorded value.
    let ipv4 = format!("ipv4@{tcp}");
    let run = ctl(
        lab.state_dir.path(),
        &[
            "rollback",
            "-s",
            &ipv4,
            "--map",
            &map,
            "--key",
            "active",
            "--state-file",
            &state,
            "--no-drain",
            "--json",
        ],
    );
    run.expect_code(0);
    let doc = run.json();
    assert_eq!(doc["command"], "rollback");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["to"][lab.tcp()], "be_blue", "{doc}");
    assert_eq!(doc["previous"][lab.tcp()], "be_green", "{doc}");
    assert_eq!(lab.active(), ["be_blue"]);
    assert_eq!(lab.served_by(), "blue");

    // A second rollback goes forward again (the rollback was recorded too).
    let run = ctl(
        lab.state_dir.path(),
        &[
            "rollback",
            "-s",
            &lab.tcp(),
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
    assert_eq!(lab.active(), ["be_green"]);

    // Switching to the value already set changes nothing and says so.
    let run = ctl(
        lab.state_dir.path(),
        &cutover_args(&map, &tcp, &state, "be_green"),
    );
    run.expect_code(0);
    assert!(run.stdout.contains("nothing changed"), "{}", run.stdout);
}

#[test]
fn cutover_refused_when_new_backend_is_down() {
    let Some(kind) = proxy_kind() else { return };
    let lab = Lab::start(
        &kind,
        LabSpec {
            green_healthy: false,
            ..LabSpec::default()
        },
    );
    let (map, state, tcp) = (lab.map(), lab.state_file().display().to_string(), lab.tcp());
    let mut args = cutover_args(&map, &tcp, &state, "be_green");
    args.extend(["--wait-up-timeout", "1s", "--json"]);
    let run = ctl(lab.state_dir.path(), &args);
    run.expect_code(3);
    let doc = run.json();
    assert_eq!(doc["exit"], "precondition");
    let error = doc["error"].as_str().expect("error text");
    assert!(error.contains("green1 DOWN"), "{error}");
    assert!(error.contains("nothing was changed"), "{error}");
    assert_eq!(doc["check"][0]["up"], 0);
    assert_eq!(lab.active(), ["be_blue"]);
    assert_eq!(lab.served_by(), "blue");
    assert!(
        !lab.state_file().exists(),
        "nothing recorded for a refused cutover"
    );

    // DRAIN and MAINT are not UP either, even when the checks pass.
    lab.green.set_healthy(true);
    lab.wait_status("be_green", "green1", "UP");
    for state_word in ["drain", "maint"] {
        lab.cli(&format!("set server be_green/green1 state {state_word}"));
        let run = ctl(lab.state_dir.path(), &args);
        run.expect_code(3);
        assert_eq!(lab.active(), ["be_blue"]);
    }
    lab.cli("set server be_green/green1 state ready");

    // Waiting: the cutover goes ahead once green comes UP within the timeout.
    lab.green.set_healthy(false);
    lab.wait_status("be_green", "green1", "DOWN");
    let mut waiting = cutover_args(&map, &tcp, &state, "be_green");
    waiting.extend(["--wait-up-timeout", "20s"]);
    let child = std::thread::spawn({
        let home = lab.state_dir.path().to_owned();
        let waiting: Vec<String> = waiting.iter().map(|s| s.to_string()).collect();
        move || {
            let args: Vec<&str> = waiting.iter().map(String::as_str).collect();
            ctl(&home, &args)
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        lab.active(),
        ["be_blue"],
        "must not switch before green is UP"
    );
    lab.green.set_healthy(true);
    let run = child.join().expect("ctl thread");
    run.expect_code(0);
    assert!(
        run.stderr.contains("waiting for 1 UP"),
        "progress line:\n{}",
        run.stderr
    );
    assert_eq!(lab.active(), ["be_green"]);
}

#[test]
fn unknown_backend_map_or_key_is_a_precondition() {
    let Some(kind) = proxy_kind() else { return };
    let lab = Lab::start(&kind, LabSpec::default());
    let (map, state, tcp) = (lab.map(), lab.state_file().display().to_string(), lab.tcp());
    let cases: [(&str, &str, &str, &str); 3] = [
        (&map, "active", "be_nope", "No such proxy."),
        (
            "/no/such.map",
            "active",
            "be_green",
            "Unknown map identifier",
        ),
        (&map, "nokey", "be_green", "has no key"),
    ];
    for (m, key, to, why) in cases {
        let run = ctl(
            lab.state_dir.path(),
            &[
                "cutover",
                "-s",
                &tcp,
                "--map",
                m,
                "--key",
                key,
                "--to",
                to,
                "--state-file",
                &state,
                "--no-drain",
                "--wait-up-timeout",
                "1s",
            ],
        );
        run.expect_code(3);
        assert!(run.stderr.contains(why), "{why}: {}", run.stderr);
        assert_eq!(lab.active(), ["be_blue"]);
    }
    // Nothing recorded: rollback has nothing to go back to.
    let run = ctl(
        lab.state_dir.path(),
        &[
            "rollback",
            "-s",
            &lab.tcp(),
            "--map",
            &map,
            "--key",
            "active",
            "--state-file",
            &state,
        ],
    );
    run.expect_code(3);
    assert!(run.stderr.contains("nothing recorded"), "{}", run.stderr);
}

#[test]
fn failing_smoke_test_rolls_back_by_itself() {
    let Some(kind) = proxy_kind() else { return };
    // Green passes its health checks but answers real requests with 500.
    let lab = Lab::start(
        &kind,
        LabSpec {
            green_behavior: Behavior::Status(500),
            ..LabSpec::default()
        },
    );
    let (map, state, tcp) = (lab.map(), lab.state_file().display().to_string(), lab.tcp());
    let url = lab.url("/");
    let mut args = cutover_args(&map, &tcp, &state, "be_green");
    args.extend(["--smoke-url", &url, "--persist", "--json"]);
    let run = ctl(lab.state_dir.path(), &args);
    run.expect_code(4);
    let doc = run.json();
    assert_eq!(doc["exit"], "rolled_back");
    assert_eq!(doc["rolled_back"], true);
    let error = doc["error"].as_str().expect("error");
    assert!(
        error.contains("smoke test failed") && error.contains("status 500"),
        "{error}"
    );
    assert!(error.contains("rolled back"), "{error}");
    let phases: Vec<&str> = doc["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["phase"].as_str())
        .collect();
    assert!(phases.ends_with(&["smoke", "rollback"]), "{phases:?}");
    assert_eq!(lab.active(), ["be_blue"]);
    assert_eq!(lab.served_by(), "blue");
    // Not persisted, and the aborted cutover left no record to "roll back" to.
    let file = std::fs::read_to_string(lab.map_path()).expect("map file");
    assert!(file.contains("active be_blue"), "{file}");
    assert!(!lab.state_file().exists());

    // A body regex that does not match fails the same way (green now answers 200).
    lab.green.set_behavior(Behavior::Echo);
    let mut args = cutover_args(&map, &tcp, &state, "be_green");
    args.extend(["--smoke-url", &url, "--expect-body", "version=3"]);
    let run = ctl(lab.state_dir.path(), &args);
    run.expect_code(4);
    assert!(run.stderr.contains("does not match"), "{}", run.stderr);
    assert_eq!(lab.active(), ["be_blue"]);
}
