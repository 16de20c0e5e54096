//! The demo's child processes: two `switchyard-echo` upstreams and the proxy
//! itself. Each is stopped by its own pid (SIGTERM, then SIGKILL).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

pub const ECHO_BIN_ENV: &str = "SWITCHYARD_ECHO_BIN";

/// `switchyard-echo`, next to this executable (or `$SWITCHYARD_ECHO_BIN`).
pub fn echo_binary() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os(ECHO_BIN_ENV) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("finding our own executable")?;
    let path = exe.with_file_name("switchyard-echo");
    if path.is_file() {
        Ok(path)
    } else {
        Err(anyhow!(
            "{} not found; build it first with `cargo build --release` (it is part of this workspace)",
            path.display()
        ))
    }
}

pub struct Running {
    pub name: &'static str,
    pub child: Child,
}

impl Running {
    pub fn pid(&self) -> Option<i32> {
        self.child.id().map(|p| p as i32)
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL.
    pub async fn stop(&mut self, grace: Duration) {
        if let Some(pid) = self.pid() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }
}

/// One echo upstream on `127.0.0.1:port`, named `name`.
pub fn spawn_echo(bin: &Path, name: &'static str, port: u16) -> anyhow::Result<Running> {
    let child = Command::new(bin)
        .args(["--port", &port.to_string(), "--name", name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {} for {name}", bin.display()))?;
    Ok(Running { name, child })
}

/// The proxy in the foreground (`-db`), its output on our terminal.
pub fn spawn_proxy(cfg: &Path) -> anyhow::Result<Running> {
    let exe = std::env::current_exe().context("finding our own executable")?;
    let child = Command::new(exe)
        .arg("-db")
        .arg("-f")
        .arg(cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the proxy")?;
    Ok(Running {
        name: "switchyard",
        child,
    })
}

/// Wait until something accepts on `127.0.0.1:port`, or the child exits.
pub async fn wait_listening(r: &mut Running, port: u16, within: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if let Some(status) = r.child.try_wait()? {
            return Err(anyhow!("{} exited during startup ({status})", r.name));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(anyhow!(
                "{} did not listen on port {port} within {within:?}",
                r.name
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
