//! Request bodies: decoding Content-Length/chunked framing from the client
//! connection ([`BodyPump`]) and the [`ReqBody`] handed to the upstream
//! client. The two are joined by a small bounded channel, so a large upload
//! streams through with flat memory.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use tokio::sync::{mpsc, oneshot};

use super::head::Framing;
use super::reader::ClientRead;
use super::reader::Reader;

/// Chunks in flight between the client reader and the upstream writer.
const CHANNEL_DEPTH: usize = 4;
/// The longest chunk-size or trailer line we accept.
const MAX_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("client closed the connection during the body")]
    Closed,
    #[error("invalid chunked encoding")]
    Invalid,
    #[error("client timeout during the body")]
    Timeout,
    #[error("client I/O error")]
    Io,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkCrlf,
    Trailers,
    /// A response delimited by the server closing the connection.
    UntilClose,
    Done,
    /// Failed: the same error again on every call.
    Failed(BodyError),
}

/// Decodes a request body from the client connection.
#[derive(Debug)]
pub(crate) struct Decoder {
    state: State,
    /// Trailer lines, kept (names lowercased) when asked for.
    trailers: Option<Vec<u8>>,
}

impl Decoder {
    pub(crate) fn new(f: Framing) -> Decoder {
        let state = match f {
            Framing::None | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
        };
        Decoder {
            state,
            trailers: None,
        }
    }

    /// Keep the trailers (a response's go on to the client).
    pub(crate) fn keeping_trailers(mut self) -> Decoder {
        self.trailers = Some(Vec::new());
        self
    }

    /// The trailer lines read, each ending in CRLF.
    pub(crate) fn take_trailers(&mut self) -> Vec<u8> {
        self.trailers
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// A response body that ends when the server closes the connection.
    pub(crate) fn until_close() -> Decoder {
        Decoder {
            state: State::UntilClose,
            trailers: None,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The next piece of body data, `None` at the end of the body.
    pub(crate) async fn next<R: ClientRead>(
        &mut self,
        r: &mut Reader<R>,
    ) -> Result<Option<Bytes>, BodyError> {
        let res = self.step(r).await;
        if let Err(e) = res {
            self.state = State::Failed(e);
        }
        res
    }

    async fn step<R: ClientRead>(&mut self, r: &mut Reader<R>) -> Result<Option<Bytes>, BodyError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Failed(e) => return Err(e),
                State::Length(rem) => {
                    if r.buf.is_empty() {
                        Self::fill(r).await?;
                    }
                    let n = (r.buf.len() as u64).min(rem) as usize;
                    let data = r.buf.split_to(n).freeze();
                    self.state = if rem == n as u64 {
                        State::Done
                    } else {
                        State::Length(rem - n as u64)
                    };
                    return Ok(Some(data));
                }
                State::ChunkSize => {
                    let line = Self::line(r).await?;
                    let size = chunk_size(&line).ok_or(BodyError::Invalid)?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                }
                State::ChunkData(rem) => {
                    if r.buf.is_empty() {
                        Self::fill(r).await?;
                    }
                    let n = (r.buf.len() as u64).min(rem) as usize;
                    let data = r.buf.split_to(n).freeze();
                    self.state = if rem == n as u64 {
                        State::ChunkCrlf
                    } else {
                        State::ChunkData(rem - n as u64)
                    };
                    return Ok(Some(data));
                }
                State::ChunkCrlf => {
                    let line = Self::line(r).await?;
                    if !line.is_empty() {
                        return Err(BodyError::Invalid);
                    }
                    self.state = State::ChunkSize;
                }
                State::UntilClose => {
                    if r.buf.is_empty() {
                        match r.fill().await {
                            Ok(0) => {
                                self.state = State::Done;
                                return Ok(None);
                            }
                            Ok(_) => {}
                            Err(_) => return Err(BodyError::Io),
                        }
                    }
                    return Ok(Some(r.buf.split().freeze()));
                }
                State::Trailers => {
                    // Trailers go on, normalised as HAProxy writes them:
                    // the name lowercased, `: `, the value trimmed. A line
                    // that is not a field is an error (HAProxy: 400/502).
                    let line = Self::line(r).await?;
                    if line.is_empty() {
                        self.state = State::Done;
                        continue;
                    }
                    let (name, value) = trailer_field(&line).ok_or(BodyError::Invalid)?;
                    if let Some(t) = self.trailers.as_mut() {
                        t.extend(name.iter().map(u8::to_ascii_lowercase));
                        t.extend_from_slice(b": ");
                        t.extend_from_slice(value);
                        t.extend_from_slice(b"\r\n");
                    }
                }
            }
        }
    }

