//! Helpers for the lifecycle tests (reload, upgrade, soft stop): running
//! switchyard like an init script does (`-W -f cfg -p pidfile`), signalling
//! the pid in the pidfile, and waiting for the reload verdict.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use switchyard_testkit::{self as tk, ChildGuard};

/// How long a reload may take to report.
pub const RELOAD_WAIT: Duration = Duration::from_secs(20);

/// `switchyard <args>` in `dir`, output captured, stopped on drop.
pub fn spawn(dir: &Path, name: &str, args: &[&str]) -> ChildGuard {
    let mut cmd = Command::new(super::switchyard());
    cmd.current_dir(dir).args(args);
    ChildGuard::spawn(name, cmd).unwrap_or_else(|e| panic!("spawn {name}: {e}"))
}

/// The pid written in a pidfile.
pub fn pid_in(pidfile: &Path) -> i32 {
    let text = std::fs::read_to_string(pidfile)
        .unwrap_or_else(|e| panic!("pidfile {}: {e}", pidfile.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("pidfile content {text:?}: {e}"))
}

/// `kill -<sig> <pid>`.
pub fn send(pid: i32, sig: Signal) {
    kill(Pid::from_raw(pid), sig).unwrap_or_else(|e| panic!("kill -{sig} {pid}: {e}"));
}

/// Signal `pid` and wait for the reload's verdict in `child`'s output:
/// true for `Loading success.`, false for `Loading failure!`. Every earlier
/// verdict (the startup's `Loading success.` with `-W`) must already have
/// been seen, so it is not taken for this one. HAProxy's master ignores a
/// signal that arrives just after it printed `Loading success.` (its loop
/// is not ready yet), so the signal is sent again until `Reloading HAProxy`
/// shows it was taken.
#[track_caller]
pub fn reload(child: &ChildGuard, pid: i32, sig: Signal) -> bool {
    let count = |what: &str| child.lines().iter().filter(|l| l.contains(what)).count();
    let verdicts = |lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            .filter(|l| l.contains(": Loading "))
            .collect()
    };
    let before = verdicts(child.lines()).len();
    let reloads = count("Reloading HAProxy");
    let deadline = std::time::Instant::now() + RELOAD_WAIT;
    let mut resend = std::time::Instant::now();
    loop {
        if count("Reloading HAProxy") == reloads && std::time::Instant::now() >= resend {
            send(pid, sig);
            resend = std::time::Instant::now() + Duration::from_secs(1);
        }
        if let Some(v) = verdicts(child.lines()).get(before) {
            return v.contains("Loading success.");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no reload verdict within {RELOAD_WAIT:?}:\n{}",
            child.output().tail(40)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Which upstream answers a fresh request to `url`.
#[track_caller]
pub fn served_by(url: &str) -> String {
    let resp = tk::http_get(url, &[]).unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(resp.status, 200, "{resp:?}");
    resp.header("x-served-by").unwrap_or("<none>").to_owned()
}

/// Write `text` to `path` atomically (as an editor or config management
/// would: a reload never reads half a file).
pub fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    std::fs::rename(&tmp, path).unwrap_or_else(|e| panic!("rename {}: {e}", path.display()));
}

/// A temp dir that outlives the processes started in it.
pub struct Dir(pub tempfile::TempDir);

impl Dir {
    pub fn new() -> Dir {
        Dir(super::tempdir())
    }
    pub fn path(&self) -> &Path {
        self.0.path()
    }
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// The load generator's summary must show no failure at all.
#[track_caller]
pub fn assert_no_failures(summary: &tk::HeySummary, at_least: u64) {
    summary.assert_no_failures();
    assert!(
        summary.total_requests >= at_least,
        "only {} requests were sent:\n{}",
        summary.total_requests,
        summary.raw
    );
}

/// The inode of the socket listening on `port` (from /proc/net/tcp): the
/// same inode before and after a reload means the socket was kept.
pub fn listen_inode(port: u16) -> Option<u64> {
    let want = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            text.lines().skip(1).find_map(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                // local_address, state 0A = LISTEN, inode.
                (f.len() > 9 && f[1].ends_with(&want) && f[3] == "0A")
                    .then(|| f[9].parse().ok())
                    .flatten()
            })
        })
}

/// How many connections wait in the accept queue of the one socket
/// listening on `port` (`rx_queue` of its LISTEN line in /proc/net/tcp);
/// `None` unless exactly one socket listens there.
pub fn accept_queue(port: u16) -> Option<u32> {
    let want = format!(":{port:04X}");
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address, state 0A = LISTEN, tx_queue:rx_queue.
            if f.len() > 9 && f[1].ends_with(&want) && f[3] == "0A" {
                let rx = f[4].split(':').nth(1)?;
                found.push(u32::from_str_radix(rx, 16).ok()?);
            }
        }
    }
    match found[..] {
        [n] => Some(n),
        _ => None,
    }
}
