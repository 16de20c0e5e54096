//! `ChildGuard`: a child process that is always stopped (SIGTERM, then SIGKILL) when the
//! guard drops, with its output captured line by line.

use crate::output::{LinePattern, Output, Stream};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long [`ChildGuard::stop`] (and Drop) waits after SIGTERM before SIGKILL.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A running child process owned by a test.
///
/// The child runs in its own process group with stdin closed and stdout/stderr captured
/// ([`ChildGuard::lines`], [`ChildGuard::wait_for_line`]). On drop it gets SIGTERM, then
/// SIGKILL (to its whole group) after the stop timeout; if the test is panicking, the tail
/// of its output is printed to help explain the failure. Set `TESTKIT_ECHO_OUTPUT=1` to
/// see every line live as `[name] line` on stderr.
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    child: Child,
    output: Arc<Output>,
    exit: Option<ExitStatus>,
    stop_timeout: Duration,
}

impl ChildGuard {
    /// Spawns `cmd` (stdout/stderr piped and captured, stdin null); `name` labels its
    /// output in messages.
    pub fn spawn(name: &str, mut cmd: Command) -> io::Result<ChildGuard> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn()?;
        let output = Arc::new(Output::default());
        if let Some(out) = child.stdout.take() {
            output.tee(out, Stream::Stdout, name);
        }
        if let Some(err) = child.stderr.take() {
            output.tee(err, Stream::Stderr, name);
        }
        Ok(ChildGuard {
            name: name.to_owned(),
            child,
            output,
            exit: None,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
        })
    }

    /// Changes how long stop/drop waits between SIGTERM and SIGKILL.
    pub fn with_stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `sig` to the child (not its group). Refused once the child was reaped, so a
    /// recycled pid is never signalled.
    pub fn signal(&mut self, sig: Signal) -> io::Result<()> {
        if self.try_wait().is_some() {
            return Err(io::Error::other(format!("{} already exited", self.name)));
        }
        kill(self.nix_pid(), sig).map_err(io::Error::from)
    }

    fn nix_pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// The exit status if the child has exited (reaping it).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exit = Some(status);
            }
        }
        self.exit
    }

    pub fn is_running(&mut self) -> bool {
        self.try_wait().is_none()
    }

    /// Waits up to `timeout` for the child to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGTERM, wait up to the stop timeout, then SIGKILL to the process group; returns
    /// the exit status. Idempotent.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.try_wait() {
            return Some(status);
        }
        let _ = kill(self.nix_pid(), Signal::SIGTERM);
        if let Some(status) = self.wait_exit(self.stop_timeout) {
            return Some(status);
        }
        self.kill()
    }

    /// SIGKILL to the whole process group at once, then reap.
    pub fn kill(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.try_wait() {
            return Some(status);
        }
        let _ = killpg(self.nix_pid(), Signal::SIGKILL);
        let _ = kill(self.nix_pid(), Signal::SIGKILL);
        match self.child.wait() {
            Ok(status) => {
                self.exit = Some(status);
                Some(status)
            }
            Err(_) => None,
        }
    }

    /// All captured lines (stdout and stderr, in arrival order).
    pub fn lines(&self) -> Vec<String> {
        self.output.lines()
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        self.output.lines_of(Stream::Stdout)
    }

    pub fn stderr_lines(&self) -> Vec<String> {
        self.output.lines_of(Stream::Stderr)
    }

    /// Number of lines captured so far; pass it to [`ChildGuard::wait_for_line_from`] to
    /// wait only for lines printed after this point.
    pub fn line_count(&self) -> usize {
        self.output.len()
    }

    /// The shared output buffer (e.g. to wait on it from another thread).
    pub fn output(&self) -> Arc<Output> {
        Arc::clone(&self.output)
    }

    /// First captured line matching `pattern` (substring or regex), waiting up to
    /// `timeout`; `None` on timeout or if the process closed its output first.
    pub fn try_wait_for_line(
        &self,
        pattern: impl LinePattern,
        timeout: Duration,
    ) -> Option<String> {
        self.output.wait_for_line_from(0, &pattern, timeout)
    }

    /// Like [`ChildGuard::try_wait_for_line`] but panics with the output's tail on failure.
    #[track_caller]
    pub fn wait_for_line(&self, pattern: impl LinePattern, timeout: Duration) -> String {
        self.wait_for_line_from(0, pattern, timeout)
    }

    /// [`ChildGuard::wait_for_line`] considering only lines from index `start` on.
    #[track_caller]
    pub fn wait_for_line_from(
        &self,
        start: usize,
        pattern: impl LinePattern,
        timeout: Duration,
    ) -> String {
        match self.output.wait_for_line_from(start, &pattern, timeout) {
            Some(line) => line,
            None => panic!(
                "{}: no line matching {} within {timeout:?}; output so far:\n{}",
                self.name,
                pattern.describe(),
                self.output.tail(60)
            ),
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            self.output.wait_closed(Duration::from_millis(500));
            eprintln!(
                "--- output of {} (pid {}, {:?}) ---\n{}",
                self.name,
                self.child.id(),
                self.exit,
                self.output.tail(200)
            );
        }
    }
}
