//! `-x <socket>`: fetch the listening sockets of the old process and name
//! each by the address it is bound to (what HAProxy does with
//! `getsockname`), so the new configuration adopts the ones it still wants.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use socket2::{Socket, Type};
use switchyard_config::ListenAddr;

use super::wire;

/// How long the old process may take to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Every listening socket the old process serving `path` hands over.
pub fn fetch(path: &Path) -> io::Result<Vec<(ListenAddr, OwnedFd)>> {
    let sock = UnixStream::connect(path)?;
    sock.set_read_timeout(Some(TIMEOUT))?;
    sock.set_write_timeout(Some(TIMEOUT))?;
    let fds = wire::request_fds(&sock)?;
    Ok(fds.into_iter().filter_map(identify).collect())
}

/// The address a received socket listens on; `None` (and the descriptor
/// closed) for anything that is not a listening stream socket.
pub fn identify(fd: OwnedFd) -> Option<(ListenAddr, OwnedFd)> {
    let sock = Socket::from(fd);
    if sock.r#type().ok()? != Type::STREAM || !sock.is_listener().ok()? {
        return None;
    }
    let local = sock.local_addr().ok()?;
    let addr = match (local.as_socket(), local.as_pathname()) {
        (Some(sa), _) => ListenAddr::Tcp(sa),
        (None, Some(p)) => ListenAddr::Unix(without_tmp_suffix(p)),
        (None, None) => return None,
    };
    Some((addr, sock.into()))
}

/// HAProxy binds a UNIX socket as `<path>.<pid>.tmp` and renames it, so
/// the name its sockets report carries that suffix.
fn without_tmp_suffix(p: &Path) -> PathBuf {
    let text = p.to_string_lossy();
    if let Some(stem) = text.strip_suffix(".tmp") {
        if let Some((path, pid)) = stem.rsplit_once('.') {
            if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
                return PathBuf::from(path);
            }
        }
    }
    p.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haproxy_temporary_names() {
        assert_eq!(
            without_tmp_suffix(Path::new("/run/haproxy/admin.sock.1234.tmp")),
            PathBuf::from("/run/haproxy/admin.sock")
        );
        assert_eq!(
            without_tmp_suffix(Path::new("/run/a.tmp")),
            PathBuf::from("/run/a.tmp")
        );
        assert_eq!(
            without_tmp_suffix(Path::new("/run/a.sock")),
            PathBuf::from("/run/a.sock")
        );
    }

    #[test]
    fn identifies_tcp_and_unix_listeners_only() {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let want = tcp.local_addr().expect("addr");
        let (addr, _) = identify(OwnedFd::from(tcp)).expect("tcp listener");
        assert_eq!(addr, ListenAddr::Tcp(want));

        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("s.sock");
        let unix = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let (addr, _) = identify(OwnedFd::from(unix)).expect("unix listener");
        assert_eq!(addr, ListenAddr::Unix(path));

        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
        assert!(identify(OwnedFd::from(udp)).is_none());
        let (a, _b) = UnixStream::pair().expect("pair");
        assert!(identify(OwnedFd::from(a)).is_none());
    }
}
