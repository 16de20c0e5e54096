//! Test harness for `switchyard-ctl`: a real proxy (HAProxy 2.6 by default, switchyard
//! when `SWITCHYARD_BIN` points at its binary) in front of fake blue/green upstreams,
//! with its Runtime API on TCP and on a UNIX socket, and the `switchyard-ctl` binary run
//! as a process.
//!
//! Environment:
//! - `SWITCHYARD_BIN=/path/to/switchyard`: run switchyard (same config, same flags)
//!   instead of HAProxy.

#![allow(dead_code)] // each test file uses a different part of the harness

pub mod relay;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use switchyard_ctl::runtime::Client;
use switchyard_ctl::Target;
use switchyard_testkit::{
    eventually_named, free_port, http_get, loopback, Behavior, FakeUpstream, Proxy, ProxyKind,
};

pub const MAP_NAME: &str = "release.map";
pub const MAP_TEXT: &str = "# release map: key -> backend\nactive be_blue\n\nother keep-me\n";
pub const WAIT: Duration = Duration::from_secs(20);
pub const POLL: Duration = Duration::from_millis(50);

/// The proxy binary under test, or `None` (test skipped) when HAProxy is not installed.
pub fn proxy_kind() -> Option<ProxyKind> {
    if let Some(bin) = std::env::var_os("SWITCHYARD_BIN").filter(|v| !v.is_empty()) {
        return Some(ProxyKind::Switchyard(PathBuf::from(bin)));
    }
    if !switchyard_testkit::haproxy_available() {
        eprintln!(
            "skipped: {} is not installed",
            switchyard_testkit::HAPROXY_PATH
        );
        return None;
    }
    Some(ProxyKind::Haproxy)
}

/// Options for one [`Lab`].
#[derive(Clone)]
pub struct LabSpec {
    pub green_healthy: bool,
    pub green_behavior: Behavior,
    pub blue_behavior: Behavior,
    /// An extra green server that never answers (so `show stat` has a DOWN row).
    pub dead_green: bool,
    /// Extra arguments after `-f cfg -db` (e.g. `-W`).
    pub args: Vec<String>,
    /// A map file outside the proxy's directory (several proxies can share one path,
    /// as a fleet shares `/etc/haproxy/maps/…`); the test writes it.
    pub shared_map: Option<PathBuf>,
}

impl Default for LabSpec {
    fn default() -> Self {
        LabSpec {
            green_healthy: true,
            green_behavior: Behavior::Echo,
            blue_behavior: Behavior::Echo,
            dead_green: false,
            args: Vec::new(),
            shared_map: None,
        }
    }
}

/// One proxy with a blue and a green backend routed by `release.map`.
pub struct Lab {
    pub proxy: Proxy,
    pub blue: FakeUpstream,
    pub green: FakeUpstream,
    pub stats_port: u16,
    pub fe_port: u16,
    /// Holds the ctl state files of this lab.
    pub state_dir: tempfile::TempDir,
    map_path: PathBuf,
}

impl Lab {
    pub fn start(kind: &ProxyKind, spec: LabSpec) -> Lab {
        let blue = FakeUpstream::builder("blue")
            .behavior(spec.blue_behavior.clone())
            .start()
            .expect("blue upstream");
        let green = FakeUpstream::builder("green")
            .behavior(spec.green_behavior.clone())
            .healthy(spec.green_healthy)
            .start()
            .expect("green upstream");
        let (stats_port, fe_port) = (free_port(), free_port());
        let dead = if spec.dead_green {
            format!(
                "    server green9 127.0.0.1:{} check\n",
                free_port() // nothing listens there
            )
        } else {
            String::new()
        };
        let config = format!(
            "global
    stats socket ipv4@127.0.0.1:{stats_port} level admin
    stats socket @DIR@/admin.sock mode 600 level admin
    stats timeout 10s

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    default-server inter 200ms fall 1 rise 1

frontend fe
    bind 127.0.0.1:{fe_port}
    use_backend %[str(active),map(@DIR@/{MAP_NAME},be_blue)]

backend be_blue
    option httpchk GET /health
    server blue1 127.0.0.1:{blue} check

backend be_green
    option httpchk GET /health
    server green1 127.0.0.1:{green} check
{dead}",
            blue = blue.port(),
            green = green.port(),
        );
        let args: Vec<&str> = spec.args.iter().map(String::as_str).collect();
        let mut builder = Proxy::builder(kind).args(&args);
        builder = match &spec.shared_map {
            Some(path) => builder
                .config(&config.replace(&format!("@DIR@/{MAP_NAME}"), &path.display().to_string())),
            None => builder.config(&config).file(MAP_NAME, MAP_TEXT),
        };
        let mut proxy = builder.spawn().expect("proxy starts");
        proxy.wait_ready(loopback(stats_port), WAIT);
        proxy.wait_ready(loopback(fe_port), WAIT);
        let map_path = spec
            .shared_map
            .clone()
            .unwrap_or_else(|| proxy.dir().join(MAP_NAME));
        let lab = Lab {
            map_path,
            proxy,
            blue,
            green,
            stats_port,
            fe_port,
            state_dir: tempfile::tempdir().expect("state dir"),
        };
        lab.wait_status("be_blue", "blue1", "UP");
        if spec.green_healthy {
            lab.wait_status("be_green", "green1", "UP");
        } else {
            lab.wait_status("be_green", "green1", "DOWN");
        }
        lab
    }

    /// `127.0.0.1:<port>` of the TCP stats socket.
    pub fn tcp(&self) -> String {
        format!("127.0.0.1:{}", self.stats_port)
    }

    /// Path of the UNIX stats socket.
    pub fn unix(&self) -> String {
        self.proxy.dir().join("admin.sock").display().to_string()
    }

    /// The map identifier (the path written in the config).
    pub fn map(&self) -> String {
        self.map_path().display().to_string()
    }

    pub fn map_path(&self) -> PathBuf {
        self.map_path.clone()
    }

    pub fn state_file(&self) -> PathBuf {
        self.state_dir.path().join("state.json")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.fe_port)
    }

    pub fn client(&self) -> Client {
        Client::new(
            Target::parse(&self.tcp()).expect("target"),
            Duration::from_secs(5),
        )
    }

    /// Runs a Runtime API command on the TCP socket.
    pub fn cli(&self, command: &str) -> String {
        self.client().send(command).expect("runtime API answers")
    }

    /// Current value(s) of `active` in the running proxy.
    pub fn active(&self) -> Vec<String> {
        switchyard_ctl::fleet::map_values(&self.client(), &self.map(), "active").expect("show map")
    }

    /// Which upstream answers a request through the frontend.
    pub fn served_by(&self) -> String {
        let resp = http_get(&self.url("/"), &[]).expect("request through the proxy");
        resp.header("x-served-by").unwrap_or("<none>").to_owned()
    }

    pub fn status_of(&self, backend: &str, server: &str) -> String {
        switchyard_ctl::ops::health::server_status(&self.client(), backend, server)
            .expect("server status")
    }

    pub fn wait_status(&self, backend: &str, server: &str, want: &str) {
        eventually_named(&format!("{backend}/{server} {want}"), WAIT, POLL, || {
            let got = self.status_of(backend, server);
            if got == want {
                Ok(())
            } else {
                Err(got)
            }
        });
    }
}

/// What one run of the `switchyard-ctl` binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `switchyard-ctl <args>` with its state under `state_home`.
pub fn ctl(state_home: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard-ctl"))
        .args(args)
        .env("XDG_STATE_HOME", state_home)
        .env_remove("NO_COLOR")
        .output()
        .expect("switchyard-ctl runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