    async fn fill<R: ClientRead>(r: &mut Reader<R>) -> Result<(), BodyError> {
        match r.fill().await {
            Ok(0) => Err(BodyError::Closed),
            Ok(_) => Ok(()),
            Err(_) => Err(BodyError::Io),
        }
    }

    /// One CRLF- (or LF-) terminated line, without its terminator.
    async fn line<R: ClientRead>(r: &mut Reader<R>) -> Result<Vec<u8>, BodyError> {
        loop {
            if let Some(i) = r.buf.iter().position(|b| *b == b'\n') {
                let mut l = r.buf.split_to(i + 1);
                l.truncate(i);
                if l.last() == Some(&b'\r') {
                    l.truncate(i - 1);
                }
                return Ok(l.to_vec());
            }
            if r.buf.len() > MAX_LINE {
                return Err(BodyError::Invalid);
            }
            Self::fill(r).await?;
        }
    }
}

/// A chunk-size line's size (extensions ignored); `None` if invalid. As in
/// HAProxy: hex digits only (no sign, no leading blanks), blanks allowed
/// before the end or the `;`.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let hex = line.split(|b| *b == b';').next().unwrap_or(&[]);
    let end = hex
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(0, |i| i + 1);
    let hex = &hex[..end];
    if hex.is_empty() || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// Whether the chunked body bytes already read (`buf`, from the first
/// chunk-size line on) hold a framing error. HAProxy parses what it has of
/// a request before picking a server, so such a request is its early 400
/// and never reaches one. Only what is complete in `buf` is judged.
pub(crate) fn chunked_prefix_invalid(buf: &[u8]) -> bool {
    // The next line from `at`, without its terminator, and where the one
    // after it starts; `None` while incomplete.
    let line = |at: usize| -> Option<(&[u8], usize)> {
        let rest = buf.get(at..)?;
        let nl = rest.iter().position(|b| *b == b'\n')?;
        let l = &rest[..nl];
        Some((l.strip_suffix(b"\r").unwrap_or(l), at + nl + 1))
    };
    let mut at = 0usize;
    loop {
        let Some((l, next)) = line(at) else {
            return buf.len() - at.min(buf.len()) > MAX_LINE;
        };
        let Some(size) = chunk_size(l) else {
            return true;
        };
        at = next;
        if size == 0 {
            loop {
                let Some((l, next)) = line(at) else {
                    return false;
                };
                if l.is_empty() {
                    return false;
                }
                if trailer_field(l).is_none() {
                    return true;
                }
                at = next;
            }
        }
        match usize::try_from(size).ok().and_then(|n| at.checked_add(n)) {
            Some(end) if end < buf.len() => at = end,
            _ => return false,
        }
        let Some((l, next)) = line(at) else {
            return false;
        };
        if !l.is_empty() {
            return true;
        }
        at = next;
    }
}

/// A trailer line's name and trimmed value; `None` if it is not a field.
fn trailer_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|b| *b == b':')?;
    let name = &line[..colon];
    if name.is_empty()
        || name
            .iter()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return None;
    }
    let ws = |b: &u8| *b == b' ' || *b == b'\t';
    let value = &line[colon + 1..];
    let start = value.iter().position(|b| !ws(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    Some((name, &value[start..end]))
}

/// How the pump ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PumpEnd {
    /// The whole body was read from the client.
    Complete,
    /// The upstream side stopped wanting the body; part of it is unread.
    Abandoned,
    /// The client side failed.
    Failed(BodyError),
}

