//! One finished request, as a worker reports it to the collector.

use super::outcome::Failure;
use bytes::Bytes;
use std::time::Duration;

/// Time spent in each phase, as hey's `Details` section reports them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    /// DNS lookup plus TCP connect, when this request opened a connection.
    pub conn: Duration,
    pub dns: Duration,
    /// From having a connection to the request's last byte written.
    pub write: Duration,
    /// From the last byte written to the first response byte.
    pub wait: Duration,
    /// From the first response byte to the end of the body.
    pub read: Duration,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// Body bytes received.
    pub bytes: u64,
    /// Backend label from `--backend-header` / `--backend-body-regex`, if found.
    pub backend: Option<Bytes>,
}

#[derive(Debug, Clone)]
pub struct Sample {
    /// When the request started, from the start of the run.
    pub started: Duration,
    /// When it finished (response body read, or failed), from the start of the run.
    pub finished: Duration,
    pub phases: Phases,
    pub result: Result<Answer, Failure>,
    /// It failed on a reused keep-alive connection and was replayed on a new one.
    pub replayed: bool,
}

impl Sample {
    pub fn latency(&self) -> Duration {
        self.finished.saturating_sub(self.started)
    }
}
