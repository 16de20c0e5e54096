//! Server state across reloads, HAProxy's way: an operator's drain, maint
//! and weight are reset by a reload unless they were dumped with
//! `show servers state` into the `server-state-file` first, which the new
//! configuration then reads (`load-server-state-from-file global|local`).
//! Checked against the real haproxy when it is installed.

mod common;

use std::path::Path;
use std::time::Duration;

use common::life::{pid_in, reload, write_atomic};
use common::*;
use tk::{eventually, FakeUpstream, ProxyKind, Signal};

fn config(
    dir: &Path,
    port: u16,
    a: std::net::SocketAddr,
    b: std::net::SocketAddr,
    mode: &str,
) -> String {
    format!(
        "global
    stats socket {dir}/admin.sock mode 600 level admin
    server-state-file {dir}/global.state
    server-state-base {dir}

defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    load-server-state-from-file {mode}

frontend fe
    bind 127.0.0.1:{port}
    default_backend be

backend be
    server s1 {a}
    server s2 {b}

backend other
    load-server-state-from-file none
    server o1 {a}
",
        dir = dir.display()
    )
}

/// `(admin state, user weight)` of every server, from `show servers state`.
fn states(sock: &str) -> Vec<(String, String, String)> {
    servers_state_rows(&tk::cli(sock, "show servers state"))
        .into_iter()
        .map(|f| (format!("{}/{}", f[1], f[3]), f[6].clone(), f[7].clone()))
        .collect()
}

fn row(name: &str, admin: &str, weight: &str) -> (String, String, String) {
    (name.to_owned(), admin.to_owned(), weight.to_owned())
}

/// Run the operator's routine on `kind` with `mode` and return what the
/// servers look like after each step.
fn routine(kind: &ProxyKind, mode: &str) -> Vec<Vec<(String, String, String)>> {
    let (a, b) = (FakeUpstream::start("a"), FakeUpstream::start("b"));
    let dir = tempdir();
    let port = tk::free_port();
    write(
        dir.path(),
        "haproxy.cfg",
        &config(dir.path(), port, a.addr(), b.addr(), mode),
    );
    let mut cmd = std::process::Command::new(kind.binary());
    cmd.current_dir(dir.path())
        .args(["-W", "-f", "haproxy.cfg", "-p", "haproxy.pid"]);
    let proxy = tk::ChildGuard::spawn(kind.label(), cmd).unwrap_or_else(|e| panic!("spawn: {e}"));
    proxy.wait_for_line("Loading success.", STARTUP);
    let pid = pid_in(&dir.path().join("haproxy.pid"));
    let sock = dir.path().join("admin.sock").display().to_string();
    let reloaded = |what: &str| {
        let before = tk::try_cli(&sock, "show info").unwrap_or_default();
        assert!(reload(&proxy, pid, Signal::SIGUSR2), "{what}");
        // HAProxy answers from a new worker (a new `Pid`), switchyard from
        // the same process; either way wait for the new configuration.
        let old_pid = before
            .lines()
            .find(|l| l.starts_with("Pid: "))
            .map(str::to_owned);
        eventually(Duration::from_secs(10), Duration::from_millis(20), || {
            let now = tk::try_cli(&sock, "show info").unwrap_or_default();
            let pid = now
                .lines()
                .find(|l| l.starts_with("Pid: "))
                .map(str::to_owned);
            pid.is_some() && (*kind != ProxyKind::Haproxy || pid != old_pid)
        });
        // HAProxy's old worker may still answer on the socket until it
        // exits: wait for it, so later reads come from the new one.
        if *kind == ProxyKind::Haproxy {
            if let Some(old) = old_pid
                .as_deref()
                .and_then(|l| l.strip_prefix("Pid: "))
                .map(str::trim)
            {
                let proc_dir = std::path::PathBuf::from(format!("/proc/{old}"));
                eventually(Duration::from_secs(10), Duration::from_millis(20), || {
                    !proc_dir.exists()
                });
            }
        }
    };

    let mut seen = vec![states(&sock)];
    tk::cli(&sock, "set server be/s1 state drain");
    tk::cli(&sock, "set weight be/s2 50");
    tk::cli(&sock, "set server other/o1 state maint");
    seen.push(states(&sock));

    // Without a dump, a reload resets what the operator did.
    reloaded("plain reload");
    seen.push(states(&sock));

    // Dump, reload: it comes back (where the backend loads the file).
    tk::cli(&sock, "set server be/s1 state drain");
    tk::cli(&sock, "set weight be/s2 50");
    tk::cli(&sock, "set server other/o1 state maint");
    let dump = tk::cli(&sock, "show servers state");
    write_atomic(&dir.path().join("global.state"), &dump);
    let be_dump = tk::cli(&sock, "show servers state be");
    write_atomic(&dir.path().join("be"), &be_dump);
    reloaded("reload with the state file");
    seen.push(states(&sock));
    drop(proxy);
    seen
}

