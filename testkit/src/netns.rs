//! Running a driver script inside fresh Linux namespaces (network, mount, PID), so a seed's
//! config can be used unchanged: it may bind `*:80`, name `127.0.0.53:53`, `10.10.x.x` or
//! paths under `/home` and `/etc/haproxy`, and all of that exists only inside the
//! namespaces — nothing reaches a real network, nothing outside is written.
//!
//! The script runs as PID 1 of its PID namespace (`--fork --kill-child`): when it exits or
//! `unshare` is killed, the kernel kills every process it started.

use crate::{ChildGuard, Output};
use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// The `unshare` flags every namespaced run uses.
pub const UNSHARE_ARGS: &[&str] = &[
    "--net",
    "--mount",
    "--pid",
    "--fork",
    "--kill-child",
    "--mount-proc",
    "--propagation",
    "private",
];

/// Tools the seed drivers need, with the Debian package that provides each.
pub const DRIVER_TOOLS: &[(&str, &str)] = &[
    ("unshare", "util-linux"),
    ("ip", "iproute2"),
    ("socat", "socat"),
    ("hey", "hey"),
    ("curl", "curl"),
    ("column", "bsdextrautils"),
    ("python3", "python3"),
];

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why namespaced runs cannot work here (missing tool → package to install, not root,
/// namespaces refused), or `None` if they can.
pub fn namespaces_unavailable() -> Option<String> {
    let missing: Vec<String> = DRIVER_TOOLS
        .iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|(tool, pkg)| format!("{tool} (Debian package {pkg})"))
        .collect();
    if !missing.is_empty() {
        return Some(format!("missing tools: {}", missing.join(", ")));
    }
    if !nix::unistd::Uid::effective().is_root() {
        return Some("namespaced seed runs need root".into());
    }
    let probe = Command::new("unshare")
        .args(UNSHARE_ARGS)
        .args(["sh", "-c", "ip link set lo up && mount -t tmpfs tmpfs /mnt"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match probe {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "unshare {} failed: {}",
            UNSHARE_ARGS.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run unshare: {e}")),
    }
}

/// A finished namespaced run.
#[derive(Debug)]
pub struct NamespacedRun {
    /// `None` if it was killed after the timeout.
    pub status: Option<ExitStatus>,
    pub output: Arc<Output>,
    pub timed_out: bool,
}

impl NamespacedRun {
    pub fn success(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }

    /// Every captured line (stdout and stderr).
    pub fn lines(&self) -> Vec<String> {
        self.output.lines()
    }

    /// Lines `STEP <name>: FAIL …` printed by the drivers.
    pub fn failed_steps(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with("STEP ") && l.contains(": FAIL"))
            .collect()
    }

    /// True if the driver printed `STEP <name>: ok…`.
    pub fn step_ok(&self, name: &str) -> bool {
        let prefix = format!("STEP {name}: ok");
        self.lines().iter().any(|l| l.starts_with(&prefix))
    }

    /// The whole output, for assertion messages.
    pub fn transcript(&self) -> String {
        self.lines().join("\n")
    }
}

/// Runs `bash <script> <args>` as PID 1 of fresh network/mount/PID namespaces with the
/// given environment added, waiting up to `timeout` (then it is killed, with every
/// process it started). The output is captured (and echoed live with
/// `TESTKIT_ECHO_OUTPUT=1`).
pub fn run_in_namespaces(
    label: &str,
    script: &Path,
    args: &[&str],
    env: &[(&str, OsString)],
    timeout: Duration,
) -> io::Result<NamespacedRun> {
    let mut cmd = Command::new("unshare");
    cmd.args(UNSHARE_ARGS).arg("bash").arg(script).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = ChildGuard::spawn(label, cmd)?;
    let status = child.wait_exit(timeout);
    let timed_out = status.is_none();
    let status = match status {
        Some(s) => Some(s),
        None => child.kill(),
    };
    // Let the reader threads drain the pipes.
    child.output().wait_closed(Duration::from_secs(2));
    Ok(NamespacedRun {
        status: if timed_out { None } else { status },
        output: child.output(),
        timed_out,
    })
}
