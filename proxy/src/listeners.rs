//! Listening sockets, bound synchronously (before privileges are dropped) and
//! kept across reloads: a reload keeps every socket whose address is
//! unchanged, so no connection is refused while the new config takes over.

use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use socket2::{Domain, Protocol, Socket, Type};
use switchyard_config::{Bind, ListenAddr};
use switchyard_state::Snapshot;

use crate::error::ProxyError;

/// HAProxy's default listen backlog when neither `backlog` nor `maxconn`
/// says otherwise is the frontend maxconn; we use a generous fixed value.
const BACKLOG: i32 = 1024;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The socket itself.
#[derive(Debug)]
pub(crate) enum Sock {
    Tcp(std::net::TcpListener),
    Unix(UnixListener),
}

/// One bound listening socket and the frontend it feeds.
#[derive(Debug)]
pub struct BoundListener {
    /// Unique for the life of the process; a kept listener keeps its id.
    pub(crate) id: u64,
    frontend: Arc<str>,
    /// The address as configured (port 0 stays 0): the identity across reloads.
    configured: ListenAddr,
    /// The address actually bound (port 0 resolved).
    local: ListenAddr,
    bind: Bind,
    pub(crate) sock: Sock,
}

impl BoundListener {
    /// The frontend (or listen section) this socket belongs to.
    pub fn frontend(&self) -> &str {
        &self.frontend
    }
    /// The same name, shared (each connection keeps it without a copy).
    pub(crate) fn frontend_arc(&self) -> Arc<str> {
        self.frontend.clone()
    }
    /// The address as written in the config.
    pub fn configured_addr(&self) -> &ListenAddr {
        &self.configured
    }
    /// The address actually bound (a configured port 0 is resolved here).
    pub fn local_addr(&self) -> &ListenAddr {
        &self.local
    }
    /// The `bind` line this socket was opened for.
    pub fn bind_cfg(&self) -> &Bind {
        &self.bind
    }

    /// A duplicate of the socket's file descriptor.
    pub fn dup_fd(&self) -> std::io::Result<OwnedFd> {
        match &self.sock {
            Sock::Tcp(l) => l.as_fd().try_clone_to_owned(),
            Sock::Unix(l) => l.as_fd().try_clone_to_owned(),
        }
    }
}

/// Every listening socket of the current configuration. Cloning is cheap (the
/// sockets are shared); the binary keeps one copy for reloads and hands one
/// to [`crate::Proxy::serve`] / [`crate::Proxy::set_listeners`].
#[derive(Debug, Clone, Default)]
pub struct Listeners {
    list: Vec<Arc<BoundListener>>,
}

impl Listeners {
    /// No sockets.
    pub fn empty() -> Listeners {
        Listeners::default()
    }

    /// Bind every `bind` of every enabled frontend/listen section in the
    /// snapshot: TCP sockets with SO_REUSEADDR and SO_REUSEPORT,
    /// nonblocking; `[::]` is dual-stack unless `v6only`; `unix@` paths are
    /// (re)created with the bind's `mode`. Nothing stays bound on error.
    pub fn bind(snapshot: &Snapshot) -> Result<Listeners, ProxyError> {
        Self::from_fds(snapshot, Vec::new())
    }

    /// Like [`Listeners::bind`], but reuse inherited sockets whose configured
    /// address matches (a binary upgrade passing sockets between processes);
    /// unmatched inherited sockets are closed.
    pub fn from_fds(
        snapshot: &Snapshot,
        fds: Vec<(ListenAddr, OwnedFd)>,
    ) -> Result<Listeners, ProxyError> {
        let mut inherited = fds;
        let mut list = Vec::new();
        for (fe, bind) in wanted(snapshot) {
            let pos = inherited.iter().position(|(a, _)| *a == bind.addr);
            let bl = match pos {
                Some(i) => {
                    let (_, fd) = inherited.swap_remove(i);
                    adopt(fe, bind, fd)?
                }
                None => open(fe, bind)?,
            };
            list.push(Arc::new(bl));
        }
        Ok(Listeners { list })
    }

    /// Duplicates of every socket with its configured address, for passing to
    /// another process (`-x`-style upgrade). The sockets stay open here.
    pub fn to_fds(&self) -> std::io::Result<Vec<(ListenAddr, OwnedFd)>> {
        self.list
            .iter()
            .map(|l| Ok((l.configured.clone(), l.dup_fd()?)))
            .collect()
    }

    /// Give up these sockets as file descriptors (duplicated when another
    /// copy of this `Listeners` still shares them).
    pub fn into_fds(self) -> std::io::Result<Vec<(ListenAddr, OwnedFd)>> {
        self.to_fds()
    }

    /// The actual bound addresses, in config order.
    pub fn addrs(&self) -> Vec<ListenAddr> {
        self.list.iter().map(|l| l.local.clone()).collect()
    }

