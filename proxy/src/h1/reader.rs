//! A buffered reader over the client connection that counts bytes in.

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};

/// How much to ask the socket for at a time.
const READ_CHUNK: usize = 64 * 1024;

pub(crate) struct Reader<R> {
    io: R,
    pub(crate) buf: BytesMut,
    /// Bytes read from the client so far.
    pub(crate) total: u64,
    eof: bool,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    pub(crate) fn new(io: R) -> Reader<R> {
        Reader {
            io,
            buf: BytesMut::with_capacity(8 * 1024),
            total: 0,
            eof: false,
        }
    }

    /// Read more bytes into the buffer; `Ok(0)` at end of stream.
    pub(crate) async fn fill(&mut self) -> std::io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(READ_CHUNK);
        }
        let n = self.io.read_buf(&mut self.buf).await?;
        if n == 0 {
            self.eof = true;
        }
        self.total += n as u64;
        Ok(n)
    }
}
