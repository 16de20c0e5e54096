//! In-process reload, as `haproxy -W -f haproxy.cfg -p haproxy.pid` users
//! drive it (seed 002: edit `default_backend`, reload): SIGUSR2 to the pid
//! in the pidfile re-reads the config and the map files and switches
//! traffic without a failed request; a broken config keeps the old one
//! serving and says why with file:line; listeners whose address is
//! unchanged keep their socket.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::life::{self, listen_inode, pid_in, reload, served_by, write_atomic};
use common::*;
use tk::{eventually, BackgroundHey, FakeUpstream, Signal};

/// Seed 002's config: `http_back` is blue, `http_back_green` is green.
fn seed002(port: u16, default: &str, blue: SocketAddr, green: SocketAddr) -> String {
    format!(
        "global
    stats socket @DIR@/admin.sock mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s

frontend http_front
    bind 127.0.0.1:{port}
    default_backend {default}

backend http_back
    balance roundrobin
    server blue1 {blue} check inter 1s

backend http_back_green
    balance roundrobin
    server green1 {green} check inter 1s
"
    )
}

struct Lab {
    dir: tempfile::TempDir,
    blue: FakeUpstream,
    green: FakeUpstream,
    port: u16,
    proxy: tk::ChildGuard,
    pid: i32,
}

