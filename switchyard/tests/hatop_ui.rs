//! hatop (Debian's ncurses client for the stats socket) attached to
//! switchyard's unix stats socket inside a private tmux server: it must
//! show every proxy, server and state as it does against HAProxy, its
//! TRAFFIC/HTTP/ERRORS views must work, and a command typed in its CLI
//! view must reach switchyard. With the real HAProxy installed, the STATUS
//! view's name/weight/status/check columns must be identical.
//!
//! Needs `hatop` and `tmux`; skipped with a message when either is absent.

mod stats_page_lab;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use stats_page_lab::{artifact_dir, have_haproxy, switchyard_kind, Lab, Upstreams};
use switchyard_testkit as tk;
use tk::ProxyKind;

const HATOP: &str = "/usr/bin/hatop";
const TMUX: &str = "/usr/bin/tmux";

/// A private tmux server (its own socket) running hatop in one pane;
/// stopped by its pid on drop.
struct HatopPane {
    socket: PathBuf,
    server_pid: Option<i32>,
    _dir: tempfile::TempDir,
}

fn tmux(socket: &Path, args: &[&str]) -> Output {
    let out = Command::new(TMUX)
        .arg("-S")
        .arg(socket)
        .args(["-f", "/dev/null"])
        .args(args)
        .env_remove("TMUX")
        .env("TERM", "xterm")
        .output();
    match out {
        Ok(o) => o,
        Err(e) => panic!("tmux {args:?}: {e}"),
    }
}

impl HatopPane {
    fn start(stats_socket: &Path) -> HatopPane {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let socket = dir.path().join("tmux.sock");
        let cmd = format!("{HATOP} -s {}", stats_socket.display());
        let out = tmux(
            &socket,
            &[
                "new-session",
                "-d",
                "-s",
                "hatop",
                "-x",
                "200",
                "-y",
                "50",
                &cmd,
            ],
        );
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pid = tmux(&socket, &["display-message", "-p", "#{pid}"]);
        let server_pid = String::from_utf8_lossy(&pid.stdout).trim().parse().ok();
        HatopPane {
            socket,
            server_pid,
            _dir: dir,
        }
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&tmux(&self.socket, &["capture-pane", "-p", "-t", "hatop"]).stdout)
            .into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "hatop"];
        args.extend_from_slice(keys);
        tmux(&self.socket, &args);
    }

    /// Wait until the pane shows every `needle`; the capture.
    #[track_caller]
    fn wait_for(&self, what: &str, needles: &[&str]) -> String {
        tk::eventually_named(
            what,
            Duration::from_secs(20),
            Duration::from_millis(100),
            || {
                let pane = self.capture();
                match needles.iter().find(|n| !pane.contains(**n)) {
                    None => Ok(pane),
                    Some(n) => Err(format!("missing {n:?} in:\n{pane}")),
                }
            },
        )
    }
}

impl Drop for HatopPane {
    fn drop(&mut self) {
        let _ = tmux(&self.socket, &["kill-server"]);
        if let Some(pid) = self.server_pid {
            // Gone already after kill-server; ESRCH is fine.
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// The body line of `name` under the `>>> proxy` heading.
fn row<'a>(pane: &'a str, proxy: &str, name: &str) -> Option<&'a str> {
    pane.lines()
        .skip_while(|l| l.trim() != format!(">>> {proxy}"))
        .skip(1)
        .take_while(|l| !l.starts_with(">>>"))
        .find(|l| l.split_whitespace().next() == Some(name))
}

/// `NAME W STATUS CHECK` of one row: its fields up to the ACT column.
fn status_cols<'a>(pane: &'a str, header_end: usize, proxy: &str, name: &str) -> &'a str {
    let line = row(pane, proxy, name).unwrap_or("");
    line.get(..header_end.min(line.len()))
        .unwrap_or(line)
        .trim_end()
}

