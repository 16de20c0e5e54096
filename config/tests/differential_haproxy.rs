//! Real HAProxy 2.6 must accept every good fixture and reject every bad one,
//! exactly as switchyard-config does. Skipped when `haproxy` is not
//! installed. Both run with the fixture directory as cwd (the fixtures use
//! `default-path config` and relative map paths).

mod common;

use common::cfg_files;
use std::process::Command;

fn haproxy_accepts(path: &std::path::Path) -> Option<bool> {
    let dir = path.parent()?;
    let out = Command::new("haproxy")
        .arg("-c")
        .arg("-q")
        .arg("-f")
        .arg(path.file_name()?)
        .current_dir(dir)
        .output()
        .ok()?;
    Some(out.status.success())
}

#[test]
fn haproxy_agrees_on_accept_and_reject() {
    if Command::new("haproxy").arg("-v").output().is_err() {
        eprintln!("haproxy not installed: skipping the differential check");
        return;
    }
    for (dir, want) in [("good", true), ("bad", false)] {
        for f in cfg_files(dir) {
            let ours = switchyard_config::load(std::slice::from_ref(&f)).is_ok();
            let theirs = haproxy_accepts(&f).expect("run haproxy");
            assert_eq!(ours, want, "switchyard on {}", f.display());
            assert_eq!(theirs, want, "haproxy on {}", f.display());
        }
    }
}
