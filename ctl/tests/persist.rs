//! `ctl cutover --persist`: the map file is rewritten atomically, and a reload of the
//! proxy (master-worker, SIGUSR2; in-process for switchyard) reads the same state back.

mod common;

use common::{ctl, proxy_kind, Lab, LabSpec, MAP_TEXT, POLL, WAIT};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use switchyard_testkit::{eventually_named, Signal};

/// `Pid` from `show info` (the worker answering this connection).
fn worker_pid(info: &str) -> Option<u32> {
    info.lines()
        .find_map(|l| l.strip_prefix("Pid: "))
        .and_then(|p| p.trim().parse().ok())
}

#[test]
fn persist_rewrites_the_map_file_and_a_reload_keeps_green() {
    let Some(kind) = proxy_kind() else { return };
    let lab = Lab::start(
        &kind,
        LabSpec {
            args: vec!["-W".into()],
            ..LabSpec::default()
        },
    );
    let path = lab.map_path();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
    let inode_before = fs::metadata(&path).expect("stat").ino();
    let (map, state, tcp, url) = (
        lab.map(),
        lab.state_file().display().to_string(),
        lab.tcp(),
        lab.url("/"),
    );
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
            "--no-drain",
            "--smoke-url",
            &url,
            "--persist",
        ],
    );
    run.expect_code(0);
    assert!(run.stdout.contains("persist"), "{}", run.stdout);

    // Only the key's value changed; comments, blank lines, other entries and mode kept.
    let text = fs::read_to_string(&path).expect("map file");
    assert_eq!(text, MAP_TEXT.replace("active be_blue", "active be_green"));
    let meta = fs::metadata(&path).expect("stat");
    assert_eq!(meta.mode() & 0o777, 0o640);
    assert_ne!(
        meta.ino(),
        inode_before,
        "replaced by rename, not written in place"
    );
    let leftovers: Vec<String> = fs::read_dir(lab.proxy.dir())
        .expect("ls")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.contains("switchyard-ctl"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    // Reload: the configuration (and the map file) is read again, so it starts on green.
    // HAProxy's master forks a new worker (a new `Pid`); switchyard reloads in-process (same
    // `Pid`). Both print `Loading success.` once the new configuration serves.
    let old_pid = worker_pid(&lab.cli("show info")).expect("Pid in show info");
    let successes = |p: &switchyard_testkit::Proxy| {
        p.child()
            .lines()
            .iter()
            .filter(|l| l.contains("Loading success."))
            .count()
    };
    let mut proxy = lab.proxy;
    let before = successes(&proxy);
    proxy.signal(Signal::SIGUSR2).expect("reload signal");
    eventually_named("the reload is done", WAIT, POLL, || {
        match successes(&proxy) {
            n if n > before => Ok(()),
            n => Err(format!("{n} Loading success. lines")),
        }
    });
    let new_worker = kind == switchyard_testkit::ProxyKind::Haproxy;
    let client = switchyard_ctl::runtime::Client::new(
        switchyard_ctl::Target::parse(&tcp).expect("target"),
        std::time::Duration::from_secs(5),
    );
    let both = format!("show info;show map {map}");
    let reply = eventually_named("the reloaded configuration answers", WAIT, POLL, || {
        let reply = client.send(&both).map_err(|e| e.to_string())?;
        match worker_pid(&reply) {
            Some(pid) if pid != old_pid || !new_worker => Ok(reply),
            other => Err(format!("worker pid {other:?}")),
        }
    });
    assert!(reply.contains(" active be_green"), "{reply}");
    assert!(reply.contains(" other keep-me"), "{reply}");
    eventually_named("traffic on green after reload", WAIT, POLL, || {
        let resp = switchyard_testkit::http_get(&url, &[]).map_err(|e| e.to_string())?;
        match resp.header("x-served-by") {
            Some("green") => Ok(()),
            other => Err(format!("served by {other:?}")),
        }
    });
}

#[test]
fn persist_problems_are_found_before_anything_changes() {
    let Some(kind) = proxy_kind() else { return };
    let lab = Lab::start(&kind, LabSpec::default());
    let (map, state, tcp) = (lab.map(), lab.state_file().display().to_string(), lab.tcp());
    let missing = lab
        .state_dir
        .path()
        .join("missing.map")
        .display()
        .to_string();
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
            "--no-drain",
            "--persist",
            "--map-file",
            &missing,
        ],
    );
    run.expect_code(8);
    assert!(run.stderr.contains("missing.map"), "{}", run.stderr);
    assert_eq!(lab.active(), ["be_blue"]);
}