impl Lab {
    fn start(extra_args: &[&str]) -> Lab {
        let (blue, green) = (FakeUpstream::start("blue"), FakeUpstream::start("green"));
        let dir = tempdir();
        let port = tk::free_port();
        let lab_cfg = |default: &str| {
            seed002(port, default, blue.addr(), green.addr())
                .replace("@DIR@", &dir.path().display().to_string())
        };
        write(dir.path(), "haproxy.cfg", &lab_cfg("http_back"));
        let mut args = vec!["-W", "-f", "haproxy.cfg", "-p", "haproxy.pid"];
        args.extend_from_slice(extra_args);
        let proxy = life::spawn(dir.path(), "switchyard", &args);
        proxy.wait_for_line("Loading success.", STARTUP);
        assert!(tk::wait_for_port(lo(port), STARTUP));
        let pid = pid_in(&dir.path().join("haproxy.pid"));
        assert_eq!(
            pid,
            proxy.pid() as i32,
            "the pidfile names the serving process"
        );
        Lab {
            dir,
            blue,
            green,
            port,
            proxy,
            pid,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn cfg(&self, default: &str) -> String {
        seed002(self.port, default, self.blue.addr(), self.green.addr())
            .replace("@DIR@", &self.dir.path().display().to_string())
    }

    fn write_cfg(&self, text: &str) {
        write_atomic(&self.dir.path().join("haproxy.cfg"), text);
    }

    fn upstream(&self, name: &str) -> &FakeUpstream {
        if name == "blue" {
            &self.blue
        } else {
            &self.green
        }
    }
}

/// hey with keep-alive connections, `-c 100`, until stopped.
fn load(url: &str) -> BackgroundHey {
    BackgroundHey::start(&["-z", "120s", "-c", "100", url]).unwrap_or_else(|e| panic!("hey: {e}"))
}

#[test]
fn twenty_reloads_under_load_follow_the_config_without_a_failed_request() {
    let lab = Lab::start(&[]);
    let hey = load(&lab.url());
    eventually(Duration::from_secs(20), Duration::from_millis(20), || {
        lab.blue.requests() > 200
    });

    for i in 0..20 {
        let (backend, colour, other) = if i % 2 == 0 {
            ("http_back_green", "green", "blue")
        } else {
            ("http_back", "blue", "green")
        };
        lab.write_cfg(&lab.cfg(backend));
        assert!(
            reload(&lab.proxy, lab.pid, Signal::SIGUSR2),
            "reload {i} failed"
        );
        // The next request comes from the new colour...
        assert_eq!(served_by(&lab.url()), colour, "after reload {i}");
        // ...and so does the load, on its existing keep-alive connections:
        // once the new colour has taken a few hundred requests, the old one
        // takes no more.
        let (new, old) = (lab.upstream(colour), lab.upstream(other));
        let start = new.requests();
        eventually(Duration::from_secs(20), Duration::from_millis(5), || {
            new.requests() > start + 100
        });
        let old_count = old.requests();
        let mid = new.requests();
        eventually(Duration::from_secs(20), Duration::from_millis(5), || {
            new.requests() > mid + 300
        });
        assert_eq!(
            old.requests(),
            old_count,
            "reload {i}: {other} still got requests after the switch to {colour}"
        );
    }

    let summary = hey.finish(Duration::ZERO);
    eprintln!(
        "20 reloads: {} requests, blue {}, green {}",
        summary.total_requests,
        lab.blue.requests(),
        lab.green.requests()
    );
    life::assert_no_failures(&summary, 1000);
    assert!(lab.proxy.lines().iter().all(|l| !l.contains("[ALERT]")));
}

#[test]
fn a_broken_config_keeps_the_old_one_serving_and_says_where() {
    let lab = Lab::start(&[]);
    let hey = load(&lab.url());
    eventually(Duration::from_secs(20), Duration::from_millis(20), || {
        lab.blue.requests() > 200
    });

    // Switch to green, with a typo on line 13 and an unknown backend.
    let broken = lab.cfg("http_back_green").replace(
        "    default_backend http_back_green\n",
        "    default_backend http_back_green\n    bogus keyword\n",
    );
    assert_eq!(broken.lines().nth(12), Some("    bogus keyword"));
    lab.write_cfg(&broken);
    let before = lab.proxy.line_count();
    assert!(!reload(&lab.proxy, lab.pid, Signal::SIGUSR2));
    let said: Vec<String> = lab.proxy.lines()[before..].to_vec();
    let text = said.join("\n");
    assert!(
        text.contains("[ALERT]")
            && text.contains(
                "parsing [haproxy.cfg:13] : unknown keyword 'bogus' in 'frontend' section"
            ),
        "{text}"
    );
    assert!(
        text.contains("Fatal errors found in configuration."),
        "{text}"
    );
    assert!(
        text.contains("[WARNING]") && text.contains("Loading failure!"),
        "{text}"
    );
    assert_eq!(
        served_by(&lab.url()),
        "blue",
        "the old config keeps serving"
    );

    // A config that parses but cannot be built fails the same way.
    lab.write_cfg(&lab.cfg("no_such_backend"));
    assert!(!reload(&lab.proxy, lab.pid, Signal::SIGHUP));
    assert_eq!(served_by(&lab.url()), "blue");

    // Fixed: SIGHUP reloads too.
    lab.write_cfg(&lab.cfg("http_back_green"));
    assert!(reload(&lab.proxy, lab.pid, Signal::SIGHUP));
    assert_eq!(served_by(&lab.url()), "green");

    let summary = hey.finish(Duration::ZERO);
    life::assert_no_failures(&summary, 500);
}

#[test]
fn a_reload_reads_the_map_files_again() {
    // Seed 004: `set map` changes memory only; a reload reads the file.
    let (blue, green) = (FakeUpstream::start("blue"), FakeUpstream::start("green"));
    let dir = tempdir();
    let port = tk::free_port();
    let sock = dir.path().join("admin.sock").display().to_string();
    let map = dir.path().join("bluegreen.map");
    std::fs::write(&map, "active be_blue\n").unwrap_or_else(|e| panic!("map: {e}"));
    let cfg = format!(
        "global
    stats socket {sock} mode 600 level admin
{DEFAULTS}frontend fe_http
    bind 127.0.0.1:{port}
    use_backend %[str(active),map({map},be_blue)]
backend be_blue
    server blue1 {blue}
backend be_green
    server green1 {green}
",
        map = map.display(),
        blue = blue.addr(),
        green = green.addr()
    );
    write(dir.path(), "haproxy.cfg", &cfg);
    let proxy = life::spawn(
        dir.path(),
        "switchyard",
        &["-W", "-f", "haproxy.cfg", "-p", "haproxy.pid"],
    );
    proxy.wait_for_line("Loading success.", STARTUP);
    let pid = pid_in(&dir.path().join("haproxy.pid"));
    let url = format!("http://127.0.0.1:{port}/");
    assert_eq!(served_by(&url), "blue");

    tk::cli(&sock, &format!("set map {} active be_green", map.display()));
    assert_eq!(served_by(&url), "green");
    // The file still says blue: the reload is a rollback.
    assert!(reload(&proxy, pid, Signal::SIGUSR2));
    assert_eq!(served_by(&url), "blue");
    // Persisted on disk: the reload keeps green.
    write_atomic(&map, "active be_green\n");
    assert!(reload(&proxy, pid, Signal::SIGUSR2));
    assert_eq!(served_by(&url), "green");
    let shown = tk::cli(&sock, &format!("show map {}", map.display()));
    assert!(shown.contains(" active be_green"), "{shown}");
}

#[test]
fn listeners_with_the_same_address_keep_their_socket() {
    let lab = Lab::start(&[]);
    let inode = listen_inode(lab.port).unwrap_or_else(|| panic!("no listener on {}", lab.port));
    // A connection accepted before the reload keeps working after it.
    let mut kept = tk::KeepAliveClient::connect(&format!("127.0.0.1:{}", lab.port))
        .unwrap_or_else(|e| panic!("connect: {e}"));
    assert_eq!(kept.get("/").map(|r| r.status).ok(), Some(200));

    // Add a second bind, then remove it again.
    let extra = tk::free_port();
    let two = lab.cfg("http_back").replace(
        &format!("    bind 127.0.0.1:{}\n", lab.port),
        &format!(
            "    bind 127.0.0.1:{}\n    bind 127.0.0.1:{extra}\n",
            lab.port
        ),
    );
    lab.write_cfg(&two);
    assert!(reload(&lab.proxy, lab.pid, Signal::SIGUSR2));
    assert_eq!(
        listen_inode(lab.port),
        Some(inode),
        "the socket was reopened"
    );
    assert_eq!(served_by(&format!("http://127.0.0.1:{extra}/")), "blue");
    let extra_inode = listen_inode(extra);
    assert!(extra_inode.is_some());

    // A request arriving on the extra port before it is removed finishes.
    let mut on_extra = tk::KeepAliveClient::connect(&format!("127.0.0.1:{extra}"))
        .unwrap_or_else(|e| panic!("connect: {e}"));
    lab.write_cfg(&lab.cfg("http_back"));
    assert!(reload(&lab.proxy, lab.pid, Signal::SIGUSR2));
    eventually(Duration::from_secs(5), Duration::from_millis(10), || {
        !tk::can_connect(lo(extra))
    });
    assert_eq!(listen_inode(extra), None);
    assert_eq!(on_extra.get("/").map(|r| r.status).ok(), Some(200));
    assert_eq!(listen_inode(lab.port), Some(inode));
    assert_eq!(kept.get("/").map(|r| r.status).ok(), Some(200));
}

#[test]
fn ws_tells_systemd_about_each_reload() {
    let dir = tempdir();
    let sock_path = dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path)
        .unwrap_or_else(|e| panic!("bind notify socket: {e}"));
    sock.set_read_timeout(Some(STARTUP))
        .unwrap_or_else(|e| panic!("timeout: {e}"));
    let next = || -> String {
        let mut buf = [0u8; 512];
        let n = sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no notification: {e}"));
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let up = FakeUpstream::start("blue");
    let port = tk::free_port();
    let cfg = |default: &str| {
        format!(
            "{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend {default}\nbackend be\n    server s1 {}\n",
            up.addr()
        )
    };
    write(dir.path(), "haproxy.cfg", &cfg("be"));
    let mut cmd = std::process::Command::new(switchyard());
    cmd.current_dir(dir.path())
        .env("NOTIFY_SOCKET", &sock_path)
        .args(["-Ws", "-f", "haproxy.cfg", "-p", "haproxy.pid"]);
    let proxy = tk::ChildGuard::spawn("ws", cmd).unwrap_or_else(|e| panic!("spawn: {e}"));
    let msg = next();
    assert!(msg.starts_with("READY=1\n"), "{msg}");
    proxy.wait_for_line("Loading success.", STARTUP);
    let pid = pid_in(&dir.path().join("haproxy.pid"));

    assert!(reload(&proxy, pid, Signal::SIGUSR2));
    let msg = next();
    assert!(
        msg.starts_with("RELOADING=1\n") && msg.contains("MONOTONIC_USEC="),
        "{msg}"
    );
    let msg = next();
    assert!(
        msg.starts_with("READY=1\n") && msg.contains("STATUS=Ready."),
        "{msg}"
    );

    write_atomic(&dir.path().join("haproxy.cfg"), &cfg("missing"));
    assert!(!reload(&proxy, pid, Signal::SIGUSR2));
    assert!(next().starts_with("RELOADING=1\n"));
    let msg = next();
    assert!(
        msg.starts_with("READY=1\n") && msg.contains("Reload failed"),
        "{msg}"
    );
}

#[test]
fn stats_sockets_follow_the_reloaded_config() {
    // Seed 004, step 6: the runtime socket appears with a reload.
    let up = FakeUpstream::start("blue");
    let dir = tempdir();
    let (port, stats_port) = (tk::free_port(), tk::free_port());
    let sock = dir.path().join("admin.sock").display().to_string();
    let cfg = |global: &str| {
        format!(
            "global\n{global}{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n    server s1 {}\n",
            up.addr()
        )
    };
    write(dir.path(), "haproxy.cfg", &cfg(""));
    let proxy = life::spawn(
        dir.path(),
        "switchyard",
        &["-W", "-f", "haproxy.cfg", "-p", "haproxy.pid"],
    );
    proxy.wait_for_line("Loading success.", STARTUP);
    let pid = pid_in(&dir.path().join("haproxy.pid"));
    let cfg_path = dir.path().join("haproxy.cfg");
    let tcp = format!("127.0.0.1:{stats_port}");

    write_atomic(
        &cfg_path,
        &cfg(&format!(
            "    stats socket {sock} mode 660 level admin\n    stats socket ipv4@{tcp} level admin\n"
        )),
    );
    assert!(reload(&proxy, pid, Signal::SIGUSR2));
    assert!(tk::cli(&sock, "show info").contains("Name: HAProxy"));
    assert!(tk::cli(&tcp, "show info").contains("Name: HAProxy"));
    let tcp_inode = listen_inode(stats_port);
    assert!(tcp_inode.is_some());

    // The unix socket goes; the TCP one stays (same socket) at a lower level.
    write_atomic(
        &cfg_path,
        &cfg(&format!("    stats socket ipv4@{tcp} level operator\n")),
    );
    assert!(reload(&proxy, pid, Signal::SIGUSR2));
    assert_eq!(
        listen_inode(stats_port),
        tcp_inode,
        "the stats socket was reopened"
    );
    assert_eq!(
        tk::cli(&tcp, "set server be/s1 state drain").trim(),
        "Permission denied"
    );
    assert!(
        tk::try_cli(&sock, "show info").is_err(),
        "the unix socket is gone"
    );

    // A stats socket that cannot be bound fails the reload, nothing changes.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let busy_port = busy.local_addr().map(|a| a.port()).unwrap_or(0);
    write_atomic(
        &cfg_path,
        &cfg(&format!(
            "    stats socket ipv4@{tcp} level admin\n    stats socket ipv4@127.0.0.1:{busy_port} level admin\n"
        )),
    );
    assert!(!reload(&proxy, pid, Signal::SIGUSR2));
    assert_eq!(
        tk::cli(&tcp, "set server be/s1 state drain").trim(),
        "Permission denied",
        "the old level is still in force"
    );
}