/// The client-reading half of a streamed request body.
pub(crate) struct BodyPump {
    dec: Decoder,
    /// Dropped when the body ends, so the receiver sees the end.
    tx: Option<mpsc::Sender<Result<Bytes, BodyError>>>,
    /// A chunked body's trailers, sent before `tx` is dropped.
    trailers: Option<oneshot::Sender<Bytes>>,
    /// Decoded body bytes read from the client so far (with a chunked
    /// body's end block and trailers once it ended: HAProxy's HTX count).
    pub(crate) decoded: u64,
}

impl BodyPump {
    /// A pump and the body it feeds. `demand` fires when the body is first
    /// polled (a built-in service sends `100 Continue` then), and is
    /// dropped unfired when the request goes to a server instead. A request without a
    /// body gets no channel at all: most requests have none.
    pub(crate) fn new(framing: Framing) -> (BodyPump, ReqBody, Option<oneshot::Receiver<()>>) {
        let mut dec = Decoder::new(framing);
        if framing == Framing::None {
            let pump = BodyPump {
                dec,
                tx: None,
                trailers: None,
                decoded: 0,
            };
            return (pump, ReqBody::Empty, None);
        }
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        let (dtx, drx) = oneshot::channel();
        let len = match framing {
            Framing::Length(n) => Some(n),
            _ => None,
        };
        // Only a chunked body can have trailers.
        let (ttx, trx) = if framing == Framing::Chunked {
            dec = dec.keeping_trailers();
            let (t, r) = oneshot::channel();
            (Some(t), Some(r))
        } else {
            (None, None)
        };
        let body = ReqBody::Stream(Box::new(StreamBody {
            prefix: VecDeque::new(),
            rx,
            demand: Some(dtx),
            len,
            ended: false,
            trailers: trx,
        }));
        (
            BodyPump {
                dec,
                tx: Some(tx),
                trailers: ttx,
                decoded: 0,
            },
            body,
            Some(drx),
        )
    }

    /// Move the body from the client to the channel until it ends, the
    /// receiver goes away, or the client fails (`timeout` is the client
    /// inactivity timeout).
    pub(crate) async fn run<R: ClientRead>(
        &mut self,
        r: &mut Reader<R>,
        timeout: Option<std::time::Duration>,
    ) -> PumpEnd {
        loop {
            let Some(tx) = self.tx.as_ref() else {
                return if self.dec.is_done() {
                    PumpEnd::Complete
                } else {
                    PumpEnd::Abandoned
                };
            };
            if self.dec.is_done() {
                self.end();
                return PumpEnd::Complete;
            }
            let next = tokio::select! {
                biased;
                _ = tx.closed() => return PumpEnd::Abandoned,
                n = with_timeout(timeout, self.dec.next(r)) => n,
            };
            match next {
                Ok(Some(data)) => {
                    self.decoded += data.len() as u64;
                    if tx.send(Ok(data)).await.is_err() {
                        return PumpEnd::Abandoned;
                    }
                }
                Ok(None) => {
                    self.end();
                    return PumpEnd::Complete;
                }
                Err(e) => {
                    let _ = tx.try_send(Err(e));
                    self.tx = None;
                    return PumpEnd::Failed(e);
                }
            }
        }
    }

    /// The body ended: hand over its trailers, then close the channel.
    fn end(&mut self) {
        if let Some(t) = self.trailers.take() {
            let lines = self.dec.take_trailers();
            // Counted as HAProxy counts the request's bytes (`%U`, `bin`).
            self.decoded += super::htx_trailers_size(&lines);
            if !lines.is_empty() {
                let _ = t.send(Bytes::from(lines));
            }
        }
        self.tx = None;
    }

