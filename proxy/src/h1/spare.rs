//! Spare read buffers, kept per worker thread.
//!
//! A connection holds a read buffer only while bytes are in flight (see
//! `reader`), so every keep-alive exchange would take an 8 KiB block from
//! the allocator for the client's side and another for the server's, and
//! give both back. Like HAProxy's per-thread pool cache, the buffers given
//! back wait here for the next request: taking one is a pop rather than
//! the allocator's search for a medium-sized block.

use std::cell::RefCell;

use bytes::BytesMut;

/// The size of a buffer handed out.
pub(crate) const SIZE: usize = 8 * 1024;
/// At most this many wait per thread: 512 KiB, HAProxy's default
/// per-thread pool cache.
const KEEP: usize = 64;

thread_local! {
    static SPARE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer of at least [`SIZE`] bytes.
pub(crate) fn take() -> BytesMut {
    SPARE
        .try_with(|s| s.try_borrow_mut().ok().and_then(|mut v| v.pop()))
        .ok()
        .flatten()
        .unwrap_or_else(|| BytesMut::with_capacity(SIZE))
}

/// Keep `buf` for a later [`take`] if it is empty, shared with nothing
/// (no frozen head or body chunk still points into it) and there is
/// room; otherwise it is freed. The caller gives back only buffers that
/// never grew past [`SIZE`], so the cache's memory stays bounded.
pub(crate) fn give(mut buf: BytesMut) {
    if !buf.is_empty() || !buf.try_reclaim(SIZE) {
        return;
    }
    let _ = SPARE.try_with(|s| {
        if let Ok(mut v) = s.try_borrow_mut() {
            if v.len() < KEEP {
                v.push(buf);
            }
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again() {
        let mut b = take();
        let at = b.as_ptr();
        b.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        let _ = b.split_to(b.len());
        give(b);
        let again = take();
        assert_eq!(again.as_ptr(), at, "the same memory comes back");
        assert!(again.is_empty() && again.capacity() >= SIZE);
    }

    #[test]
    fn a_shared_or_full_buffer_is_not_kept() {
        let mut b = take();
        b.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
        let head = b.split_to(b.len()).freeze();
        let at = b.as_ptr();
        give(b);
        // `head` still points into the memory: it must not come back.
        assert_ne!(take().as_ptr(), at);
        drop(head);
        // A buffer with bytes in it is not kept (`take` would hand them out).
        let mut full = take();
        full.extend_from_slice(b"x");
        give(full);
        assert!(take().is_empty());
    }
}
