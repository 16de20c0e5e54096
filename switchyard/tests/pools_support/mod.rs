//! Shared by the upstream-pool proof tests (`tests/pools_*.rs`): real `switchyard-echo`
//! upstreams that can be stopped, killed and restarted on their port, a proxy (switchyard
//! or, as the differential baseline, the real HAProxy 2.6) on one config text, and its
//! Runtime API read the way the seeds' scripts read it (`show stat` over the stats socket).
//!
//! Every scenario runs under [`serial`]: the load tests of one binary must not compete
//! for the machine's two cores with each other.

#![allow(dead_code)]

pub mod sampler;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
pub use switchyard_testkit as tk;
use tk::{EchoOptions, EchoProcess, Proxy, ProxyKind, Signal};

/// Longest wait for a state the proxy or an upstream must reach.
pub const WAIT: Duration = Duration::from_secs(20);
/// Polling interval of the waits.
pub const POLL: Duration = Duration::from_millis(20);

/// Which proxy a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Switchyard,
    Haproxy,
}

impl Target {
    pub fn kind(self) -> ProxyKind {
        match self {
            Target::Switchyard => {
                ProxyKind::Switchyard(PathBuf::from(env!("CARGO_BIN_EXE_switchyard")))
            }
            Target::Haproxy => {
                // The baseline is required, never skipped: without it the test proves nothing.
                assert!(
                    tk::haproxy_available(),
                    "these differential tests need the real haproxy at {} (Debian package haproxy)",
                    tk::HAPROXY_PATH
                );
                ProxyKind::Haproxy
            }
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Target::Switchyard => "switchyard",
            Target::Haproxy => "haproxy",
        }
    }
}

/// One scenario at a time per test binary (hey -c 200 on two cores is enough load).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    match LOCK.lock() {
        Ok(g) => g,
        // A failed scenario must not fail the next one too.
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Prints how long a scenario took when it ends (pass or fail), for the report.
pub struct Timer {
    what: String,
    start: Instant,
}

impl Timer {
    pub fn start(what: &str) -> Timer {
        eprintln!("[{what}] start");
        Timer {
            what: what.to_owned(),
            start: Instant::now(),
        }
    }

    /// Prints a progress note with the time since the start.
    pub fn note(&self, msg: &str) {
        eprintln!(
            "[{}] +{:.2}s {msg}",
            self.what,
            self.start.elapsed().as_secs_f64()
        );
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let outcome = if std::thread::panicking() {
            "FAILED"
        } else {
            "passed"
        };
        eprintln!(
            "[{}] {outcome} in {:.2}s",
            self.what,
            self.start.elapsed().as_secs_f64()
        );
    }
}

/// A `switchyard-echo` upstream with a fixed port, so it can be restarted where the
/// proxy's config points.
#[derive(Debug)]
pub struct Upstream {
    pub name: String,
    pub port: u16,
    args: Vec<String>,
    process: Option<EchoProcess>,
}

impl Upstream {
    /// Starts `switchyard-echo --name <name> --port <free port> <args>`.
    pub fn start(name: &str, args: &[&str]) -> Upstream {
        let mut up = Upstream {
            name: name.to_owned(),
            port: tk::free_port(),
            args: args.iter().map(|a| a.to_string()).collect(),
            process: None,
        };
        up.restart();
        up
    }

    /// Starts it again on the same port (after [`Upstream::stop_graceful`] or
    /// [`Upstream::kill`]).
    pub fn restart(&mut self) {
        assert!(self.process.is_none(), "{} is still running", self.name);
        let mut opts = EchoOptions::new(&self.name).port(self.port);
        for a in &self.args {
            opts = opts.arg(a);
        }
        self.process = Some(tk::spawn_echo_binary(opts));
    }

    fn process_mut(&mut self) -> &mut EchoProcess {
        match self.process.as_mut() {
            Some(p) => p,
            None => panic!("{} is not running", self.name),
        }
    }

    /// SIGTERM, then waits for the process to finish its in-flight requests and exit.
    pub fn stop_graceful(&mut self) {
        self.sigterm();
        self.wait_exit();
    }

