//! Captured output of a child process: reader threads append lines to a shared buffer
//! that tests read (and wait on) while the process runs.

use regex::Regex;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Something a line can match: a `&str`/`String` (substring) or a [`Regex`].
pub trait LinePattern {
    fn matches(&self, line: &str) -> bool;
    fn describe(&self) -> String;
}

impl LinePattern for &str {
    fn matches(&self, line: &str) -> bool {
        line.contains(*self)
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

impl LinePattern for String {
    fn matches(&self, line: &str) -> bool {
        line.contains(self.as_str())
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

impl LinePattern for &Regex {
    fn matches(&self, line: &str) -> bool {
        self.is_match(line)
    }
    fn describe(&self) -> String {
        format!("/{}/", self.as_str())
    }
}

impl LinePattern for Regex {
    fn matches(&self, line: &str) -> bool {
        self.is_match(line)
    }
    fn describe(&self) -> String {
        format!("/{}/", self.as_str())
    }
}

#[derive(Debug, Default)]
struct Buffer {
    lines: Vec<(Stream, String)>,
    /// Pipes that reached EOF; at 2 no more lines can come.
    closed: u8,
}

/// Lines of both pipes in arrival order, shared with the reader threads.
#[derive(Debug, Default)]
pub struct Output {
    buffer: Mutex<Buffer>,
    changed: Condvar,
}

impl Output {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A reader thread cannot panic while holding the lock; recover anyway.
        match self.buffer.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Starts a thread that copies `pipe` into this buffer line by line; lines are echoed
    /// to stderr as `[name] line` when `TESTKIT_ECHO_OUTPUT` is set.
    pub fn tee<R: Read + Send + 'static>(
        self: &Arc<Self>,
        pipe: R,
        stream: Stream,
        name: &str,
    ) -> JoinHandle<()> {
        let out = Arc::clone(self);
        let name = name.to_owned();
        let echo = std::env::var_os("TESTKIT_ECHO_OUTPUT").is_some();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut raw = Vec::new();
            loop {
                raw.clear();
                match reader.read_until(b'\n', &mut raw) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&raw)
                            .trim_end_matches(['\n', '\r'])
                            .to_owned();
                        if echo {
                            eprintln!("[{name}] {line}");
                        }
                        out.lock().lines.push((stream, line));
                        out.changed.notify_all();
                    }
                }
            }
            out.lock().closed += 1;
            out.changed.notify_all();
        })
    }

    /// All lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lock().lines.iter().map(|(_, l)| l.clone()).collect()
    }

    /// Lines of one stream so far.
    pub fn lines_of(&self, stream: Stream) -> Vec<String> {
        self.lock()
            .lines
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, l)| l.clone())
            .collect()
    }

    /// Number of lines so far (a start index for [`Output::wait_for_line_from`]).
    pub fn len(&self) -> usize {
        self.lock().lines.len()
    }

    /// True if nothing was captured yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// First line at index `start` or later that matches; `None` on timeout or when both
    /// pipes closed without one.
    pub fn wait_for_line_from(
        &self,
        start: usize,
        pattern: &dyn LinePattern,
        timeout: Duration,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut buf = self.lock();
        let mut checked = start;
        loop {
            if let Some((_, line)) = buf
                .lines
                .iter()
                .skip(checked)
                .find(|(_, l)| pattern.matches(l))
            {
                return Some(line.clone());
            }
            checked = checked.max(buf.lines.len());
            let now = Instant::now();
            if buf.closed >= 2 || now >= deadline {
                return None;
            }
            buf = match self.changed.wait_timeout(buf, deadline - now) {
                Ok((g, _)) => g,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Waits up to `timeout` for both pipes to reach EOF (after the process exited), so
    /// its last lines are in the buffer.
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut buf = self.lock();
        while buf.closed < 2 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            buf = match self.changed.wait_timeout(buf, deadline - now) {
                Ok((g, _)) => g,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    /// The last `n` lines, one per line, for failure messages.
    pub fn tail(&self, n: usize) -> String {
        let buf = self.lock();
        let skip = buf.lines.len().saturating_sub(n);
        buf.lines
            .iter()
            .skip(skip)
            .map(|(s, l)| match s {
                Stream::Stdout => format!("  out| {l}\n"),
                Stream::Stderr => format!("  err| {l}\n"),
            })
            .collect()
    }
}
