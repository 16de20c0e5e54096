//! `switchyard -c` and the other non-serving flags, as processes.

mod common;

use common::*;

const VALID: &str = "frontend f
    bind 127.0.0.1:18001
    default_backend b
backend b
    server s 127.0.0.1:1
";

fn valid_cfg() -> String {
    format!("{DEFAULTS}{VALID}")
}

#[test]
fn valid_config_prints_valid_and_exits_0() {
    let dir = tempdir();
    write(dir.path(), "ok.cfg", &valid_cfg());
    let r = check(&switchyard(), dir.path(), &["ok.cfg"], &[]);
    r.assert_no_panic("ok.cfg");
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(r.stdout, "Configuration file is valid\n");
}

#[test]
fn errors_are_alerts_in_haproxy_shape_and_exit_1() {
    let dir = tempdir();
    write(dir.path(), "bad.cfg", "global\n    foo bar\n");
    let r = check(&switchyard(), dir.path(), &["bad.cfg"], &[]);
    r.assert_no_panic("bad.cfg");
    assert_eq!(r.code, Some(1), "{r:?}");
    assert_eq!(r.stdout, "", "nothing on stdout for errors");
    let pid_tag = |tag: &str| {
        r.stderr
            .lines()
            .filter(|l| l.starts_with(tag))
            .map(|l| l.to_owned())
            .collect::<Vec<_>>()
    };
    let alerts = pid_tag("[ALERT]    (");
    assert!(
        alerts.iter().any(|l| l.ends_with(
            ": config : parsing [bad.cfg:2] : unknown keyword 'foo' in 'global' section"
        )),
        "{}",
        r.stderr
    );
    assert!(
        alerts
            .iter()
            .any(|l| l.ends_with(": config : Error(s) found in configuration file : bad.cfg")),
        "{}",
        r.stderr
    );
    assert!(
        alerts
            .last()
            .is_some_and(|l| l.ends_with(": config : Fatal errors found in configuration.")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("[NOTICE]   (")),
        "startup notices come first:\n{}",
        r.stderr
    );
}

#[test]
fn no_listener_exits_2() {
    let dir = tempdir();
    write(
        dir.path(),
        "nol.cfg",
        &format!("{DEFAULTS}backend b\n    server s 127.0.0.1:1\n"),
    );
    let r = check(&switchyard(), dir.path(), &["nol.cfg"], &[]);
    r.assert_no_panic("nol.cfg");
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stdout.ends_with(
            "Configuration file has no error but will not start (no listener) => exit(2).\n"
        ),
        "{r:?}"
    );
}

#[test]
fn quiet_keeps_exit_codes_and_prints_nothing() {
    let dir = tempdir();
    write(dir.path(), "ok.cfg", &valid_cfg());
    write(dir.path(), "bad.cfg", "global\n    foo bar\n");
    let ok = check(&switchyard(), dir.path(), &["ok.cfg"], &["-q"]);
    assert_eq!(
        (ok.code, ok.stdout.as_str(), ok.stderr.as_str()),
        (Some(0), "", "")
    );
    let bad = check(&switchyard(), dir.path(), &["bad.cfg"], &["-q"]);
    assert_eq!(
        (bad.code, bad.stdout.as_str(), bad.stderr.as_str()),
        (Some(1), "", "")
    );
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let dir = tempdir();
    let r = check(&switchyard(), dir.path(), &["nonexistent.cfg"], &[]);
    r.assert_no_panic("nonexistent.cfg");
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains("nonexistent.cfg"), "{}", r.stderr);
}

#[test]
fn version_banner() {
    let dir = tempdir();
    let r = run(dir.path(), &["-v"]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.starts_with("switchyard version "), "{}", r.stdout);
    assert!(r.stdout.contains("\nRunning on: "), "{}", r.stdout);
    let vv = run(dir.path(), &["-vv"]);
    assert_eq!(vv.code, Some(0));
    assert!(vv.stdout.contains("Build options :"), "{}", vv.stdout);
}

#[test]
fn bad_command_lines_print_usage_and_exit_1() {
    let dir = tempdir();
    for args in [&[][..], &["-c"], &["-zz"], &["-f"], &["stray"]] {
        let r = run(dir.path(), args);
        r.assert_no_panic(&format!("{args:?}"));
        assert_eq!(r.code, Some(1), "{args:?}: {r:?}");
        assert!(
            r.stderr.contains("Usage : switchyard"),
            "{args:?}: {}",
            r.stderr
        );
    }
    let r = run(dir.path(), &["-c", "-sf", "12x", "-f", "x.cfg"]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("-sf option: some bytes unconsumed in PID list {x}"),
        "{}",
        r.stderr
    );
}

#[test]
fn ctl_runs_the_deployment_helper() {
    let dir = tempdir();
    let r = run(dir.path(), &["ctl", "status"]);
    r.assert_no_panic("ctl");
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("switchyard ctl status: no target"),
        "{}",
        r.stderr
    );
}
