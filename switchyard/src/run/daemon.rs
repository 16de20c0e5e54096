//! `-D` / `daemon`: run in the background. `fork` is unsafe in Rust (and
//! this workspace forbids unsafe code), so the process re-executes itself:
//! the child starts its own session, binds, writes the pidfile, reports
//! "ready" on a pipe and detaches its stdio; the parent waits for that report
//! and exits 0, or exits with the child's status if startup failed. The
//! command therefore returns only once the daemon serves (or has failed),
//! like HAProxy's.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::process::{Command, ExitCode, Stdio};

use anyhow::Context;

/// Set in the re-executed child's environment.
const CHILD_ENV: &str = "SWITCHYARD_DAEMON_CHILD";
const READY: &str = "switchyard-daemon-ready";

/// Whether this process is the background child.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Whether the foreground parent already printed the config warnings (it
/// loaded the config to learn about `daemon`), so the child stays silent.
pub fn warnings_shown() -> bool {
    std::env::var_os(CHILD_ENV).is_some_and(|v| v == "warned")
}

/// In the foreground parent: start the child and wait for its report.
pub fn spawn_and_wait(warned: bool) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("finding our own executable")?;
    let mut child = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(CHILD_ENV, if warned { "warned" } else { "1" })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the background process")?;
    let ready = match child.stdout.take() {
        Some(out) => BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .any(|l| l == READY),
        None => false,
    };
    if ready {
        // The child lives on; it is not ours to wait for.
        return Ok(ExitCode::SUCCESS);
    }
    let status = child.wait().context("waiting for the background process")?;
    Ok(ExitCode::from(
        status.code().map_or(1, |c| c.clamp(1, 255) as u8),
    ))
}

/// In the child, first thing: leave the parent's session and terminal.
pub fn start_session() {
    let _ = nix::unistd::setsid();
}

/// In the child, once serving is set up: tell the parent, then point stdio
/// at /dev/null so a closed terminal never hurts us.
pub fn report_ready_and_detach(keep_stderr: bool) -> anyhow::Result<()> {
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{READY}").context("reporting readiness")?;
        out.flush().context("reporting readiness")?;
    }
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("opening /dev/null")?;
    let fd = null.as_raw_fd();
    let _ = nix::unistd::dup2(fd, 0);
    let _ = nix::unistd::dup2(fd, 1);
    if !keep_stderr {
        let _ = nix::unistd::dup2(fd, 2);
    }
    Ok(())
}
