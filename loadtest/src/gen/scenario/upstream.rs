//! Upstream processes a scenario controls: `--upstream <backend>/<server>[@<addr>]=<command>`.
//! The scenario starts each command (`sh -c 'exec <command>'`, so the pid is the
//! upstream's own), stops it with a signal, kills it, starts it again. Every process it
//! started is killed when the scenario ends, whatever happens.

use super::ScenarioError;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::time::Duration;
use tokio::process::{Child, Command};

/// `backend/server[@host:port]=command`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSpec {
    pub backend: String,
    pub server: String,
    /// Where the upstream listens: when given, a (re)start waits until it accepts
    /// connections, so a quick restart cannot be mistaken for the old process's UP.
    pub addr: Option<String>,
    pub command: String,
}

impl UpstreamSpec {
    pub fn name(&self) -> String {
        format!("{}/{}", self.backend, self.server)
    }
}

impl FromStr for UpstreamSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?}: expected <backend>/<server>[@<host:port>]=<command>");
        let (name, command) = s.split_once('=').ok_or_else(bad)?;
        let (name, addr) = match name.split_once('@') {
            Some((name, addr)) if addr.rsplit_once(':').is_some() => (name, Some(addr.trim())),
            Some(_) => return Err(bad()),
            None => (name, None),
        };
        let (backend, server) = name.split_once('/').ok_or_else(bad)?;
        if backend.is_empty() || server.is_empty() || command.trim().is_empty() {
            return Err(bad());
        }
        Ok(UpstreamSpec {
            backend: backend.trim().to_owned(),
            server: server.trim().to_owned(),
            addr: addr.map(str::to_owned),
            command: command.trim().to_owned(),
        })
    }
}

/// Parses a signal name as `kill -s` takes it: `TERM`, `SIGTERM`, `usr2`, or a number.
pub fn parse_signal(s: &str) -> Result<Signal, String> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("{s:?}: not a signal number"));
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).map_err(|_| format!("{s:?}: not a signal name"))
}

pub fn send_signal(pid: u32, signal: Signal) -> Result<(), ScenarioError> {
    let raw = i32::try_from(pid).map_err(|_| ScenarioError::Usage(format!("bad pid {pid}")))?;
    kill(Pid::from_raw(raw), signal).map_err(|source| ScenarioError::Signal {
        pid,
        signal: signal.as_str(),
        source,
    })
}

#[derive(Debug)]
pub struct Upstream {
    pub spec: UpstreamSpec,
    log: Option<PathBuf>,
    child: Option<Child>,
}

impl Upstream {
    /// `log_dir`: where the process's stdout and stderr go (else nowhere).
    pub fn new(spec: UpstreamSpec, log_dir: Option<&Path>) -> Self {
        let log = log_dir.map(|d| {
            d.join(format!(
                "upstream-{}-{}.log",
                spec.backend.replace('/', "_"),
                spec.server.replace('/', "_")
            ))
        });
        Upstream {
            spec,
            log,
            child: None,
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    fn output(&self) -> Result<(Stdio, Stdio), ScenarioError> {
        let Some(path) = &self.log else {
            return Ok((Stdio::null(), Stdio::null()));
        };
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| ScenarioError::Spawn {
                    command: format!("(log file {})", path.display()),
                    source,
                })
        };
        Ok((Stdio::from(open()?), Stdio::from(open()?)))
    }

    pub fn start(&mut self) -> Result<(), ScenarioError> {
        let (stdout, stderr) = self.output()?;
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("exec {}", self.spec.command))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| ScenarioError::Spawn {
                command: self.spec.command.clone(),
                source,
            })?;
        self.child = Some(child);
        Ok(())
    }

    /// Sends `signal` and waits up to `grace` for the exit, then kills.
    pub async fn stop(&mut self, signal: Signal, grace: Duration) -> Result<(), ScenarioError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child.id() {
            send_signal(pid, signal)?;
        }
        if tokio::time::timeout(grace, child.wait()).await.is_err() {
            let _ = child.kill().await;
        }
        Ok(())
    }

    /// SIGKILL, as a crash would; reaps the process.
    pub async fn crash(&mut self) -> Result<(), ScenarioError> {
        self.stop(Signal::SIGKILL, Duration::from_secs(5)).await
    }

    /// Waits until the upstream accepts TCP connections (if its address is known).
    pub async fn wait_listening(&mut self, timeout: Duration) -> Result<(), ScenarioError> {
        let Some(addr) = self.spec.addr.clone() else {
            return Ok(());
        };
        let start = std::time::Instant::now();
        loop {
            if tokio::net::TcpStream::connect(&addr).await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                return Err(ScenarioError::UpstreamExited {
                    name: self.spec.name(),
                    status: status.to_string(),
                });
            }
            if start.elapsed() >= timeout {
                return Err(ScenarioError::Check(format!(
                    "{} not listening on {addr} after {timeout:?}",
                    self.spec.name()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the process exited on its own (a scenario wants to know early).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs_and_signals() {
        let spec: UpstreamSpec = "blue/blue1=switchyard-echo --port 3001 --name blue1"
            .parse()
            .expect("valid");
        assert_eq!(spec.name(), "blue/blue1");
        assert_eq!(spec.command, "switchyard-echo --port 3001 --name blue1");
        assert_eq!(spec.addr, None);
        let spec: UpstreamSpec = "b/s@127.0.0.1:3001=cmd x".parse().expect("valid");
        assert_eq!(spec.addr.as_deref(), Some("127.0.0.1:3001"));
        for bad in ["blue=cmd", "/s=cmd", "b/s=", "b/s", "b/s@nope=cmd"] {
            assert!(bad.parse::<UpstreamSpec>().is_err(), "{bad}");
        }
        assert_eq!(parse_signal("usr2"), Ok(Signal::SIGUSR2));
        assert_eq!(parse_signal("SIGHUP"), Ok(Signal::SIGHUP));
        assert_eq!(parse_signal("15"), Ok(Signal::SIGTERM));
        assert!(parse_signal("NOPE").is_err());
    }
}