    /// The sockets, in config order.
    pub fn iter(&self) -> impl Iterator<Item = &BoundListener> {
        self.list.iter().map(|l| &**l)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn shared(&self) -> &[Arc<BoundListener>] {
        &self.list
    }

    /// Bring the sockets in line with a new snapshot (a reload): keep those
    /// whose frontend and configured address are unchanged, bind new ones,
    /// and return the ones no longer wanted (drop them to close; connections
    /// already accepted on them are not affected). On error nothing changes.
    pub fn update(&mut self, snapshot: &Snapshot) -> Result<Listeners, ProxyError> {
        let mut old: Vec<Option<Arc<BoundListener>>> =
            self.list.iter().cloned().map(Some).collect();
        let mut next = Vec::new();
        for (fe, bind) in wanted(snapshot) {
            let same = old.iter_mut().find(|o| {
                o.as_ref()
                    .map(|l| l.configured == bind.addr && *l.frontend == *fe)
                    .unwrap_or(false)
            });
            if let Some(slot) = same.and_then(Option::take) {
                next.push(slot);
                continue;
            }
            // Same address moved to another frontend: share the socket.
            let moved = old
                .iter()
                .flatten()
                .find(|o| o.configured == bind.addr)
                .cloned();
            let bl = match moved {
                Some(m) => {
                    let fd = m
                        .dup_fd()
                        .map_err(|e| ProxyError::bind(fe, &bind.addr, e))?;
                    adopt(fe, bind, fd)?
                }
                None => open(fe, bind)?,
            };
            next.push(Arc::new(bl));
        }
        let removed: Vec<Arc<BoundListener>> = old.into_iter().flatten().collect();
        self.list = next;
        Ok(Listeners { list: removed })
    }
}

/// `(frontend, bind)` for every bind that should be open.
fn wanted(snapshot: &Snapshot) -> Vec<(&str, &Bind)> {
    let mut out = Vec::new();
    for p in &snapshot.proxies {
        if !p.kind.has_frontend() || p.cfg.disabled {
            continue;
        }
        if let Some(f) = &p.cfg.frontend {
            for b in &f.binds {
                out.push((&*p.name, b));
            }
        }
    }
    out
}

fn open(fe: &str, bind: &Bind) -> Result<BoundListener, ProxyError> {
    let err = |e| ProxyError::bind(fe, &bind.addr, e);
    let sock = match &bind.addr {
        ListenAddr::Tcp(a) => Sock::Tcp(bind_tcp(*a, bind).map_err(err)?),
        ListenAddr::Unix(p) => Sock::Unix(bind_unix(p, bind.mode).map_err(err)?),
    };
    finish(fe, bind, sock)
}

fn adopt(fe: &str, bind: &Bind, fd: OwnedFd) -> Result<BoundListener, ProxyError> {
    let sock = match &bind.addr {
        ListenAddr::Tcp(_) => Sock::Tcp(std::net::TcpListener::from(fd)),
        ListenAddr::Unix(_) => Sock::Unix(UnixListener::from(fd)),
    };
    let nb = match &sock {
        Sock::Tcp(l) => l.set_nonblocking(true),
        Sock::Unix(l) => l.set_nonblocking(true),
    };
    nb.map_err(|e| ProxyError::bind(fe, &bind.addr, e))?;
    finish(fe, bind, sock)
}

fn finish(fe: &str, bind: &Bind, sock: Sock) -> Result<BoundListener, ProxyError> {
    let local = match &sock {
        Sock::Tcp(l) => ListenAddr::Tcp(
            l.local_addr()
                .map_err(|e| ProxyError::bind(fe, &bind.addr, e))?,
        ),
        Sock::Unix(_) => bind.addr.clone(),
    };
    Ok(BoundListener {
        id: NEXT_ID.fetch_add(1, Relaxed),
        frontend: Arc::from(fe),
        configured: bind.addr.clone(),
        local,
        bind: bind.clone(),
        sock,
    })
}

fn bind_tcp(addr: SocketAddr, bind: &Bind) -> std::io::Result<std::net::TcpListener> {
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    // As HAProxy by default: a new process (`-sf`) can bind the same
    // address while the old one still listens, so no connection is refused.
    s.set_reuse_port(true)?;
    if addr.is_ipv6() {
        // HAProxy leaves the system default (dual-stack on Linux) unless
        // `v6only` is given; we make dual-stack explicit.
        s.set_only_v6(bind.v6only)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(BACKLOG)?;
    Ok(s.into())
}

fn bind_unix(path: &Path, mode: Option<u32>) -> std::io::Result<UnixListener> {
    // A stale socket file from a previous run would make bind fail.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_socket() {
            std::fs::remove_file(path)?;
        }
    }
    let l = UnixListener::bind(path)?;
    l.set_nonblocking(true)?;
    if let Some(m) = mode {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(m))?;
    }
    Ok(l)
}
