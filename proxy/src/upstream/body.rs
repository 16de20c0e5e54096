//! A response body read from the server's connection in the request's own
//! task; once it ends cleanly the connection can go back to the pool.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

use super::conn::Conn;
use crate::h1::{BodyError, Decoder};

/// How the server delimited the body; the client gets the same framing
/// (HAProxy keeps a chunked body chunked even for an HTTP/1.0 client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// Content-Length, or no body at all.
    Length,
    Chunked,
    /// Until the server closes.
    UntilClose,
}

pub(crate) struct UpBody {
    conn: Conn,
    dec: Decoder,
    pub(crate) kind: BodyKind,
    /// The connection may serve another request once this body ends.
    reusable: bool,
}

impl UpBody {
    pub(crate) fn new(conn: Conn, dec: Decoder, kind: BodyKind, reusable: bool) -> UpBody {
        UpBody {
            conn,
            dec,
            kind,
            reusable,
        }
    }

    /// The next piece of body data; `None` at its end.
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>, BodyError> {
        self.dec.next(&mut self.conn.rd).await
    }

    /// The next piece if it can be had without waiting: body bytes that
    /// came with the head cost nothing to forward with it. The decoder is
    /// safe to poll once and drop (it only moves on whole steps).
    pub(crate) fn ready(&mut self) -> Option<Result<Option<Bytes>, BodyError>> {
        let mut cx = Context::from_waker(Waker::noop());
        match pin!(self.next()).poll(&mut cx) {
            Poll::Ready(r) => Some(r),
            Poll::Pending => None,
        }
    }

    /// The response's trailers (after its end), each line with its CRLF.
    pub(crate) fn take_trailers(&mut self) -> Vec<u8> {
        self.dec.take_trailers()
    }

    /// The connection, if the body ended cleanly and it may be reused.
    pub(crate) fn into_conn(self) -> Option<Conn> {
        (self.reusable && self.dec.is_done() && self.conn.rd.buf.is_empty()).then_some(self.conn)
    }
}
