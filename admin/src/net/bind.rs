//! Binding the `stats socket`s synchronously (the binary binds before it
//! drops privileges): TCP (`ipv4@`, `ipv6@`, `addr:port`) and UNIX sockets
//! with `mode`, `uid`/`gid`, `user`/`group`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use switchyard_config::{CliLevel, Config, ListenAddr, StatsSocket};

/// Why the admin server could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot bind stats socket {addr} ({location}): {source}")]
    Bind {
        addr: String,
        location: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set permissions of stats socket {path}: {source}")]
    Permissions {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("unknown user or group '{0}' for a stats socket")]
    UnknownOwner(String),
    #[error("stats socket I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// A bound listener, not yet attached to a runtime.
#[derive(Debug)]
pub enum StdListener {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
}

/// One bound `stats socket`.
#[derive(Debug)]
pub struct BoundSocket {
    pub listener: StdListener,
    pub level: CliLevel,
    /// The address actually bound (a TCP port 0 is resolved).
    pub addr: ListenAddr,
}

/// Every bound `stats socket`, in config order.
#[derive(Debug, Default)]
pub struct AdminListeners {
    pub sockets: Vec<BoundSocket>,
}

impl AdminListeners {
    /// The addresses and levels, for `show cli sockets`.
    pub fn describe(&self) -> Vec<(ListenAddr, CliLevel)> {
        self.sockets
            .iter()
            .map(|s| (s.addr.clone(), s.level))
            .collect()
    }
}

/// Bind every `stats socket` of `config`.
pub fn bind_sockets(config: &Config) -> Result<AdminListeners, AdminError> {
    let mut out = AdminListeners::default();
    for s in &config.global.stats_sockets {
        out.sockets.push(bind_one(s)?);
    }
    Ok(out)
}

fn bind_err(s: &StatsSocket, e: std::io::Error) -> AdminError {
    AdminError::Bind {
        addr: s.addr.to_string(),
        location: s.location.to_string(),
        source: e,
    }
}

/// Bind one socket.
pub fn bind_one(s: &StatsSocket) -> Result<BoundSocket, AdminError> {
    match &s.addr {
        ListenAddr::Tcp(a) => {
            let l = std::net::TcpListener::bind(a).map_err(|e| bind_err(s, e))?;
            l.set_nonblocking(true).map_err(|e| bind_err(s, e))?;
            let actual = l.local_addr().map_err(|e| bind_err(s, e))?;
            Ok(BoundSocket {
                listener: StdListener::Tcp(l),
                level: s.level,
                addr: ListenAddr::Tcp(actual),
            })
        }
        ListenAddr::Unix(path) => {
            remove_stale(path);
            let l = std::os::unix::net::UnixListener::bind(path).map_err(|e| bind_err(s, e))?;
            l.set_nonblocking(true).map_err(|e| bind_err(s, e))?;
            if let Some(mode) = s.mode {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(
                    |e| AdminError::Permissions {
                        path: path.clone(),
                        source: e,
                    },
                )?;
            }
            set_owner(s, path)?;
            Ok(BoundSocket {
                listener: StdListener::Unix(l),
                level: s.level,
                addr: s.addr.clone(),
            })
        }
    }
}

/// A socket file left by a previous run would make `bind` fail; HAProxy
/// replaces it too. Only sockets are removed, never other files.
fn remove_stale(path: &Path) {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(md) = std::fs::symlink_metadata(path) {
        if md.file_type().is_socket() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `uid`/`gid`/`user`/`group`: applied when running as root (others cannot
/// give files away).
fn set_owner(s: &StatsSocket, path: &Path) -> Result<(), AdminError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let uid = match (&s.uid, &s.user) {
        (Some(u), _) => Some(*u),
        (None, Some(name)) => Some(
            nix::unistd::User::from_name(name)
                .ok()
                .flatten()
                .ok_or_else(|| AdminError::UnknownOwner(name.clone()))?
                .uid
                .as_raw(),
        ),
        _ => None,
    };
    let gid = match (&s.gid, &s.group) {
        (Some(g), _) => Some(*g),
        (None, Some(name)) => Some(
            nix::unistd::Group::from_name(name)
                .ok()
                .flatten()
                .ok_or_else(|| AdminError::UnknownOwner(name.clone()))?
                .gid
                .as_raw(),
        ),
        _ => None,
    };
    if uid.is_some() || gid.is_some() {
        std::os::unix::fs::chown(path, uid, gid).map_err(|e| AdminError::Permissions {
            path: path.into(),
            source: e,
        })?;
    }
    Ok(())
}
