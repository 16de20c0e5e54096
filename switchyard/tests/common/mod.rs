//! Helpers shared by the binary's integration tests: run `switchyard` (and
//! the real `haproxy`) as processes, in a temp dir, on config text.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

pub use switchyard_testkit as tk;

pub mod cases;
pub mod life;

pub const STARTUP: Duration = Duration::from_secs(20);

/// The binary under test.
pub fn switchyard() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_switchyard"))
}

/// The workspace root (parent of this crate).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// True if the real haproxy is installed; otherwise says why a test is skipped.
pub fn have_haproxy(test: &str) -> bool {
    let ok = tk::haproxy_available();
    if !ok {
        eprintln!("{test}: skipped, {} not installed", tk::HAPROXY_PATH);
    }
    ok
}

/// The result of one `-c` run.
#[derive(Debug)]
pub struct CheckRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CheckRun {
    fn from(out: Output) -> CheckRun {
        CheckRun {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// No panic: not Rust's panic exit code, no panic message.
    pub fn assert_no_panic(&self, what: &str) {
        assert_ne!(
            self.code,
            Some(101),
            "{what}: exit 101 (panic)\n{}",
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "{what}: panicked\n{}",
            self.stderr
        );
        assert!(
            self.code.is_some(),
            "{what}: killed by a signal\n{}",
            self.stderr
        );
    }
}

/// `<binary> -c <args...> -f <file>...` run in `dir`.
pub fn check(binary: &Path, dir: &Path, files: &[&str], extra: &[&str]) -> CheckRun {
    let mut cmd = Command::new(binary);
    cmd.current_dir(dir).arg("-c").args(extra);
    for f in files {
        cmd.arg("-f").arg(f);
    }
    match cmd.output() {
        Ok(out) => CheckRun::from(out),
        Err(e) => panic!("cannot run {}: {e}", binary.display()),
    }
}

/// Run `switchyard` with arbitrary arguments in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> CheckRun {
    match Command::new(switchyard())
        .current_dir(dir)
        .args(args)
        .output()
    {
        Ok(out) => CheckRun::from(out),
        Err(e) => panic!("cannot run switchyard: {e}"),
    }
}

/// A fresh temp dir.
pub fn tempdir() -> tempfile::TempDir {
    match tempfile::Builder::new()
        .prefix("switchyard-bin-test-")
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    }
}

/// Write `text` to `dir/name`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Err(e) = std::fs::write(&p, text) {
        panic!("write {}: {e}", p.display());
    }
    p
}

/// The `file:line` locations named in HAProxy-style alerts
/// (`parsing [f:2]`, `Parsing [f:2]:`, `[f:2] :`).
pub fn alert_locations(stderr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in stderr.lines().filter(|l| l.contains("[ALERT]")) {
        let mut rest = line;
        while let Some(i) = rest.find('[') {
            rest = &rest[i + 1..];
            if let Some(j) = rest.find(']') {
                let inner = &rest[..j];
                if let Some((f, l)) = inner.rsplit_once(':') {
                    if !f.is_empty() && !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()) {
                        out.push(inner.to_owned());
                    }
                }
            }
        }
    }
    out
}

/// Common `defaults` so configs do not trip "missing timeouts" warnings.
pub const DEFAULTS: &str = "defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
";

/// A `global` section with an admin socket in the proxy's directory, then
/// `DEFAULTS`, then frontend `fe` on `port` sending everything to `backend`.
pub fn admin_frontend(port: u16, backend: &str) -> String {
    format!(
        "global
    stats socket @DIR@/admin.sock level admin
{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend {backend}
"
    )
}

/// The server lines of a `show servers state` reply, split into their
/// fields (the version line and the column header skipped).
pub fn servers_state_rows(reply: &str) -> Vec<Vec<String>> {
    reply
        .lines()
        .skip(2)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect()
}

/// A kill-by-pid guard for processes the test did not spawn itself (a
/// daemon): SIGKILL on drop if still alive.
pub struct PidGuard(pub i32);

impl Drop for PidGuard {
    fn drop(&mut self) {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        if self.0 > 0 {
            let _ = kill(Pid::from_raw(self.0), Signal::SIGKILL);
        }
    }
}

/// Whether `pid` is running (a zombie waiting to be reaped does not count).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// `127.0.0.1:port`.
pub fn lo(port: u16) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], port))
}
