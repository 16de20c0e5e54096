//! Shared by the seed acceptance tests (`tests/seed_*.rs`, included with `#[path]`): runs a
//! seed driver script from this directory inside fresh namespaces against switchyard or
//! the real HAProxy, then reads what the driver and `hey` reported.

#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use switchyard_testkit as tk;
use tk::netns::{self, NamespacedRun};
use tk::HeySummary;

/// Longest a whole namespaced seed run may take before it is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(240);

/// `switchyard/tests/seeds/`.
pub fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds")
}

/// Which proxy a run drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Switchyard,
    Haproxy,
}

impl Target {
    pub fn binary(self) -> PathBuf {
        match self {
            Target::Switchyard => PathBuf::from(env!("CARGO_BIN_EXE_switchyard")),
            Target::Haproxy => PathBuf::from(tk::HAPROXY_PATH),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Target::Switchyard => "switchyard",
            Target::Haproxy => "haproxy",
        }
    }
}

/// Panics (never skips) when the namespaced runs cannot work, naming what to install.
pub fn require_namespaces() {
    if let Some(why) = netns::namespaces_unavailable() {
        panic!("seed acceptance tests cannot run here: {why}");
    }
    if !tk::haproxy_available() {
        panic!(
            "seed acceptance tests need the real haproxy at {} (Debian package haproxy)",
            tk::HAPROXY_PATH
        );
    }
}

fn testdns_binary() -> PathBuf {
    match tk::find_or_build_binary(
        "switchyard-testdns",
        "switchyard-testkit",
        "SWITCHYARD_TESTDNS_BIN",
    ) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// One finished driver run and the files it left in its work dir.
#[derive(Debug)]
pub struct SeedRun {
    pub label: String,
    pub run: NamespacedRun,
    pub work: tempfile::TempDir,
    pub elapsed: Duration,
}

impl SeedRun {
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.work.path().join(name)).unwrap_or_default()
    }

    /// `hey`'s report from `<work>/<name>`.
    pub fn hey(&self, name: &str) -> HeySummary {
        tk::parse_hey(&self.file(name))
    }

    /// The driver's transcript plus the tails of the proxy's and upstreams' logs.
    pub fn diagnostics(&self) -> String {
        let tail = |name: &str, n: usize| {
            let text = self.file(name);
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(n);
            format!(
                "--- {name} (last {n} lines) ---\n{}",
                lines[from..].join("\n")
            )
        };
        let mut out = format!(
            "=== {} driver ({:?}, {:.1}s) ===\n{}\n",
            self.label,
            self.run.status,
            self.elapsed.as_secs_f64(),
            self.run.transcript()
        );
        for (name, n) in [
            ("proxy.log", 40),
            ("proxy-events.log", 40),
            ("dns.log", 10),
            ("hey.err", 10),
            ("state/docker.log", 20),
        ] {
            if self.work.path().join(name).exists() {
                out.push_str(&tail(name, n));
                out.push('\n');
            }
        }
        out
    }

    /// Every step the driver printed passed and it exited 0.
    #[track_caller]
    pub fn assert_steps_ok(&self) {
        let failed = self.run.failed_steps();
        assert!(
            failed.is_empty() && self.run.success(),
            "{}: exit {:?}, failed steps {failed:#?} (transcript above)",
            self.label,
            self.run.status
        );
    }

    /// `hey`'s report in `<work>/<name>` shows load, no errors and only 200 responses.
    #[track_caller]
    pub fn assert_hey_all_200(&self, name: &str, min_requests: u64) -> HeySummary {
        let hey = self.hey(name);
        assert!(
            hey.total_requests >= min_requests,
            "{}: hey ({name}) made {} requests, expected at least {min_requests}\n{}",
            self.label,
            hey.total_requests,
            hey.raw
        );
        assert!(
            hey.only_200(),
            "{}: hey ({name}) saw failed requests: errors {:?}, statuses {:?}\n{}",
            self.label,
            hey.errors,
            hey.status_codes,
            hey.raw
        );
        hey
    }
}

/// Runs `tests/seeds/<driver>` against `target` in fresh namespaces, with `env` added to
/// the defaults (PROXY_BIN, ECHO_BIN, TESTDNS_BIN, WORK).
pub fn run_seed(driver: &str, target: Target, env: &[(&str, &str)]) -> SeedRun {
    require_namespaces();
    let work = match tempfile::Builder::new()
        .prefix(&format!("seed-{}-", target.label()))
        .tempdir()
    {
        Ok(w) => w,
        Err(e) => panic!("temp dir: {e}"),
    };
    let mut vars: Vec<(&str, OsString)> = vec![
        ("PROXY_BIN", target.binary().into_os_string()),
        ("ECHO_BIN", tk::echo_binary_path().into_os_string()),
        ("TESTDNS_BIN", testdns_binary().into_os_string()),
        ("WORK", work.path().as_os_str().to_owned()),
    ];
    vars.extend(env.iter().map(|(k, v)| (*k, OsString::from(v))));
    let label = format!("{driver}[{}]", target.label());
    let started = Instant::now();
    let run = match netns::run_in_namespaces(
        &label,
        &seeds_dir().join(driver),
        &[],
        &vars,
        RUN_TIMEOUT,
    ) {
        Ok(r) => r,
        Err(e) => panic!("{label}: cannot start unshare: {e}"),
    };
    let seed = SeedRun {
        label,
        run,
        work,
        elapsed: started.elapsed(),
    };
    eprintln!("{}", seed.diagnostics());
    seed
}
