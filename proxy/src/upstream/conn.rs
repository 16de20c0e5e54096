//! An upstream HTTP/1 connection, driven by the request's own task: no
//! connection task and no channels between a request and its socket, so a
//! proxied request is one task's work from client read to client write.

use std::io::ErrorKind;
use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use super::interim::Interim;
use super::stream::{TlsConn, TlsRoute, UpIo};
use crate::h1::Reader;

pub(crate) struct Conn {
    pub(crate) rd: Reader<UpIo>,
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
            rd: Reader::new(UpIo::Plain(io)),
        }
    }

    pub(crate) fn new_tls(tls: TlsConn) -> Conn {
        Conn {
            rd: Reader::new(UpIo::Tls(Box::new(tls))),
        }
    }

    /// The TCP socket under the connection.
    pub(crate) fn tcp(&self) -> &TcpStream {
        self.rd.get_ref().tcp()
    }

    /// Whether this connection may carry a request routed with `want`
    /// (plain for `None`): never a TLS connection to a plain server, nor
    /// one opened with other TLS settings or another SNI.
    pub(crate) fn fits(&self, want: Option<&TlsRoute>) -> bool {
        match (self.rd.get_ref(), want) {
            (UpIo::Plain(_), None) => true,
            (UpIo::Tls(t), Some(w)) => t.route.same(w),
            _ => false,
        }
    }

    /// True unless the server closed (or sent something unasked) while the
    /// connection was idle. Costs no syscall when nothing happened: the
    /// runtime's cached readiness says so.
    pub(crate) fn is_alive(&mut self) -> bool {
        if !self.rd.buf.is_empty() {
            return false;
        }
        let mut cx = Context::from_waker(Waker::noop());
        match self.rd.get_ref() {
            UpIo::Plain(io) => match io.poll_read_ready(&mut cx) {
                Poll::Pending => true,
                Poll::Ready(Err(_)) => false,
                Poll::Ready(Ok(())) => {
                    let mut b = BytesMut::with_capacity(1);
                    matches!(io.try_read_buf(&mut b), Err(e) if e.kind() == ErrorKind::WouldBlock)
                }
            },
            // A TLS read may consume records that carry no data (a session
            // ticket); a close_notify or EOF ends it, data means the
            // server spoke unasked. A byte on the stack: no buffer needed.
            UpIo::Tls(_) => {
                let UpIo::Tls(t) = self.rd.get_mut() else {
                    return false;
                };
                let mut one = [0u8; 1];
                let mut rb = ReadBuf::new(&mut one);
                Pin::new(&mut t.stream)
                    .poll_read(&mut cx, &mut rb)
                    .is_pending()
            }
        }
    }

    /// Drop the read buffer while the connection sits idle.
    pub(crate) fn release(&mut self) {
        self.rd.release();
    }

    /// Wait until the socket is readable (the server may be answering).
    pub(crate) async fn readable(&self) -> std::io::Result<()> {
        self.tcp().readable().await
    }

    /// Write all of `buf`, stopping early if the server gives its final
    /// answer; interim responses on the way go to `interim`.
    pub(crate) async fn write(&mut self, buf: &[u8], interim: &mut Interim<'_>) -> Wrote {
        if let UpIo::Tls(t) = self.rd.get_mut() {
            return write_tls(t, buf).await;
        }
        self.write_plain(buf, interim).await
    }

    async fn write_plain(&mut self, mut buf: &[u8], interim: &mut Interim<'_>) -> Wrote {
        let mut any = false;
        while !buf.is_empty() {
            match self.tcp().try_write(buf) {
                Ok(n) => {
                    any = true;
                    buf = &buf[n..];
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let io = self.tcp();
                    let readable = tokio::select! {
                        biased;
                        r = io.writable() => match r {
                            Ok(()) => false,
                            Err(_) => return Wrote::Failed { any },
                        },
                        _ = io.readable() => true,
                    };
                    if readable && self.answered(interim) {
                        return Wrote::Answered;
                    }
                }
                Err(_) => return Wrote::Failed { any },
            }
        }
        Wrote::All
    }

    /// After a readable event: has the server given its final answer (or
    /// closed)? Interim responses that came go to `interim`, and a head
    /// still arriving is not an answer yet. A stale readiness reads
    /// nothing and is cleared.
    pub(crate) fn answered(&mut self, interim: &mut Interim<'_>) -> bool {
        let read = if let UpIo::Tls(_) = self.rd.get_ref() {
            let mut cx = Context::from_waker(Waker::noop());
            match self.rd.poll_fill(&mut cx) {
                Poll::Ready(r) => r,
                Poll::Pending => return false,
            }
        } else {
            self.rd.try_fill()
        };
        match read {
            Ok(0) => true,
            Ok(_) => super::head::answer_ahead(&mut self.rd.buf, interim),
            Err(e) => e.kind() != ErrorKind::WouldBlock,
        }
    }
}

/// TLS writes go through rustls (encrypt, then flush the records). An early
/// answer is not watched for here: the server's bytes wait in the socket
/// and are read after the request went out.
async fn write_tls(t: &mut TlsConn, buf: &[u8]) -> Wrote {
    match t.stream.write_all(buf).await {
        Ok(()) => match t.stream.flush().await {
            Ok(()) => Wrote::All,
            Err(_) => Wrote::Failed { any: true },
        },
        Err(_) => Wrote::Failed { any: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain connection must not grow for TLS (`cargo test -p
    /// switchyard-proxy conn_size -- --nocapture` prints the sizes).
    #[test]
    fn conn_size() {
        let plain_reader = std::mem::size_of::<Reader<TcpStream>>();
        let conn = std::mem::size_of::<Conn>();
        println!("Reader<TcpStream> {plain_reader} B, Conn {conn} B");
        assert!(conn <= plain_reader + 8, "{conn} > {plain_reader} + 8");
    }
}
