//! Running a proxy — real HAProxy or switchyard — on a config text, the same way, so one
//! test can run against either (differential tests).

use crate::net::can_connect;
use crate::ChildGuard;
use nix::sys::signal::Signal;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Where Debian installs HAProxy 2.6.
pub const HAPROXY_PATH: &str = "/usr/sbin/haproxy";

/// Placeholder replaced by the proxy's temp dir in config texts (for map files etc.).
pub const DIR_PLACEHOLDER: &str = "@DIR@";

/// True if the real HAProxy binary is installed.
pub fn haproxy_available() -> bool {
    Path::new(HAPROXY_PATH).is_file()
}

/// Which proxy to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyKind {
    /// The real `/usr/sbin/haproxy`, the oracle.
    Haproxy,
    /// switchyard at this path (tests of the switchyard crate pass
    /// `env!("CARGO_BIN_EXE_switchyard")`).
    Switchyard(PathBuf),
}

impl ProxyKind {
    pub fn binary(&self) -> PathBuf {
        match self {
            ProxyKind::Haproxy => PathBuf::from(HAPROXY_PATH),
            ProxyKind::Switchyard(path) => path.clone(),
        }
    }

    /// "haproxy" or "switchyard", to label output.
    pub fn label(&self) -> &'static str {
        match self {
            ProxyKind::Haproxy => "haproxy",
            ProxyKind::Switchyard(_) => "switchyard",
        }
    }
}

/// Files and arguments for a proxy run; see [`Proxy::builder`].
#[derive(Debug, Clone)]
pub struct ProxyBuilder {
    binary: PathBuf,
    label: String,
    config: String,
    files: Vec<(String, String)>,
    args: Vec<String>,
}

impl ProxyBuilder {
    /// The config text; [`DIR_PLACEHOLDER`] in it becomes the temp dir path.
    pub fn config(mut self, text: &str) -> Self {
        self.config = text.to_owned();
        self
    }

    /// An extra file written into the temp dir before start (a map file, a second config).
    pub fn file(mut self, name: &str, contents: &str) -> Self {
        self.files.push((name.to_owned(), contents.to_owned()));
        self
    }

    /// An extra command-line argument after `-f <cfg> -db`.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Writes the files and runs `<binary> -f <dir>/haproxy.cfg -db <args>` in the dir.
    pub fn spawn(self) -> io::Result<Proxy> {
        let dir = tempfile::Builder::new()
            .prefix("switchyard-test-")
            .tempdir()?;
        let dir_text = dir.path().display().to_string();
        for (name, contents) in &self.files {
            std::fs::write(
                dir.path().join(name),
                contents.replace(DIR_PLACEHOLDER, &dir_text),
            )?;
        }
        let cfg_path = dir.path().join("haproxy.cfg");
        std::fs::write(&cfg_path, self.config.replace(DIR_PLACEHOLDER, &dir_text))?;
        let mut cmd = Command::new(&self.binary);
        cmd.arg("-f")
            .arg(&cfg_path)
            .arg("-db")
            .args(&self.args)
            .current_dir(dir.path());
        let child = ChildGuard::spawn(&self.label, cmd)?;
        Ok(Proxy {
            child,
            dir,
            cfg_path,
        })
    }
}

/// A running proxy with its temp dir (removed on drop, after the process is stopped).
#[derive(Debug)]
pub struct Proxy {
    // Field order matters: the child stops before its directory is deleted.
    child: ChildGuard,
    dir: TempDir,
    cfg_path: PathBuf,
}

impl Proxy {
    /// Settings to run `kind`.
    pub fn builder(kind: &ProxyKind) -> ProxyBuilder {
        ProxyBuilder {
            binary: kind.binary(),
            label: kind.label().to_owned(),
            config: String::new(),
            files: Vec::new(),
            args: Vec::new(),
        }
    }

    /// Runs `binary -f <tmp>/haproxy.cfg -db <args>` with `cfg_text` as the config.
    pub fn spawn(binary: &Path, cfg_text: &str, args: &[&str]) -> io::Result<Proxy> {
        let label = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "proxy".to_owned());
        ProxyBuilder {
            binary: binary.to_path_buf(),
            label,
            config: cfg_text.to_owned(),
            files: Vec::new(),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
        .spawn()
    }

    /// [`Proxy::spawn`] for a [`ProxyKind`].
    pub fn spawn_kind(kind: &ProxyKind, cfg_text: &str, args: &[&str]) -> io::Result<Proxy> {
        Self::builder(kind).config(cfg_text).args(args).spawn()
    }

    /// The real HAProxy on `cfg_text`.
    pub fn haproxy(cfg_text: &str, args: &[&str]) -> io::Result<Proxy> {
        Self::spawn_kind(&ProxyKind::Haproxy, cfg_text, args)
    }

    /// The temp dir holding the config (and the process's working directory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn cfg_path(&self) -> &Path {
        &self.cfg_path
    }

    /// Writes a file into the temp dir (e.g. a new config before a reload signal).
    pub fn write_file(&self, name: &str, contents: &str) -> io::Result<PathBuf> {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents)?;
        Ok(path)
    }

    pub fn child(&self) -> &ChildGuard {
        &self.child
    }

    pub fn child_mut(&mut self) -> &mut ChildGuard {
        &mut self.child
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    pub fn signal(&mut self, sig: Signal) -> io::Result<()> {
        self.child.signal(sig)
    }

    /// Waits until `addr` accepts connections; panics with the proxy's output if it exits
    /// first or the timeout passes.
    #[track_caller]
    pub fn wait_ready(&mut self, addr: SocketAddr, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before {addr} was ready; output:\n{}",
                    self.child.name(),
                    self.child.output().tail(60)
                );
            }
            if can_connect(addr) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{}: {addr} not ready within {timeout:?}; output:\n{}",
                    self.child.name(),
                    self.child.output().tail(60)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
