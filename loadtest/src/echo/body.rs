//! A response body of any length, produced chunk by chunk (for `/bytes/<n>`).

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

/// The 64-byte line the body repeats: printable, so `curl /bytes/100` is readable.
const PATTERN: &[u8; 64] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+\n";
/// Chunk size; a multiple of the pattern length so every chunk starts at offset 0.
const CHUNK: usize = 16 * 1024;

/// Byte `i` of every `/bytes/<n>` body, for checking what arrived.
pub fn pattern_byte(i: u64) -> u8 {
    PATTERN[(i % PATTERN.len() as u64) as usize]
}

fn chunk() -> &'static Bytes {
    static CHUNK_BYTES: OnceLock<Bytes> = OnceLock::new();
    CHUNK_BYTES.get_or_init(|| Bytes::from(PATTERN.repeat(CHUNK / PATTERN.len())))
}

/// `n` bytes of [`pattern_byte`], yielded in 16 KiB frames so memory stays flat whatever
/// `n` is; the exact size hint gives the response a `Content-Length`.
#[derive(Debug)]
pub struct PatternBody {
    remaining: u64,
}

impl PatternBody {
    pub fn new(len: u64) -> Self {
        PatternBody { remaining: len }
    }
}

impl Body for PatternBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = self.remaining.min(CHUNK as u64);
        self.remaining -= n;
        Poll::Ready(Some(Ok(Frame::data(chunk().slice(..n as usize)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn yields_exactly_n_pattern_bytes() {
        for n in [0u64, 1, 63, 64, 16 * 1024, 16 * 1024 + 5, 100_000] {
            let collected = PatternBody::new(n)
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            assert_eq!(collected.len() as u64, n);
            assert!(collected
                .iter()
                .enumerate()
                .all(|(i, b)| *b == pattern_byte(i as u64)));
        }
    }
}