fn act_column(pane: &str) -> usize {
    pane.lines()
        .find(|l| l.starts_with("NAME"))
        .and_then(|l| l.find("ACT"))
        .unwrap_or(60)
}

const ROWS: [(&str, &str, &str, &str); 8] = [
    ("igw", "FRONTEND", "OPEN", ""),
    ("blue", "blue1", "UP", "L7OK"),
    ("blue", "blue2", "DRAIN", "L7OK"),
    ("blue", "BACKEND", "UP", ""),
    ("green", "green1", "MAINT", ""),
    ("green", "green2", "DOWN", "L4CON"),
    ("green", "BACKEND", "DOWN", ""),
    ("DEFAULT", "BACKEND", "UP", ""),
];

#[test]
fn hatop_shows_switchyard_like_haproxy() {
    for bin in [HATOP, TMUX] {
        if !Path::new(bin).is_file() {
            eprintln!("hatop_shows_switchyard_like_haproxy: {bin} not found, test skipped");
            return;
        }
    }
    let up = Upstreams::start();
    let ours = Lab::start(&switchyard_kind(), &up);
    ours.traffic();
    let pane = HatopPane::start(&ours.sock());
    let status = pane.wait_for(
        "hatop STATUS view",
        &[
            "HAProxy Version: 2.6.12",
            ">>> igw",
            ">>> blue",
            ">>> green",
            ">>> DEFAULT",
            "L4CON",
        ],
    );
    let _ = std::fs::write(artifact_dir().join("hatop-switchyard.txt"), &status);
    eprintln!("hatop capture:\n{status}");
    assert!(status.contains("Connections: ["), "{status}");
    for (px, name, st, check) in ROWS {
        let line =
            row(&status, px, name).unwrap_or_else(|| panic!("no {px}/{name} row:\n{status}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols.get(2).copied(), Some(st), "{px}/{name}: {line}");
        if !check.is_empty() {
            assert_eq!(cols.get(3).copied(), Some(check), "{px}/{name}: {line}");
        }
    }

    // The other views read the same `show stat` columns.
    pane.keys(&["2"]);
    pane.wait_for("TRAFFIC view", &["LBTOT", "BOUT"]);
    pane.keys(&["3"]);
    pane.wait_for("HTTP view", &["RTOT", "2xx"]);
    pane.keys(&["4"]);
    pane.wait_for("ERRORS view", &["ECONN", "DRSP"]);
    // Its CLI view talks to the same socket.
    pane.keys(&["5"]);
    pane.wait_for("CLI view", &["embedded interactive HAProxy shell"]);
    pane.keys(&["set server blue/blue2 state ready", "Enter"]);
    ours.wait_statuses(&[("blue", "blue2", "UP")]);
    pane.keys(&["get weight blue/blue1", "Enter"]);
    pane.wait_for("CLI reply", &["1 (initial 1)"]);
    drop(pane);

    if !have_haproxy("hatop_shows_switchyard_like_haproxy") {
        return;
    }
    ours.cmd("set server blue/blue2 state drain");
    ours.wait_statuses(&[("blue", "blue2", "DRAIN")]);
    let hap = Lab::start(&ProxyKind::Haproxy, &up);
    hap.traffic();
    let (a, b) = (
        HatopPane::start(&ours.sock()),
        HatopPane::start(&hap.sock()),
    );
    let needles = [">>> DEFAULT", "L4CON", "DRAIN", "MAINT"];
    let (sa, sb) = (
        a.wait_for("switchyard", &needles),
        b.wait_for("haproxy", &needles),
    );
    let _ = std::fs::write(artifact_dir().join("hatop-haproxy.txt"), &sb);
    let (ca, cb) = (act_column(&sa), act_column(&sb));
    assert_eq!(ca, cb, "column layout");
    for (px, name, _, _) in ROWS {
        assert_eq!(
            status_cols(&sa, ca, px, name),
            status_cols(&sb, cb, px, name),
            "{px}/{name} in hatop"
        );
    }
}
