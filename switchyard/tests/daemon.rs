//! `-D -p pidfile`: the command returns once the background process serves;
//! the pidfile holds the serving pid; `-sf` tells old pids to finish.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use tk::{eventually, http_get, FakeUpstream};

fn config(port: u16, upstream: std::net::SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 {upstream}
"
    )
}

fn read_pid(path: &std::path::Path) -> i32 {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("pidfile {}: {e}", path.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("pidfile content {text:?}: {e}"))
}

#[test]
fn daemon_writes_the_serving_pid_and_stops_on_sigterm() {
    let up = FakeUpstream::start("up");
    let dir = tempdir();
    let port = tk::free_port();
    write(dir.path(), "haproxy.cfg", &config(port, up.addr()));
    let pidfile = dir.path().join("switchyard.pid");

    let out = Command::new(switchyard())
        .current_dir(dir.path())
        .args(["-D", "-p"])
        .arg(&pidfile)
        .args(["-f", "haproxy.cfg"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    // The pidfile is written before the foreground command returns.
    let pid = read_pid(&pidfile);
    let _guard = PidGuard(pid);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(alive(pid), "daemon {pid} is not running");

    let resp = http_get(&format!("http://127.0.0.1:{port}/"), &[])
        .unwrap_or_else(|e| panic!("request to the daemon: {e}"));
    assert_eq!(resp.status, 200);

    // Detached: its own session, not the test's.
    let sid = nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid)))
        .unwrap_or_else(|e| panic!("getsid: {e}"));
    assert_eq!(sid.as_raw(), pid, "the daemon leads its own session");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap_or_else(|e| panic!("kill: {e}"));
    eventually(Duration::from_secs(5), Duration::from_millis(20), || {
        !alive(pid)
    });
}

#[test]
fn daemon_start_failure_is_reported_by_the_foreground_command() {
    let dir = tempdir();
    write(dir.path(), "bad.cfg", "global\n    foo bar\n");
    let out = Command::new(switchyard())
        .current_dir(dir.path())
        .args(["-D", "-p", "x.pid", "-f", "bad.cfg"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.cfg:2"), "{stderr}");
    assert!(!dir.path().join("x.pid").exists());
}

#[test]
fn sf_soft_stops_the_old_process_once_the_new_one_is_bound() {
    let up = FakeUpstream::start("up");
    let dir = tempdir();
    let (old_port, new_port) = (tk::free_port(), tk::free_port());
    write(dir.path(), "old.cfg", &config(old_port, up.addr()));
    write(dir.path(), "new.cfg", &config(new_port, up.addr()));
    let mut old = tk::ChildGuard::spawn("old", {
        let mut c = Command::new(switchyard());
        c.current_dir(dir.path()).args(["-db", "-f", "old.cfg"]);
        c
    })
    .unwrap_or_else(|e| panic!("spawn old: {e}"));
    assert!(tk::wait_for_port(lo(old_port), STARTUP));

    let old_pid = old.pid().to_string();
    let _new = tk::ChildGuard::spawn("new", {
        let mut c = Command::new(switchyard());
        c.current_dir(dir.path())
            .args(["-db", "-f", "new.cfg", "-sf", &old_pid]);
        c
    })
    .unwrap_or_else(|e| panic!("spawn new: {e}"));
    assert!(tk::wait_for_port(lo(new_port), STARTUP));
    let status = old
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("the old process did not finish after -sf"));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn ws_notifies_systemd_when_ready() {
    let up = FakeUpstream::start("up");
    let dir = tempdir();
    let port = tk::free_port();
    write(dir.path(), "haproxy.cfg", &config(port, up.addr()));
    let sock_path = dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path)
        .unwrap_or_else(|e| panic!("bind notify socket: {e}"));
    sock.set_read_timeout(Some(STARTUP))
        .unwrap_or_else(|e| panic!("timeout: {e}"));
    let mut cmd = Command::new(switchyard());
    cmd.current_dir(dir.path())
        .env("NOTIFY_SOCKET", &sock_path)
        .args(["-Ws", "-f", "haproxy.cfg"]);
    let mut child = tk::ChildGuard::spawn("ws", cmd).unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut buf = [0u8; 256];
    let n = sock
        .recv(&mut buf)
        .unwrap_or_else(|e| panic!("no notification: {e}"));
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.contains("READY=1"), "{msg}");
    assert!(msg.contains(&format!("MAINPID={}", child.pid())), "{msg}");
    assert!(tk::can_connect(lo(port)), "ready means listening");
    child.wait_for_line("Loading success.", Duration::from_secs(5));
    child
        .signal(tk::Signal::SIGUSR1)
        .unwrap_or_else(|e| panic!("signal: {e}"));
    let n = sock
        .recv(&mut buf)
        .unwrap_or_else(|e| panic!("no stopping notification: {e}"));
    assert!(String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1"));
}

/// Effective uid/gid of `pid` from /proc.
fn ids(pid: u32) -> (u32, u32) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/status: {e}"));
    let field = |name: &str| -> u32 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in status"))
    };
    (field("Uid:"), field("Gid:"))
}

#[test]
fn drops_privileges_after_binding_a_privileged_port() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("drops_privileges_after_binding_a_privileged_port: skipped, not root");
        return;
    }
    let Some(nobody) = nix::unistd::User::from_name("nobody").ok().flatten() else {
        eprintln!("skipped: no user 'nobody'");
        return;
    };
    // A port only root may bind proves the bind happened before the drop.
    let Some(port) = (700u16..1000).find(|p| tk::port_is_free(*p)) else {
        eprintln!("skipped: no free privileged port");
        return;
    };
    let up = FakeUpstream::start("up");
    let dir = tempdir();
    let cfg = format!(
        "global\n    uid {}\n    gid {}\n{}",
        nobody.uid,
        nobody.gid,
        config(port, up.addr())
    );
    write(dir.path(), "haproxy.cfg", &cfg);
    let mut cmd = Command::new(switchyard());
    cmd.current_dir(dir.path())
        .args(["-db", "-f", "haproxy.cfg"]);
    let child = tk::ChildGuard::spawn("priv", cmd).unwrap_or_else(|e| panic!("spawn: {e}"));
    assert!(
        tk::wait_for_port(lo(port), STARTUP),
        "not listening on {port}"
    );
    let resp = http_get(&format!("http://127.0.0.1:{port}/"), &[])
        .unwrap_or_else(|e| panic!("request: {e}"));
    assert_eq!(resp.status, 200);
    assert_eq!(ids(child.pid()), (nobody.uid.as_raw(), nobody.gid.as_raw()));
}
