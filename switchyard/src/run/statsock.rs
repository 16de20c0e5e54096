//! Binding the `stats socket`s: TCP ones with SO_REUSEPORT (as HAProxy
//! does, so a new process started with `-sf` can bind the same port while
//! the old one still listens), UNIX ones through the admin crate, and any
//! socket inherited through `-x` adopted as it is.

use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};

use socket2::{Domain, Protocol, Socket, Type};
use switchyard_admin::{bind_one, AdminError, BoundSocket, StdListener};
use switchyard_config::{Config, ListenAddr, StatsSocket};

/// One bound stats socket and whether it hands sockets over (`_getsocks`).
pub struct StatsListener {
    pub socket: BoundSocket,
    pub expose_fd: bool,
    /// The address as configured (a TCP port 0 stays 0): its identity
    /// across reloads.
    pub configured: ListenAddr,
}

/// Bind every stats socket of `config`, taking the matching inherited
/// sockets out of `inherited` (those of an old process at startup, our own
/// on a reload, so an unchanged socket is never closed and reopened).
pub fn bind(
    config: &Config,
    inherited: &mut Vec<(ListenAddr, OwnedFd)>,
) -> Result<Vec<StatsListener>, AdminError> {
    let mut out = Vec::new();
    for s in &config.global.stats_sockets {
        let adopted = inherited
            .iter()
            .position(|(a, _)| *a == s.addr)
            .map(|i| inherited.swap_remove(i).1);
        let socket = match adopted {
            Some(fd) => adopt(s, fd)?,
            None => match &s.addr {
                ListenAddr::Tcp(a) => bind_tcp(s, *a)?,
                ListenAddr::Unix(_) => bind_one(s)?,
            },
        };
        out.push(StatsListener {
            socket,
            expose_fd: s.expose_fd_listeners,
            configured: s.addr.clone(),
        });
    }
    Ok(out)
}

/// Duplicates of the sockets with their configured addresses, for a
/// successor's `_getsocks` and for the next reload.
pub fn dup_fds(sockets: &[StatsListener]) -> std::io::Result<Vec<(ListenAddr, OwnedFd)>> {
    sockets
        .iter()
        .map(|s| {
            let fd = match &s.socket.listener {
                StdListener::Tcp(l) => l.as_fd().try_clone_to_owned(),
                StdListener::Unix(l) => l.as_fd().try_clone_to_owned(),
            }?;
            Ok((s.configured.clone(), fd))
        })
        .collect()
}

fn bind_err(s: &StatsSocket) -> impl Fn(std::io::Error) -> AdminError + '_ {
    move |e| AdminError::Bind {
        addr: s.addr.to_string(),
        location: s.location.to_string(),
        source: e,
    }
}

fn bind_tcp(s: &StatsSocket, addr: SocketAddr) -> Result<BoundSocket, AdminError> {
    let open = || -> std::io::Result<std::net::TcpListener> {
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        sock.set_reuse_address(true)?;
        sock.set_reuse_port(true)?;
        sock.set_nonblocking(true)?;
        sock.bind(&addr.into())?;
        sock.listen(128)?;
        Ok(sock.into())
    };
    let l = open().map_err(bind_err(s))?;
    let actual = l.local_addr().map_err(bind_err(s))?;
    Ok(BoundSocket {
        listener: StdListener::Tcp(l),
        level: s.level,
        addr: ListenAddr::Tcp(actual),
    })
}

fn adopt(s: &StatsSocket, fd: OwnedFd) -> Result<BoundSocket, AdminError> {
    let listener = match &s.addr {
        ListenAddr::Tcp(_) => {
            let l = std::net::TcpListener::from(fd);
            l.set_nonblocking(true).map_err(bind_err(s))?;
            StdListener::Tcp(l)
        }
        ListenAddr::Unix(_) => {
            let l = std::os::unix::net::UnixListener::from(fd);
            l.set_nonblocking(true).map_err(bind_err(s))?;
            StdListener::Unix(l)
        }
    };
    Ok(BoundSocket {
        listener,
        level: s.level,
        addr: s.addr.clone(),
    })
}
