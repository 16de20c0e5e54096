//! Waiting for in-flight work to leave a backend (after a cutover) or a server (after
//! `set server … state drain`).

use crate::error::CtlError;
use crate::fleet::in_flight;
use crate::ops::waiting::{poll, Polled};
use crate::progress::Progress;
use crate::runtime::Client;
use crate::target::Target;
use serde::Serialize;
use std::time::Duration;

/// One thing to watch: `backend` (or `backend/server`) on one target.
#[derive(Debug, Clone)]
pub struct Watch {
    pub client: Client,
    pub backend: String,
    pub server: Option<String>,
}

impl Watch {
    fn label(&self) -> String {
        match &self.server {
            Some(s) => format!("{}/{} on {}", self.backend, s, self.client.target()),
            None => format!("{} on {}", self.backend, self.client.target()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Left {
    pub target: Target,
    pub backend: String,
    pub server: Option<String>,
    pub connections: u64,
}

/// The result of a drain wait. `complete == false` means the deadline passed.
#[derive(Debug, Clone, Serialize)]
pub struct DrainReport {
    pub complete: bool,
    pub connections_left: u64,
    pub elapsed_ms: u128,
    pub deadline_ms: u128,
    pub left: Vec<Left>,
}

impl DrainReport {
    pub fn describe(&self) -> String {
        let per: Vec<String> = self
            .left
            .iter()
            .filter(|l| l.connections > 0)
            .map(|l| {
                let what = match &l.server {
                    Some(s) => format!("{}/{s}", l.backend),
                    None => l.backend.clone(),
                };
                format!("{what} on {}: {}", l.target, l.connections)
            })
            .collect();
        if self.complete {
            format!("drained in {:.1}s", self.elapsed_ms as f64 / 1000.0)
        } else {
            format!(
                "{} connection(s) still open after {:.1}s (deadline {:.1}s): {}",
                self.connections_left,
                self.elapsed_ms as f64 / 1000.0,
                self.deadline_ms as f64 / 1000.0,
                per.join(", ")
            )
        }
    }
}

/// Polls until every watched backend/server has zero in-flight connections.
pub fn wait_drained(
    watches: &[Watch],
    deadline: Duration,
    interval: Duration,
    progress: &mut Progress,
) -> Result<DrainReport, CtlError> {
    let waited = poll(deadline, interval, progress, || {
        let mut left = Vec::with_capacity(watches.len());
        for w in watches {
            left.push(Left {
                target: w.client.target().clone(),
                backend: w.backend.clone(),
                server: w.server.clone(),
                connections: in_flight(&w.client, &w.backend, w.server.as_deref())?,
            });
        }
        let total: u64 = left.iter().map(|l| l.connections).sum();
        if total == 0 {
            return Ok(Polled::Done(left));
        }
        let names: Vec<String> = watches.iter().map(Watch::label).collect();
        let text = format!("draining {}: {total} connection(s) left", names.join(", "));
        Ok(Polled::Pending(left, text))
    })?;
    Ok(DrainReport {
        complete: waited.done,
        connections_left: waited.value.iter().map(|l| l.connections).sum(),
        elapsed_ms: waited.elapsed.as_millis(),
        deadline_ms: deadline.as_millis(),
        left: waited.value,
    })
}