    /// Sends SIGTERM only (the process keeps running while it drains).
    pub fn sigterm(&mut self) {
        let name = self.name.clone();
        let p = self.process_mut();
        if let Err(e) = p.child.signal(Signal::SIGTERM) {
            panic!("SIGTERM to {name}: {e}");
        }
    }

    /// Waits for a process sent SIGTERM to exit by itself (status 0).
    pub fn wait_exit(&mut self) {
        let name = self.name.clone();
        let p = self.process_mut();
        let status = p.child.wait_exit(WAIT);
        match status {
            Some(s) => assert!(s.success(), "{name} exited with {s}"),
            None => panic!(
                "{name} did not exit within {WAIT:?} of SIGTERM; output:\n{}",
                p.child.output().tail(20)
            ),
        }
        self.process = None;
    }

    /// SIGKILL: the process dies with its requests in flight.
    pub fn kill(&mut self) {
        self.process_mut().child.kill();
        self.process = None;
    }

    /// Requests this upstream has received (its own counter, read directly; the read itself
    /// counts as one).
    pub fn requests(&self) -> u64 {
        let url = format!("http://127.0.0.1:{}/_echo/stats", self.port);
        tk::http_get(&url, &[])
            .ok()
            .and_then(|r| r.json().ok())
            .and_then(|j| j["requests"].as_u64())
            .unwrap_or_else(|| panic!("cannot read {}'s counters at {url}", self.name))
    }
}

impl Drop for Upstream {
    /// A test that is over does not wait for a grace period: SIGKILL.
    fn drop(&mut self) {
        if let Some(p) = self.process.as_mut() {
            p.child.kill();
        }
    }
}

/// A parsed `show stat` dump; columns are looked up by the names of its header line.
#[derive(Debug, Clone)]
pub struct Stat {
    pub raw: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Stat {
    pub fn parse(raw: &str) -> Option<Stat> {
        let mut lines = raw.lines();
        let header: Vec<String> = lines
            .next()?
            .strip_prefix("# ")?
            .split(',')
            .map(str::to_owned)
            .collect();
        let rows = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect();
        Some(Stat {
            raw: raw.to_owned(),
            header,
            rows,
        })
    }

    /// The value of column `col` in the row `px`/`sv` (`FRONTEND`, `BACKEND` or a server).
    pub fn get(&self, px: &str, sv: &str, col: &str) -> Option<&str> {
        let i = self.header.iter().position(|h| h == col)?;
        self.rows
            .iter()
            .find(|r| r.len() > i && r[0] == px && r[1] == sv)
            .map(|r| r[i].as_str())
    }

    /// [`Stat::get`] as a number (empty or missing: `None`).
    pub fn num(&self, px: &str, sv: &str, col: &str) -> Option<u64> {
        self.get(px, sv, col)?.parse().ok()
    }
}

/// True if `text` still holds an `@NAME@` placeholder (upper-case letters between `@`s).
fn has_placeholder(text: &str) -> bool {
    let parts: Vec<&str> = text.split('@').collect();
    parts.len() > 2
        && parts[1..parts.len() - 1]
            .iter()
            .any(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_uppercase()))
}

/// A proxy running one scenario's config, with its frontend and stats socket.
#[derive(Debug)]
pub struct Lab {
    pub target: Target,
    pub proxy: Proxy,
    pub port: u16,
    pub cli: String,
}

impl Lab {
    /// Starts `target` on `cfg`, where `@FE@` is the frontend port, `@CLI@` the stats
    /// socket port and `@<NAME>@` (upper case) each upstream's port; waits for the
    /// frontend to accept connections.
    pub fn start(target: Target, cfg: &str, upstreams: &[&Upstream]) -> Lab {
        let port = tk::free_port();
        let cli_port = tk::free_port();
        let mut text = cfg
            .replace("@FE@", &port.to_string())
            .replace("@CLI@", &cli_port.to_string());
        for up in upstreams {
            text = text.replace(
                &format!("@{}@", up.name.to_uppercase()),
                &up.port.to_string(),
            );
        }
        assert!(
            !has_placeholder(&text),
            "unreplaced placeholder in the config:\n{text}"
        );
        let mut proxy = Proxy::spawn_kind(&target.kind(), &text, &[])
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", target.label()));
        proxy.wait_ready(tk::loopback(port), WAIT);
        let lab = Lab {
            target,
            proxy,
            port,
            cli: format!("127.0.0.1:{cli_port}"),
        };
        tk::eventually_named(
            &format!("{}: stats socket answers", target.label()),
            WAIT,
            POLL,
            || lab.try_stat(),
        );
        lab
    }

