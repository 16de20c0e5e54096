//! An upstream HTTP/1 connection, driven by the request's own task: no
//! connection task and no channels between a request and its socket, so a
//! proxied request is one task's work from client read to client write.

use std::io::ErrorKind;
use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use tokio::net::TcpStream;

use crate::h1::Reader;

pub(crate) struct Conn {
    pub(crate) rd: Reader<TcpStream>,
}

/// How a write to the server went.
pub(crate) enum Wrote {
    All,
    /// The server sent something (or closed) before taking all of it: its
    /// response may already be on the way.
    Answered,
    /// The socket failed; `any` says whether some bytes went out first.
    Failed {
        any: bool,
    },
}

impl Conn {
    pub(crate) fn new(io: TcpStream) -> Conn {
        Conn {
            rd: Reader::new(io),
        }
    }

    pub(crate) fn io(&self) -> &TcpStream {
        self.rd.get_ref()
    }

    /// True unless the server closed (or sent something unasked) while the
    /// connection was idle. Costs no syscall when nothing happened: the
    /// runtime's cached readiness says so.
    pub(crate) fn is_alive(&mut self) -> bool {
        if !self.rd.buf.is_empty() {
            return false;
        }
        let mut cx = Context::from_waker(Waker::noop());
        match self.io().poll_read_ready(&mut cx) {
            Poll::Pending => true,
            Poll::Ready(Err(_)) => false,
            Poll::Ready(Ok(())) => {
                let mut b = BytesMut::with_capacity(1);
                matches!(self.io().try_read_buf(&mut b), Err(e) if e.kind() == ErrorKind::WouldBlock)
            }
        }
    }

    /// Drop the read buffer while the connection sits idle.
    pub(crate) fn release(&mut self) {
        self.rd.release();
    }

    /// Write all of `buf`, stopping early if the server starts answering.
    pub(crate) async fn write(&mut self, mut buf: &[u8]) -> Wrote {
        let mut any = false;
        while !buf.is_empty() {
            match self.io().try_write(buf) {
                Ok(n) => {
                    any = true;
                    buf = &buf[n..];
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let io = self.io();
                    let readable = tokio::select! {
                        biased;
                        r = io.writable() => match r {
                            Ok(()) => false,
                            Err(_) => return Wrote::Failed { any },
                        },
                        _ = io.readable() => true,
                    };
                    if readable && self.answered() {
                        return Wrote::Answered;
                    }
                }
                Err(_) => return Wrote::Failed { any },
            }
        }
        Wrote::All
    }

    /// After a readable event: did the server really send something (or
    /// close)? A stale readiness reads nothing and is cleared.
    pub(crate) fn answered(&mut self) -> bool {
        !matches!(self.rd.try_fill(), Err(e) if e.kind() == ErrorKind::WouldBlock)
    }
}
