//! A server TLS stream split into the read and write halves the connection
//! loop takes. Both halves drive one rustls session, so they share it
//! behind a mutex; both are used from the connection's own task, so the
//! lock is never contended (it only makes the halves `Send`). The plain
//! TCP path does not go through here.

use std::io::{ErrorKind, Read};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::server::TlsStream;

/// A socket TLS runs over: readiness can be polled and reads tried
/// without a waker (TCP and unix-socket binds).
pub(crate) trait RawIo: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>>;
    fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// The first byte the client sent, left in the socket (`None`: it
    /// closed); sockets that cannot peek answer a handshake byte.
    fn poll_first_byte(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<Option<u8>>>;
}

macro_rules! raw_io {
    ($t:ty) => {
        fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            <$t>::poll_read_ready(self, cx)
        }
        fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            <$t>::try_read(self, buf)
        }
    };
}

impl RawIo for TcpStream {
    raw_io!(TcpStream);
    fn poll_first_byte(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<Option<u8>>> {
        let mut b = [0u8; 1];
        let mut rb = ReadBuf::new(&mut b);
        self.poll_peek(cx, &mut rb)
            .map_ok(|n| (n == 1).then_some(b[0]))
    }
}

impl RawIo for UnixStream {
    raw_io!(UnixStream);
    fn poll_first_byte(&self, _cx: &mut Context<'_>) -> Poll<std::io::Result<Option<u8>>> {
        Poll::Ready(Ok(Some(HANDSHAKE_RECORD)))
    }
}

/// The content type of a TLS handshake record: what a ClientHello starts with.
pub(crate) const HANDSHAKE_RECORD: u8 = 0x16;

type Shared<IO> = Arc<Mutex<TlsStream<IO>>>;

fn lock<IO>(s: &Shared<IO>) -> MutexGuard<'_, TlsStream<IO>> {
    // A panic while holding it cannot leave the session half-updated in a
    // way worse than closing: carry on with what is there.
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The reading half.
pub(crate) struct TlsRead<IO> {
    s: Shared<IO>,
}

/// The writing half.
pub(crate) struct TlsWrite<IO> {
    s: Shared<IO>,
}

/// Split an established TLS stream.
pub(crate) fn split<IO>(s: TlsStream<IO>) -> (TlsRead<IO>, TlsWrite<IO>) {
    let s = Arc::new(Mutex::new(s));
    (TlsRead { s: s.clone() }, TlsWrite { s })
}

impl<IO: RawIo> AsyncRead for TlsRead<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *lock(&self.s)).poll_read(cx, buf)
    }
}

impl<IO: RawIo> crate::h1::ClientRead for TlsRead<IO> {
    /// Ready when rustls already holds decrypted bytes (or the peer's
    /// close): the socket may then have nothing more to say, and waiting
    /// on it would strand them. Otherwise, when the socket is readable.
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let g = lock(&self.s);
        let (io, conn) = g.get_ref();
        if !conn.wants_read() {
            return Poll::Ready(());
        }
        io.poll_read_ready(cx).map(|_| ())
    }

    /// Decrypted bytes first; else feed rustls what the socket holds now.
    fn try_read_buf(&self, buf: &mut BytesMut) -> std::io::Result<usize> {
        let mut g = lock(&self.s);
        let (io, conn) = g.get_mut();
        let mut chunk = [0u8; 4096];
        loop {
            match conn.reader().read(&mut chunk) {
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if conn.read_tls(&mut NoWait(io))? == 0 {
                return Ok(0);
            }
            conn.process_new_packets()
                .map_err(|e| std::io::Error::new(ErrorKind::InvalidData, e))?;
        }
    }
}

/// `std::io::Read` over a socket's non-blocking read.
struct NoWait<'a, IO>(&'a IO);

impl<IO: RawIo> Read for NoWait<'_, IO> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl<IO: RawIo> AsyncWrite for TlsWrite<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *lock(&self.s)).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *lock(&self.s)).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        lock(&self.s).is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *lock(&self.s)).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *lock(&self.s)).poll_shutdown(cx)
    }
}