    pub fn label(&self) -> &'static str {
        self.target.label()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `show stat`, parsed; `None` if the socket did not answer with a dump.
    pub fn try_stat(&self) -> Option<Stat> {
        Stat::parse(&tk::try_cli(&self.cli, "show stat").ok()?)
    }

    /// `show stat`, parsed; panics with the proxy's output if it cannot be read.
    #[track_caller]
    pub fn stat(&self) -> Stat {
        match self.try_stat() {
            Some(s) => s,
            None => panic!(
                "{}: no `show stat` answer on {}; output:\n{}",
                self.label(),
                self.cli,
                self.proxy.child().output().tail(30)
            ),
        }
    }

    /// The status column of a server (`UP`, `DOWN 1/2`, `MAINT`...).
    pub fn status(&self, backend: &str, server: &str) -> String {
        self.try_stat()
            .and_then(|s| s.get(backend, server, "status").map(str::to_owned))
            .unwrap_or_default()
    }

    /// Waits until the server's status satisfies `ok`; returns the status seen.
    #[track_caller]
    pub fn wait_status(
        &self,
        backend: &str,
        server: &str,
        want: &str,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let what = format!("{}: {backend}/{server} {want}", self.label());
        tk::eventually_named(&what, WAIT, POLL, || {
            let got = self.status(backend, server);
            if ok(&got) {
                Ok(got)
            } else {
                Err(got)
            }
        })
    }

    /// Waits for status exactly `UP` (checks passed, `rise` reached).
    #[track_caller]
    pub fn wait_up(&self, backend: &str, server: &str) {
        self.wait_status(backend, server, "UP", |s| s == "UP");
    }

    /// Waits for status `DOWN` (any `DOWN x/y`).
    #[track_caller]
    pub fn wait_down(&self, backend: &str, server: &str) {
        self.wait_status(backend, server, "DOWN", |s| s.starts_with("DOWN"));
    }

    /// HTTP requests the frontend has received so far (`req_tot` of its FRONTEND row).
    pub fn requests(&self, frontend: &str) -> u64 {
        self.try_stat()
            .and_then(|s| s.num(frontend, "FRONTEND", "req_tot"))
            .unwrap_or(0)
    }

    /// Waits until `more` requests have reached the frontend since this call (the load
    /// is really flowing through the proxy during the step that follows).
    #[track_caller]
    pub fn wait_more_requests(&self, frontend: &str, more: u64) {
        let base = self.requests(frontend);
        let what = format!(
            "{}: {more} more requests through {frontend} (from {base})",
            self.label()
        );
        tk::eventually_named(&what, WAIT, POLL, || {
            let now = self.requests(frontend);
            if now >= base + more {
                Ok(())
            } else {
                Err(now)
            }
        });
    }
}

/// hey as the seeds run it: `-c 200` keep-alive workers on `url` until stopped.
pub fn start_hey(url: &str) -> tk::BackgroundHey {
    tk::BackgroundHey::start(&["-z", "60s", "-c", "200", "-t", "20", url])
        .unwrap_or_else(|e| panic!("cannot run hey (Debian package hey): {e}"))
}

/// hey's report must show only 200s and no errors, and enough requests to mean
/// something.
#[track_caller]
pub fn assert_all_200(label: &str, hey: &tk::HeySummary, min: u64) {
    assert!(
        hey.total_requests >= min && hey.only_200(),
        "{label}: expected >= {min} requests, all 200 and no errors; got statuses {:?}, errors {:?}\n{}",
        hey.status_codes,
        hey.errors,
        hey.raw
    );
}
