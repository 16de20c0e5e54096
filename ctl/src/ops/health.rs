//! "Is it UP?" — counted from `show stat <backend> 4 -1`, where only the exact status
//! `UP` counts (not `UP 1/3`, `DRAIN`, `NOLB`, `MAINT`, `DOWN`, `no check`), and only
//! once a health check has confirmed it (not while the check status is `INI`).

use crate::error::CtlError;
use crate::fleet::server_rows;
use crate::ops::waiting::{poll, Polled, Waited};
use crate::parse::StatRow;
use crate::progress::Progress;
use crate::runtime::Client;
use crate::target::Target;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct ServerState {
    pub name: String,
    pub status: String,
}

/// The servers of one backend on one target.
#[derive(Debug, Clone, Serialize)]
pub struct BackendHealth {
    pub target: Target,
    pub backend: String,
    pub up: usize,
    pub total: usize,
    pub servers: Vec<ServerState>,
}

impl BackendHealth {
    /// `be_green: 1/2 UP (g1 UP, g2 DOWN 1/2)`.
    pub fn describe(&self) -> String {
        let list: Vec<String> = self
            .servers
            .iter()
            .map(|s| format!("{} {}", s.name, s.status))
            .collect();
        let list = if list.is_empty() {
            "no servers".to_owned()
        } else {
            list.join(", ")
        };
        format!("{}: {}/{} UP ({list})", self.backend, self.up, self.total)
    }
}

/// The status as judged here: `UP (never checked)` for an `UP` that no check confirmed.
fn shown_status(row: &StatRow) -> String {
    if row.status == "UP" && row.never_checked() {
        "UP (never checked)".to_owned()
    } else {
        row.status.clone()
    }
}

pub fn backend_health(client: &Client, backend: &str) -> Result<BackendHealth, CtlError> {
    let rows = server_rows(client, backend)?;
    Ok(BackendHealth {
        target: client.target().clone(),
        backend: backend.to_owned(),
        up: rows.iter().filter(|r| r.is_strictly_up()).count(),
        total: rows.len(),
        servers: rows
            .into_iter()
            .map(|r| ServerState {
                status: shown_status(&r),
                name: r.name,
            })
            .collect(),
    })
}

/// Waits until every `(target, backend)` pair has at least `min_up` servers `UP`.
pub fn wait_backends_up(
    wanted: &[(Client, String)],
    min_up: usize,
    timeout: Duration,
    interval: Duration,
    progress: &mut Progress,
) -> Result<Waited<Vec<BackendHealth>>, CtlError> {
    poll(timeout, interval, progress, || {
        let mut all = Vec::with_capacity(wanted.len());
        for (client, backend) in wanted {
            all.push(backend_health(client, backend)?);
        }
        if all.iter().all(|h| h.up >= min_up) {
            return Ok(Polled::Done(all));
        }
        let short: Vec<String> = all
            .iter()
            .map(|h| format!("{} on {} {}/{} UP", h.backend, h.target, h.up, h.total))
            .collect();
        let text = format!("waiting for {min_up} UP: {}", short.join(", "));
        Ok(Polled::Pending(all, text))
    })
}

/// The status of one server on one target.
pub fn server_status(client: &Client, backend: &str, server: &str) -> Result<String, CtlError> {
    let rows = server_rows(client, backend)?;
    rows.into_iter()
        .find(|r| r.name == server)
        .map(|r| shown_status(&r))
        .ok_or_else(|| {
            client.refusal(
                &format!("show stat {backend} 4 -1"),
                &format!("No such server. ({backend}/{server})"),
            )
        })
}

/// Waits until `backend/server` is exactly `UP` on every target.
pub fn wait_server_up(
    clients: &[Client],
    backend: &str,
    server: &str,
    timeout: Duration,
    interval: Duration,
    progress: &mut Progress,
) -> Result<Waited<Vec<(Target, String)>>, CtlError> {
    poll(timeout, interval, progress, || {
        let mut all = Vec::with_capacity(clients.len());
        for client in clients {
            all.push((
                client.target().clone(),
                server_status(client, backend, server)?,
            ));
        }
        if all.iter().all(|(_, s)| s == "UP") {
            return Ok(Polled::Done(all));
        }
        let short: Vec<String> = all.iter().map(|(t, s)| format!("{t} {s}")).collect();
        let text = format!("waiting for {backend}/{server} UP: {}", short.join(", "));
        Ok(Polled::Pending(all, text))
    })
}
