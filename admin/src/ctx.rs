//! Process facts the Runtime API reports (`show info`) and the hooks the
//! binary may install (reload, soft stop).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

/// The `Version:` switchyard reports by default. hatop and the seed scripts
/// only display `show info`'s version (hatop matches `^Version:\s*\S+`), so
/// we do not pretend to be a Debian HAProxy build; the `2.6.12-` prefix
/// tells version-sniffing tools which HAProxy behaviour we follow.
pub const DEFAULT_VERSION: &str = concat!("2.6.12-switchyard-", env!("CARGO_PKG_VERSION"));

/// `Release_date:` reported with [`DEFAULT_VERSION`].
pub const DEFAULT_RELEASE_DATE: &str = "2026/10/17";

type Hook = Box<dyn Fn() + Send + Sync>;

/// Facts about the running process, shared by every CLI session.
pub struct AdminCtx {
    /// `Name:` (tools check it is `HAProxy`).
    pub name: String,
    pub version: String,
    pub release_date: String,
    pub pid: u32,
    /// Unix ms when the process started.
    pub start_ms: u64,
    pub nbthread: u32,
    /// `node:` (global `node`, else the host name).
    pub node: String,
    pub description: Option<String>,
    /// The effective global maxconn (`set maxconn global` changes it).
    pub maxconn: AtomicU32,
    pub hard_maxconn: u32,
    /// `Ulimit-n` / `Maxsock`.
    pub ulimit_n: u32,
    /// Set during a soft stop (`Stopping: 1`).
    pub stopping: AtomicBool,
    /// CLI connections accepted (they count in `CumConns`).
    pub cli_conns: AtomicU64,
    /// Current CLI connections (they count in `Jobs`).
    pub cli_active: AtomicU32,
    /// `tune.bufsize`: the longest CLI line.
    pub bufsize: usize,
    reload: OnceLock<Hook>,
    soft_stop: OnceLock<Hook>,
}

impl std::fmt::Debug for AdminCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminCtx")
            .field("version", &self.version)
            .field("pid", &self.pid)
            .field("nbthread", &self.nbthread)
            .finish_non_exhaustive()
    }
}

impl AdminCtx {
    /// Facts for this process with the given global `maxconn` and thread
    /// count; version and name take their defaults.
    pub fn new(maxconn: u32, nbthread: u32) -> AdminCtx {
        AdminCtx {
            name: "HAProxy".into(),
            version: DEFAULT_VERSION.into(),
            release_date: DEFAULT_RELEASE_DATE.into(),
            pid: std::process::id(),
            start_ms: switchyard_state::now_ms(),
            nbthread: nbthread.max(1),
            node: hostname(),
            description: None,
            maxconn: AtomicU32::new(maxconn),
            hard_maxconn: maxconn,
            ulimit_n: nofile_limit(),
            stopping: AtomicBool::new(false),
            cli_conns: AtomicU64::new(0),
            cli_active: AtomicU32::new(0),
            bufsize: crate::cli::framing::DEFAULT_BUFSIZE,
            reload: OnceLock::new(),
            soft_stop: OnceLock::new(),
        }
    }

    /// Facts taken from a configuration (global maxconn, nbthread, node,
    /// description, bufsize).
    pub fn from_config(cfg: &switchyard_config::Config) -> AdminCtx {
        let g = &cfg.global;
        let maxconn = g.maxconn.unwrap_or(switchyard_state::DEFAULT_MAXCONN);
        let nbthread = g.nbthread.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        let mut ctx = AdminCtx::new(maxconn, nbthread as u32);
        if let Some(n) = &g.node {
            ctx.node = n.clone();
        }
        ctx.description = g.description.clone();
        ctx.bufsize = g.bufsize.max(1024);
        ctx
    }

    /// Install the reload hook (called on a master-CLI style `reload`).
    pub fn set_reload_hook(&self, f: impl Fn() + Send + Sync + 'static) {
        let _ = self.reload.set(Box::new(f));
    }

    /// Install the soft-stop hook.
    pub fn set_soft_stop_hook(&self, f: impl Fn() + Send + Sync + 'static) {
        let _ = self.soft_stop.set(Box::new(f));
    }

    /// Run the reload hook; false when none is installed.
    pub fn reload(&self) -> bool {
        self.reload.get().map(|f| f()).is_some()
    }

    /// Run the soft-stop hook and mark the process stopping.
    pub fn soft_stop(&self) -> bool {
        self.stopping.store(true, Relaxed);
        self.soft_stop.get().map(|f| f()).is_some()
    }

    pub fn uptime_secs(&self) -> u64 {
        switchyard_state::now_ms().saturating_sub(self.start_ms) / 1000
    }
}

/// Shared handle type used by the server functions.
pub type SharedCtx = Arc<AdminCtx>;

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.split('.').next().unwrap_or("").to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn nofile_limit() -> u32 {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map(|(soft, _)| soft.min(u64::from(u32::MAX)) as u32)
        .unwrap_or(1024)
}