    /// Read and discard what is left of the body, up to `limit` bytes, so
    /// the connection can serve the next request. True if the body ended.
    pub(crate) async fn drain<R: ClientRead>(
        &mut self,
        r: &mut Reader<R>,
        limit: u64,
        timeout: Option<std::time::Duration>,
    ) -> bool {
        let mut seen = 0u64;
        loop {
            match with_timeout(timeout, self.dec.next(r)).await {
                Ok(Some(d)) => {
                    seen += d.len() as u64;
                    self.decoded += d.len() as u64;
                    if seen > limit {
                        return false;
                    }
                }
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.dec.is_done()
    }
}

async fn with_timeout<T>(
    t: Option<std::time::Duration>,
    f: impl std::future::Future<Output = Result<T, BodyError>>,
) -> Result<T, BodyError> {
    match t {
        Some(d) => crate::timing::timeout(d, f)
            .await
            .unwrap_or(Err(BodyError::Timeout)),
        None => f.await,
    }
}

/// The streamed part of a request body.
pub(crate) struct StreamBody {
    /// Data already taken from `rx` (by [`ReqBody::buffer_up_to`]).
    prefix: VecDeque<Bytes>,
    rx: mpsc::Receiver<Result<Bytes, BodyError>>,
    demand: Option<oneshot::Sender<()>>,
    len: Option<u64>,
    ended: bool,
    /// The trailers of a chunked body, once it ended.
    trailers: Option<oneshot::Receiver<Bytes>>,
}

/// A request body as sent upstream.
pub(crate) enum ReqBody {
    Empty,
    /// Fully buffered: replayable for retries.
    Full(Option<Bytes>),
    /// Boxed: a bodiless request's `ReqBody` is moved through several
    /// layers, and should not be 96 bytes for the rarer streamed case.
    Stream(Box<StreamBody>),
}

/// The sending side of a body made by [`ReqBody::channel`].
pub(crate) type BodySender = mpsc::Sender<Result<Bytes, BodyError>>;

impl ReqBody {
    /// A streamed body fed through the returned sender (HTTP/2 streams,
    /// whose DATA frames are already decoded); `len` is its announced
    /// length. Dropping the sender ends the body.
    pub(crate) fn channel(len: Option<u64>) -> (BodySender, ReqBody) {
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        let body = ReqBody::Stream(Box::new(StreamBody {
            prefix: VecDeque::new(),
            rx,
            demand: None,
            len,
            ended: false,
            trailers: None,
        }));
        (tx, body)
    }

    /// The trailer lines (each ending in CRLF) of a streamed chunked body,
    /// once it has ended.
    pub(crate) fn take_trailers(&mut self) -> Option<Bytes> {
        match self {
            ReqBody::Stream(s) => s.trailers.as_mut()?.try_recv().ok(),
            _ => None,
        }
    }

    /// A replayable copy, if the body is fully buffered (or empty).
    pub(crate) fn replay(&self) -> Option<ReqBody> {
        match self {
            ReqBody::Empty => Some(ReqBody::Empty),
            ReqBody::Full(b) => Some(ReqBody::Full(b.clone())),
            ReqBody::Stream(_) => None,
        }
    }

    /// The body goes to a server that answers `Expect: 100-continue`
    /// itself: reading it must not make switchyard send its own.
    pub(crate) fn forgo_continue(&mut self) {
        if let ReqBody::Stream(s) = self {
            s.demand = None;
        }
    }

    /// Try to buffer the whole body if it fits in `limit` bytes (HAProxy's
    /// condition for L7 retries). Returns the body: `Full` when it fit, the
    /// stream (with what was read kept in front) otherwise.
    pub(crate) async fn buffer_up_to(self, limit: usize) -> Result<ReqBody, BodyError> {
        let mut s = match self {
            ReqBody::Stream(s) => s,
            other => return Ok(other),
        };
        if s.len.map(|l| l > limit as u64).unwrap_or(false) {
            return Ok(ReqBody::Stream(s));
        }
        if let Some(d) = s.demand.take() {
            let _ = d.send(());
        }
        let mut size: usize = s.prefix.iter().map(|b| b.len()).sum();
        loop {
            if size > limit {
                return Ok(ReqBody::Stream(s));
            }
            match s.rx.recv().await {
                Some(Ok(b)) => {
                    size += b.len();
                    s.prefix.push_back(b);
                }
                Some(Err(e)) => return Err(e),
                None => break,
            }
        }
        let mut all = bytes::BytesMut::with_capacity(size);
        for b in s.prefix.drain(..) {
            all.extend_from_slice(&b);
        }
        Ok(ReqBody::Full(Some(all.freeze())))
    }
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            ReqBody::Empty => Poll::Ready(None),
            ReqBody::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| b.has_remaining())
                    .map(|b| Ok(Frame::data(b))),
            ),
            ReqBody::Stream(s) => {
                if let Some(d) = s.demand.take() {
                    let _ = d.send(());
                }
                if let Some(b) = s.prefix.pop_front() {
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                if s.ended {
                    return Poll::Ready(None);
                }
                match s.rx.poll_recv(cx) {
                    Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
                    Poll::Ready(Some(Err(e))) => {
                        s.ended = true;
                        Poll::Ready(Some(Err(e)))
                    }
                    Poll::Ready(None) => {
                        s.ended = true;
                        Poll::Ready(None)
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ReqBody::Empty => true,
            ReqBody::Full(b) => b.as_ref().map(|b| b.is_empty()).unwrap_or(true),
            ReqBody::Stream(s) => s.ended && s.prefix.is_empty(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReqBody::Empty => SizeHint::with_exact(0),
            ReqBody::Full(b) => {
                SizeHint::with_exact(b.as_ref().map(|b| b.len() as u64).unwrap_or(0))
            }
            ReqBody::Stream(s) => match s.len {
                Some(n) => SizeHint::with_exact(n),
                None => SizeHint::default(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_chunked_bodies_are_judged_only_where_complete() {
        let ok: &[&[u8]] = &[
            b"",
            b"3\r\nab",
            b"3\r\nabc\r\n0\r\n\r\n",
            b"3;ext=1\r\nabc\r\n0\r\nx-t: 1\r\n\r\n",
            b"3\nabc\n0\n\n",
            b"3 \r\nabc\r\n03 ;a=b\r\nabc\r\n0\r\n\r\n",
            b"ffffffffffffffff\r\nab",
            b"3\r\nabc\r\n0\r\nX-Partial",
        ];
        for b in ok {
            assert!(
                !chunked_prefix_invalid(b),
                "{:?}",
                String::from_utf8_lossy(b)
            );
        }
        let bad: &[&[u8]] = &[
            b"zz\r\n",
            b"3\r\nabcX\r\n",
            b"3\r\nabc\r\nzz\r\n\r\n",
            b"3\r\nabc\r\n0\r\nbogus line\r\n\r\n",
            b"3\r\nabc\r\n0\r\n: v\r\n\r\n",
            b"10000000000000000\r\n",
            b"+3\r\nabc\r\n",
            b" 3\r\nabc\r\n",
            b"0x3\r\nabc\r\n",
            b";a\r\n",
        ];
        for b in bad {
            assert!(
                chunked_prefix_invalid(b),
                "{:?}",
                String::from_utf8_lossy(b)
            );
        }
    }

    #[test]
    fn trailer_fields_are_trimmed() {
        assert_eq!(
            trailer_field(b"X-T:  v 1 \t"),
            Some((&b"X-T"[..], &b"v 1"[..]))
        );
        assert_eq!(trailer_field(b"x:"), Some((&b"x"[..], &b""[..])));
        assert_eq!(trailer_field(b"no colon"), None);
        assert_eq!(trailer_field(b"bad name: v"), None);
    }
}
