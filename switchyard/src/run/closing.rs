//! Waiting until the kernel has really closed our TCP listening sockets.
//!
//! A soft stop must take them out of their SO_REUSEPORT group before the
//! idle keep-alive connections are closed: otherwise the clients'
//! reconnections are spread over a socket that no longer accepts, and are
//! reset when it closes. Dropping our descriptors closes a socket only once
//! the proxy's accept loops have let go of theirs too, so we watch the
//! socket's inode leave the kernel's table of listening sockets.

use std::collections::HashSet;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// The inodes of the TCP sockets among `fds`.
pub fn tcp_inodes(fds: &[OwnedFd]) -> Vec<u64> {
    fds.iter()
        .filter(|fd| {
            socket2::SockRef::from(*fd)
                .local_addr()
                .is_ok_and(|a| a.as_socket().is_some())
        })
        .filter_map(|fd| nix::sys::stat::fstat(fd.as_raw_fd()).ok())
        .map(|st| st.st_ino)
        .collect()
}

/// Resolves once none of `inodes` listens any more, or after `within`.
pub async fn gone(inodes: Vec<u64>, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let listening = listening_inodes();
        if !inodes.iter().any(|i| listening.contains(i)) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Inodes of this network namespace's listening TCP sockets.
fn listening_inodes() -> HashSet<u64> {
    let mut out = HashSet::new();
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // `st` 0A is LISTEN; the inode is the tenth column.
            if f.len() > 9 && f[3] == "0A" {
                if let Ok(ino) = f[9].parse() {
                    out.insert(ino);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sees_a_listener_close() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let fd = OwnedFd::from(l);
        let inodes = tcp_inodes(std::slice::from_ref(&fd));
        assert_eq!(inodes.len(), 1);
        assert!(!gone(inodes.clone(), Duration::from_millis(20)).await);
        drop(fd);
        assert!(gone(inodes, Duration::from_secs(1)).await);
    }
}
