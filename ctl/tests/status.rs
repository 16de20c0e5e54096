//! `ctl status` against a real proxy, over TCP and over the UNIX socket.

mod common;

use common::{ctl, proxy_kind, Lab, LabSpec};

#[test]
fn status_table_shows_frontends_backends_and_servers() {
    let Some(kind) = proxy_kind() else { return };
    let lab = Lab::start(
        &kind,
        LabSpec {
            dead_green: true,
            ..LabSpec::default()
        },
    );
    lab.wait_status("be_green", "green9", "DOWN");
    // One request so counters move.
    assert_eq!(lab.served_by(), "blue");

    for socket in [lab.tcp(), lab.unix()] {
        let run = ctl(lab.state_dir.path(), &["status", "--socket", &socket]);
        run.expect_code(0);
        let out = &run.stdout;
        assert!(
            !out.contains('\x1b'),
            "no colour when not a terminal:\n{out}"
        );
        assert!(out.contains(&format!("== {socket} ==")), "{out}");
        let line = |name: &str| {
            out.lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .unwrap_or_else(|| panic!("no row {name}:\n{out}"))
                .split_whitespace()
                .collect::<Vec<_>>()
        };
        let header = line("NAME");
        assert_eq!(
            header,
            ["NAME", "TYPE", "STATUS", "WEIGHT", "CUR", "TOT", "QUEUE", "CHECK", "LASTCHG"]
        );
        assert_eq!(line("fe")[1..3], ["frontend", "OPEN"]);
        assert_eq!(line("be_blue")[1..3], ["backend", "UP"]);
        let blue1 = line("blue1");
        assert_eq!(blue1[1..4], ["server", "UP", "1"], "{out}");
        assert_eq!(blue1[5], "1", "one session served by blue1:\n{out}");
        assert_eq!(blue1[7], "L7OK", "{out}");
        let green9 = line("green9");
        assert_eq!(green9[1..3], ["server", "DOWN"], "{out}");
        assert!(green9.contains(&"L4CON"), "{out}");
        // Servers are listed under their backend, indented.
        let order: Vec<&str> = out
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let pos = |n: &str| order.iter().position(|x| *x == n).expect("row");
        assert!(pos("be_green") < pos("green1") && pos("green1") < pos("green9"));
    }
}

#[test]
fn status_json_and_proxy_filter() {
    let Some(kind) = proxy_kind() else { return };
    let lab = Lab::start(&kind, LabSpec::default());
    let run = ctl(
        lab.state_dir.path(),
        &["status", "-s", &lab.tcp(), "--json", "be_green"],
    );
    run.expect_code(0);
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["exit_code"], 0);
    let target = &doc["targets"][0];
    assert_eq!(target["target"], lab.tcp());
    let rows = target["rows"].as_array().expect("rows");
    assert!(rows.iter().all(|r| r["proxy"] == "be_green"), "{rows:?}");
    let green1 = rows
        .iter()
        .find(|r| r["name"] == "green1")
        .expect("green1 row");
    assert_eq!(green1["kind"], "server");
    assert_eq!(green1["status"], "UP");
    assert_eq!(green1["check_status"], "L7OK");
    assert!(rows.iter().any(|r| r["kind"] == "backend"));
}

#[test]
fn unreachable_target_is_exit_2_and_other_targets_still_shown() {
    let Some(kind) = proxy_kind() else { return };
    let lab = Lab::start(&kind, LabSpec::default());
    let dead = format!("127.0.0.1:{}", switchyard_testkit::free_port());
    let run = ctl(
        lab.state_dir.path(),
        &["status", "-s", &lab.tcp(), "-s", &dead],
    );
    run.expect_code(2);
    assert!(run.stdout.contains("blue1"), "{}", run.stdout);
    assert!(run.stderr.contains(&dead), "{}", run.stderr);
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);
}

#[test]
fn usage_errors_are_exit_1() {
    let dir = tempfile::tempdir().expect("tmp");
    for args in [
        vec!["status"],                       // no --socket
        vec!["status", "-s", "not-a-target"], // bad target
        vec!["bogus-command"],
        vec!["drain", "-s", "127.0.0.1:1", "no-slash"], // bad server
        vec![
            "cutover",
            "-s",
            "127.0.0.1:1",
            "--map",
            "m",
            "--key",
            "k",
            "--to",
            "b",
            "--wait-up-timeout",
            "soon",
        ],
    ] {
        let run = ctl(dir.path(), &args);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
    let help = ctl(dir.path(), &["--help"]);
    help.expect_code(0);
    assert!(help.stdout.contains("Exit codes:"), "{}", help.stdout);
}