fn expected() -> Vec<Vec<(String, String, String)>> {
    let clean = vec![
        row("be/s1", "0", "1"),
        row("be/s2", "0", "1"),
        row("other/o1", "0", "1"),
    ];
    let touched = vec![
        row("be/s1", "8", "1"),
        row("be/s2", "0", "50"),
        row("other/o1", "1", "1"),
    ];
    let kept = vec![
        row("be/s1", "8", "1"),
        row("be/s2", "0", "50"),
        row("other/o1", "0", "1"),
    ];
    vec![clean.clone(), touched, clean, kept]
}

#[test]
fn drain_and_weight_survive_a_reload_through_the_global_state_file() {
    let ours = routine(&ProxyKind::Switchyard(switchyard()), "global");
    assert_eq!(ours, expected());
    if have_haproxy("drain_and_weight_survive_a_reload_through_the_global_state_file") {
        assert_eq!(ours, routine(&ProxyKind::Haproxy, "global"), "as HAProxy");
    }
}

#[test]
fn a_backend_can_read_its_own_state_file() {
    let ours = routine(&ProxyKind::Switchyard(switchyard()), "local");
    assert_eq!(ours, expected());
    if have_haproxy("a_backend_can_read_its_own_state_file") {
        assert_eq!(ours, routine(&ProxyKind::Haproxy, "local"), "as HAProxy");
    }
}

#[test]
fn an_upgraded_process_starts_from_the_state_file() {
    let (a, b) = (FakeUpstream::start("a"), FakeUpstream::start("b"));
    let dir = tempdir();
    let port = tk::free_port();
    write(
        dir.path(),
        "haproxy.cfg",
        &config(dir.path(), port, a.addr(), b.addr(), "global"),
    );
    let sock = dir.path().join("admin.sock").display().to_string();
    let old = common::life::spawn(dir.path(), "old", &["-db", "-f", "haproxy.cfg"]);
    assert!(tk::wait_for_port(lo(port), STARTUP));
    tk::cli(&sock, "set server be/s1 state maint");
    tk::cli(&sock, "set weight be/s2 7");
    let dump = tk::cli(&sock, "show servers state");
    write_atomic(&dir.path().join("global.state"), &dump);

    let old_pid = old.pid().to_string();
    let new = common::life::spawn(
        dir.path(),
        "new",
        &["-db", "-f", "haproxy.cfg", "-sf", &old_pid],
    );
    eventually(Duration::from_secs(10), Duration::from_millis(20), || {
        tk::try_cli(&sock, "show info").is_ok_and(|i| i.contains(&format!("Pid: {}", new.pid())))
    });
    let now = states(&sock);
    assert_eq!(now[0], row("be/s1", "1", "1"));
    assert_eq!(now[1], row("be/s2", "0", "7"));
    // Only s2 takes traffic.
    let url = format!("http://127.0.0.1:{port}/");
    for _ in 0..4 {
        assert_eq!(common::life::served_by(&url), "b");
    }
}

#[test]
fn a_broken_state_file_is_reported_and_ignored() {
    let (a, b) = (FakeUpstream::start("a"), FakeUpstream::start("b"));
    let dir = tempdir();
    let port = tk::free_port();
    write(
        dir.path(),
        "haproxy.cfg",
        &config(dir.path(), port, a.addr(), b.addr(), "global"),
    );
    write(
        dir.path(),
        "global.state",
        "1\n# header\n3 be 1 s1 127.0.0.1 2 9 1 1 0 6 3 4 6 0 0 0 - 80 -\n3 be 2 s2 127.0.0.1 2 8 1 1 0 6 3 4 6 0 0 0 - 80 -\n",
    );
    let out = run(dir.path(), &["-c", "-f", "haproxy.cfg"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout, "Warnings were found.\nConfiguration file is valid\n",
        "{}",
        out.stderr
    );
    if have_haproxy("a_broken_state_file_is_reported_and_ignored") {
        let theirs = check(
            Path::new(tk::HAPROXY_PATH),
            dir.path(),
            &["haproxy.cfg"],
            &[],
        );
        assert_eq!(out.stdout, theirs.stdout, "as HAProxy -c");
        assert!(
            theirs.stderr.contains(
                "server-state application failed for server 'be/s1', invalid srv_admin_state value '9'"
            ),
            "{}",
            theirs.stderr
        );
    }
    let proxy = common::life::spawn(dir.path(), "switchyard", &["-db", "-f", "haproxy.cfg"]);
    proxy.wait_for_line(
        "server-state application failed for server 'be/s1', invalid srv_admin_state value '9'",
        STARTUP,
    );
    let sock = dir.path().join("admin.sock").display().to_string();
    eventually(Duration::from_secs(10), Duration::from_millis(20), || {
        tk::try_cli(&sock, "show info").is_ok()
    });
    let now = states(&sock);
    assert_eq!(now[0], row("be/s1", "0", "1"), "bad line not applied");
    assert_eq!(now[1], row("be/s2", "8", "1"), "good line applied");
}
