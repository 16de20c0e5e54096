//! A socket wrapper that notes when the request was last written and when the first
//! response byte arrived, so the summary can split a request into hey's phases
//! (req write / resp wait / resp read) without hooks inside hyper.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Timestamps (nanoseconds after `epoch`, 0 = not yet) shared between the socket and the
/// worker. One request is in flight per connection, so plain atomics suffice.
#[derive(Debug)]
pub struct IoMarks {
    epoch: Instant,
    last_write: AtomicU64,
    first_read: AtomicU64,
}

impl IoMarks {
    pub fn new(epoch: Instant) -> Arc<Self> {
        Arc::new(IoMarks {
            epoch,
            last_write: AtomicU64::new(0),
            first_read: AtomicU64::new(0),
        })
    }

    /// Forget the previous exchange; called before each request on the connection.
    pub fn reset(&self) {
        self.last_write.store(0, Ordering::Relaxed);
        self.first_read.store(0, Ordering::Relaxed);
    }

    fn now(&self) -> u64 {
        // +1 keeps a mark taken at the epoch itself distinct from "not yet".
        u64::try_from(self.epoch.elapsed().as_nanos())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    fn wrote(&self) {
        self.last_write.store(self.now(), Ordering::Relaxed);
    }

    fn read(&self) {
        if self.first_read.load(Ordering::Relaxed) == 0 {
            self.first_read.store(self.now(), Ordering::Relaxed);
        }
    }

    /// When the request was last written, if it was.
    pub fn last_write(&self) -> Option<Instant> {
        self.at(self.last_write.load(Ordering::Relaxed))
    }

    /// When the first response byte arrived, if it did.
    pub fn first_read(&self) -> Option<Instant> {
        self.at(self.first_read.load(Ordering::Relaxed))
    }

    fn at(&self, mark: u64) -> Option<Instant> {
        (mark != 0).then(|| self.epoch + Duration::from_nanos(mark - 1))
    }
}

/// A TCP stream that records write and read times into [`IoMarks`].
#[derive(Debug)]
pub struct TimedIo {
    inner: TcpStream,
    marks: Arc<IoMarks>,
}

impl TimedIo {
    pub fn new(inner: TcpStream, marks: Arc<IoMarks>) -> Self {
        TimedIo { inner, marks }
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.marks.read();
        }
        polled
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.marks.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.marks.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
