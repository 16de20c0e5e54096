//! A buffered reader over a connection (the client's, or a server's in
//! `upstream`) that counts bytes in.
//!
//! The buffer exists only while there are bytes to hold: an idle keep-alive
//! connection waits for readability with no buffer at all (HAProxy releases
//! an idle connection's buffers the same way), so 10k idle clients cost
//! little memory.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::io::AsyncRead;
use tokio_util::io::poll_read_buf;

use super::spare;

/// How much to ask the socket for at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Room to make before a read that would leave less than this.
const MIN_ROOM: usize = 4096;

/// A byte stream that can wait for readability without a buffer.
///
/// Readiness is polled, not awaited: waiting holds no future (tokio's
/// `readable()` keeps a waiter node in every idle connection's task) and
/// uses the socket's own reader slot instead of a waiter list.
pub(crate) trait ClientRead: AsyncRead + Unpin + Send {
    /// Ready once a read would not block (or the socket failed).
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()>;
    /// Read what is there without waiting (`WouldBlock` if nothing is).
    fn try_read_buf(&self, buf: &mut BytesMut) -> std::io::Result<usize>;
}

macro_rules! client_read {
    ($t:ty, $stream:ty) => {
        impl ClientRead for $t {
            fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
                let s: &$stream = self.as_ref();
                s.poll_read_ready(cx).map(|_| ())
            }
            fn try_read_buf(&self, buf: &mut BytesMut) -> std::io::Result<usize> {
                <$t>::try_read_buf(self, buf)
            }
        }
    };
}
client_read!(tokio::net::tcp::OwnedReadHalf, tokio::net::TcpStream);
client_read!(tokio::net::unix::OwnedReadHalf, tokio::net::UnixStream);
client_read!(tokio::net::TcpStream, tokio::net::TcpStream);

pub(crate) struct Reader<R> {
    io: R,
    pub(crate) buf: BytesMut,
    /// Bytes read from the client so far.
    pub(crate) total: u64,
    eof: bool,
    /// The buffer is a spare one that never grew: it may go back.
    spare: bool,
}

impl<R: ClientRead> Reader<R> {
    pub(crate) fn new(io: R) -> Reader<R> {
        Reader {
            io,
            buf: BytesMut::new(),
            total: 0,
            eof: false,
            spare: false,
        }
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.io
    }

    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.io
    }

    /// The stream and whatever was read but not consumed.
    pub(crate) fn into_parts(self) -> (R, BytesMut) {
        (self.io, self.buf)
    }

    /// Read what the socket already holds, without waiting: `Ok(0)` at end
    /// of stream, `WouldBlock` if there is nothing.
    pub(crate) fn try_fill(&mut self) -> std::io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        if self.buf.capacity() == 0 {
            self.take_spare();
        } else if self.buf.capacity() - self.buf.len() < MIN_ROOM {
            self.grow(spare::SIZE);
        }
        let n = self.io.try_read_buf(&mut self.buf)?;
        Ok(self.counted(n))
    }

    /// Account for a read of `n` bytes (0: end of stream).
    fn counted(&mut self, n: usize) -> usize {
        if n == 0 {
            self.eof = true;
        }
        self.total += n as u64;
        n
    }

    /// Give the buffer back while it holds nothing (between requests).
    pub(crate) fn release(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > 0 {
            let buf = std::mem::take(&mut self.buf);
            if self.spare {
                spare::give(buf);
            }
        }
    }

    fn take_spare(&mut self) {
        self.buf = spare::take();
        self.spare = true;
    }

    /// Make room for `n` more bytes; a buffer grown past the spare size
    /// is freed, not kept, when given back.
    fn grow(&mut self, n: usize) {
        self.buf.reserve(n);
        self.spare &= self.buf.capacity() <= spare::SIZE;
    }

    /// Read more bytes into the buffer; `Ok(0)` at end of stream.
    pub(crate) async fn fill(&mut self) -> std::io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }

    /// [`Reader::fill`] as a poll, for waits that combine it with timers.
    /// The buffer is only allocated once the socket is readable, and given
    /// back if that readiness was stale. Reads go through `AsyncRead`,
    /// which clears readiness after a short read, so the next wait does
    /// not first try a read that would block.
    pub(crate) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        if self.eof {
            return Poll::Ready(Ok(0));
        }
        let fresh = self.buf.capacity() == 0;
        if fresh {
            if self.io.poll_ready(cx).is_pending() {
                return Poll::Pending;
            }
            self.take_spare();
        } else if self.buf.capacity() - self.buf.len() < MIN_ROOM {
            self.grow(READ_CHUNK);
        }
        match poll_read_buf(Pin::new(&mut self.io), cx, &mut self.buf) {
            Poll::Ready(Ok(n)) => Poll::Ready(Ok(self.counted(n))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if fresh {
                    self.release();
                }
                Poll::Pending
            }
        }
    }
}
