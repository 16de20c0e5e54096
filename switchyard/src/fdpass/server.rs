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
use switchyard_config::CliLevel;
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
    stats: Mutex<Vec<OwnedFd>>,
    /// A successor asked for the sockets: they are its now too.
    handed_over: AtomicBool,
}

impl FdSource {
    pub fn new(listeners: Arc<ListenerSet>, stats: Vec<OwnedFd>) -> FdSource {
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
        let mut stats = self
            .stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut ours = Vec::new();
        if !self.handed_over.load(Ordering::SeqCst) {
            if let Some(Ok(frontends)) = self.listeners.with(|l| l.to_fds()) {
                ours.extend(frontends.into_iter().map(|(_, fd)| fd));
            }
            ours.extend(stats.iter().filter_map(|f| f.try_clone().ok()));
        }
        self.listeners.close();
        stats.clear();
        ours
    }

    fn collect(&self) -> io::Result<Vec<OwnedFd>> {
        let frontends = self.listeners.with(|l| l.to_fds()).unwrap_or(Ok(Vec::new()))?;
        let mut out: Vec<OwnedFd> = frontends.into_iter().map(|(_, fd)| fd).collect();
        let stats = self
            .stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for s in stats.iter() {
            out.push(s.try_clone()?);
        }
        Ok(out)
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
    let fds = source.collect()?;
    source.handed_over.store(true, Ordering::SeqCst);
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
