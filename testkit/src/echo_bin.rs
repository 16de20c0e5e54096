//! Running the real `switchyard-echo` binary (the demo upstream) as a child process.

use crate::binaries::find_or_build_binary;
use crate::ChildGuard;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Environment variable naming the echo binary, overriding the lookup.
pub const ECHO_BIN_ENV: &str = "SWITCHYARD_ECHO_BIN";

/// How long to wait for the `listening on` line.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Arguments for [`spawn_echo_binary`].
#[derive(Debug, Clone)]
pub struct EchoOptions {
    pub name: String,
    pub version: String,
    /// 0 (default) lets the server pick; the real port is read from its ready line.
    pub port: u16,
    /// More flags, e.g. `--sigterm-503`, `--grace-ms 500`, `--disabled-status 404`.
    pub args: Vec<String>,
    /// The binary; default: [`echo_binary_path`].
    pub binary: Option<PathBuf>,
}

impl EchoOptions {
    pub fn new(name: &str) -> Self {
        EchoOptions {
            name: name.to_owned(),
            version: "v1".to_owned(),
            port: 0,
            args: Vec::new(),
            binary: None,
        }
    }

    pub fn version(mut self, version: &str) -> Self {
        self.version = version.to_owned();
        self
    }

    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }
}

/// A running `switchyard-echo`; stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub struct EchoProcess {
    pub child: ChildGuard,
    pub addr: SocketAddr,
    pub name: String,
}

impl EchoProcess {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

/// Path of `switchyard-echo`: `$SWITCHYARD_ECHO_BIN`, else next to the test executable
/// (`target/<profile>/`), else built on demand with cargo. Panics if none works.
pub fn echo_binary_path() -> PathBuf {
    match find_or_build_binary("switchyard-echo", "switchyard-loadtest", ECHO_BIN_ENV) {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    }
}

/// Starts `switchyard-echo` on 127.0.0.1 and waits for its `listening on` line.
/// Panics if it does not start.
pub fn spawn_echo_binary(opts: EchoOptions) -> EchoProcess {
    let binary = opts.binary.clone().unwrap_or_else(echo_binary_path);
    let mut cmd = Command::new(&binary);
    cmd.arg("--port")
        .arg(opts.port.to_string())
        .arg("--name")
        .arg(&opts.name)
        .arg("--version-tag")
        .arg(&opts.version)
        .args(&opts.args);
    let child = match ChildGuard::spawn(&format!("echo-{}", opts.name), cmd) {
        Ok(c) => c,
        Err(e) => panic!("cannot run {}: {e}", binary.display()),
    };
    let line = child.wait_for_line("listening on ", READY_TIMEOUT);
    let addr = line
        .rsplit(' ')
        .next()
        .and_then(|a| a.parse::<SocketAddr>().ok());
    match addr {
        Some(addr) => EchoProcess {
            child,
            addr,
            name: opts.name,
        },
        None => panic!("cannot parse the address in {line:?}"),
    }
}
