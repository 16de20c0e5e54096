//! The old process's side of a binary upgrade: on a `stats socket` with
//! `expose-fd listeners`, a connection whose first line is `_getsocks`
//! receives every listening socket (frontends and stats sockets); any other
//! connection is an ordinary Runtime API session.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchyard_admin::Env;
use switchyard_config::{CliLevel, ListenAddr};
use switchyard_state::events;
use tokio::io::AsyncReadExt;
use tokio::net::UnixStream;

use super::prefixed::Prefixed;
use super::wire;
use crate::listener_set::ListenerSet;

/// The longest first line we look at: `_getsocks` is short, anything
/// longer is a command for the Runtime API.
const SNIFF_MAX: usize = 64;

/// How long the new process may take to acknowledge a batch.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// What a `_getsocks` hands over: the sockets of the configuration being
/// served now (they change with reloads) and the stats sockets.
pub struct FdSource {
    listeners: Arc<ListenerSet>,
    /// The stats sockets, by configured address.
    stats: Mutex<Vec<(ListenAddr, OwnedFd)>>,
    /// A successor asked for the sockets: they are its now too.
    handed_over: AtomicBool,
}

impl FdSource {
    pub fn new(listeners: Arc<ListenerSet>, stats: Vec<(ListenAddr, OwnedFd)>) -> FdSource {
        FdSource {
            listeners,
            stats: Mutex::new(stats),
            handed_over: AtomicBool::new(false),
        }
    }

    /// A stopping process keeps no socket open (see [`ListenerSet`]): drop
    /// our copies. Returns duplicates of the sockets nobody took over
    /// (none once a successor has them: they are its sockets now), so the
    /// caller can tell when the kernel has closed them.
    pub fn close(&self) -> Vec<OwnedFd> {
        let handed_over = self.handed_over.load(Ordering::SeqCst);
        let mut ours = Vec::new();
        // One lock at a time (a reload holds the listener set while it
        // takes the stats sockets).
        if let Some(frontends) = self.listeners.take() {
            if let (false, Ok(fds)) = (handed_over, frontends.to_fds()) {
                ours.extend(fds.into_iter().map(|(_, fd)| fd));
            }
        }
        let mut stats = self
            .stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !handed_over {
            ours.extend(stats.iter().filter_map(|(_, f)| f.try_clone().ok()));
        }
        stats.clear();
        ours
    }

    /// Whether a successor asked for the sockets (`-x`): they are shared
    /// with it, and must keep listening when we stop.
    pub fn handed_over(&self) -> bool {
        self.handed_over.load(Ordering::SeqCst)
    }

    fn collect(&self) -> io::Result<Vec<OwnedFd>> {
        let frontends = self
            .listeners
            .with(|l| l.to_fds())
            .unwrap_or(Ok(Vec::new()))?;
        let mut out: Vec<OwnedFd> = frontends.into_iter().map(|(_, fd)| fd).collect();
        let stats = self
            .stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (_, s) in stats.iter() {
            out.push(s.try_clone()?);
        }
        Ok(out)
    }

    /// Duplicates of the stats sockets (a reload keeps the unchanged ones).
    pub fn stats_sockets(&self) -> io::Result<Vec<(ListenAddr, OwnedFd)>> {
        let stats = self
            .stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        stats
            .iter()
            .map(|(a, fd)| Ok((a.clone(), fd.try_clone()?)))
            .collect()
    }

    /// The stats sockets of a reloaded configuration.
    pub fn set_stats_sockets(&self, next: Vec<(ListenAddr, OwnedFd)>) {
        *self
            .stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = next;
    }
}

/// Serve one connection accepted on an `expose-fd listeners` socket.
pub async fn serve_connection(
    mut stream: UnixStream,
    level: CliLevel,
    env: Arc<Env>,
    timeout: Duration,
    source: Arc<FdSource>,
) {
    let mut head = Vec::new();
    let _ = tokio::time::timeout(timeout, read_first_line(&mut stream, &mut head)).await;
    let first = head.split(|b| *b == b'\n').next().unwrap_or_default();
    if first == wire::COMMAND.as_bytes() && head.contains(&b'\n') {
        if let Err(e) = hand_over(stream, &source).await {
            events::warning(&format!("Failed to transfer sockets: {e}"));
        }
        return;
    }
    switchyard_admin::handle(Prefixed::new(head, stream), level, env, timeout).await;
}

/// Read until a newline, `SNIFF_MAX` bytes, or the end of the stream.
async fn read_first_line(stream: &mut UnixStream, head: &mut Vec<u8>) {
    let mut buf = [0u8; SNIFF_MAX];
    while head.len() < SNIFF_MAX && !head.contains(&b'\n') {
        match stream.read(&mut buf[..SNIFF_MAX - head.len()]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

async fn hand_over(stream: UnixStream, source: &FdSource) -> io::Result<()> {
    // Before taking the copies: a stop that no longer sees the flag
    // cleared cannot have missed a socket handed over.
    source.handed_over.store(true, Ordering::SeqCst);
    let fds = source.collect()?;
    let sock = stream.into_std()?;
    sock.set_nonblocking(false)?;
    sock.set_read_timeout(Some(ACK_TIMEOUT))?;
    sock.set_write_timeout(Some(ACK_TIMEOUT))?;
    tokio::task::spawn_blocking(move || {
        let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(|f| f.as_fd()).collect();
        wire::send_fds(&sock, &borrowed)
    })
    .await
    .map_err(io::Error::other)?
}
