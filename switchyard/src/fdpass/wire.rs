//! HAProxy's `_getsocks` exchange over a UNIX stream socket (2.3+ layout,
//! `_getsocks` in cli.c and `sock_get_old_sockets` in sock.c):
//!
//! 1. the new process sends `_getsocks\n`;
//! 2. the old one answers the number of descriptors as a native `int`;
//! 3. then batches of at most 253 descriptors, each an `SCM_RIGHTS`
//!    message whose data holds, per descriptor, a namespace name and an
//!    interface name (each a length byte, then the bytes) and 4 zero bytes;
//! 4. the new process acknowledges each batch with a native `int` (HAProxy
//!    2.6 waits for it after full batches only, later versions after each).
//!
//! Descriptors are received as `OwnedFd` through rustix's safe `recvmsg`
//! (the workspace forbids unsafe code, and nix hands received descriptors
//! out as raw integers).

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::net::{
    recvmsg, sendmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

/// The command, as HAProxy's client sends it.
pub const COMMAND: &str = "_getsocks";

/// HAProxy's `MAX_SEND_FD`.
const MAX_SEND_FD: usize = 253;

/// Bytes of per-descriptor data we send: no namespace, no interface, the
/// four bytes that used to carry listener options.
const INFO_LEN: usize = 1 + 1 + 4;

/// The most per-descriptor data a peer may send (HAProxy's bound:
/// `1 + MAXPATHLEN + 1 + IFNAMSIZ + sizeof(int)`).
const MAX_INFO_LEN: usize = 1 + 4096 + 1 + 16 + 4;

fn cmsg_space() -> [MaybeUninit<u8>; rustix::cmsg_space!(ScmRights(MAX_SEND_FD))] {
    [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_SEND_FD))]
}

/// Old process: answer a `_getsocks` already read from `sock` with `fds`.
pub fn send_fds(mut sock: &UnixStream, fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    let count = i32::try_from(fds.len()).map_err(io::Error::other)?;
    sock.write_all(&count.to_ne_bytes())?;
    for batch in fds.chunks(MAX_SEND_FD) {
        let info = vec![0u8; batch.len() * INFO_LEN];
        let mut space = cmsg_space();
        let mut cmsg = SendAncillaryBuffer::new(&mut space);
        if !cmsg.push(SendAncillaryMessage::ScmRights(batch)) {
            return Err(io::Error::other("descriptor batch too large"));
        }
        let sent = sendmsg(sock, &[IoSlice::new(&info)], &mut cmsg, SendFlags::empty())?;
        if sent != info.len() {
            return Err(io::Error::other("short write while passing sockets"));
        }
        let mut ack = [0u8; 4];
        sock.read_exact(&mut ack)?;
    }
    Ok(())
}

/// New process: ask for the sockets and receive every descriptor.
pub fn request_fds(mut sock: &UnixStream) -> io::Result<Vec<OwnedFd>> {
    sock.write_all(format!("{COMMAND}\n").as_bytes())?;
    let mut count = [0u8; 4];
    sock.read_exact(&mut count)?;
    let expected = usize::try_from(i32::from_ne_bytes(count))
        .map_err(|_| io::Error::other("negative socket count"))?;
    let mut got: Vec<OwnedFd> = Vec::with_capacity(expected);
    let mut info = vec![0u8; MAX_SEND_FD * MAX_INFO_LEN];
    while got.len() < expected {
        let mut space = cmsg_space();
        let mut cmsg = RecvAncillaryBuffer::new(&mut space);
        let msg = recvmsg(
            sock,
            &mut [IoSliceMut::new(&mut info)],
            &mut cmsg,
            RecvFlags::CMSG_CLOEXEC,
        )?;
        if msg.bytes == 0 {
            break;
        }
        // The old process waits for this before sending the next batch.
        // HAProxy 2.6 does not wait after the last one and may have closed
        // already, so, as its own client does, a failed ack is ignored.
        let ack = i32::try_from(got.len()).unwrap_or(i32::MAX);
        let _ = sock.write_all(&ack.to_ne_bytes());
        for m in cmsg.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = m {
                got.extend(fds);
            }
        }
        if got.len() > expected {
            return Err(io::Error::other("got too many sockets"));
        }
    }
    if got.len() != expected {
        return Err(io::Error::other(format!(
            "expected {expected} sockets, got {}",
            got.len()
        )));
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn passes_descriptors_across_a_socket_pair() {
        let (old, new) = UnixStream::pair().expect("pair");
        // 300 descriptors: two batches, each acknowledged.
        let listeners: Vec<std::net::TcpListener> = (0..300)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let want: Vec<_> = listeners
            .iter()
            .map(|l| l.local_addr().expect("addr"))
            .collect();
        let server = std::thread::spawn(move || {
            let mut cmd = [0u8; 10];
            (&old).read_exact(&mut cmd).expect("command");
            assert_eq!(&cmd, b"_getsocks\n");
            let fds: Vec<BorrowedFd<'_>> = listeners.iter().map(|l| l.as_fd()).collect();
            send_fds(&old, &fds).expect("send");
        });
        let got = request_fds(&new).expect("receive");
        server.join().expect("server thread");
        let addrs: Vec<_> = got
            .into_iter()
            .map(|fd| std::net::TcpListener::from(fd).local_addr().expect("addr"))
            .collect();
        assert_eq!(addrs, want);
    }

    #[test]
    fn zero_sockets() {
        let (old, new) = UnixStream::pair().expect("pair");
        let server = std::thread::spawn(move || {
            let mut cmd = [0u8; 10];
            (&old).read_exact(&mut cmd).expect("command");
            send_fds(&old, &[]).expect("send");
        });
        assert!(request_fds(&new).expect("receive").is_empty());
        server.join().expect("server thread");
    }
}
