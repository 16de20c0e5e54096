//! One request/response exchange on an upstream connection: the head (and
//! a body at hand) in one write, a streamed body chunk by chunk while
//! watching for an early answer, then the response head.

use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use switchyard_state::{clock, ObserveEvent};

use crate::error::Cause;
use crate::h1::{chunked_prefix_invalid, BodyError, ReqBody};
use crate::upstream::{body_decoder, frame, read_head, Answer, Conn, HeadError, Interim, Outgoing};
use crate::upstream::{BodyKind, SendFraming, Wrote};

/// What one exchange attempt produced.
pub(super) enum Attempt {
    Ok(Box<Answer>),
    /// Nothing was sent: the request body comes back.
    NotSent(ReqBody),
    /// Failed, with what passive health (`observe`) should count, if
    /// anything: the client's own failures count nothing.
    Failed(Cause, Option<ObserveEvent>),
}

/// A body this small goes out in the same write as the head.
const COALESCE_BODY: usize = 16 * 1024;

/// Send the request on `conn` and wait for the response head, under
/// `timeout server` counted from the last byte sent: HAProxy refreshes the
/// server side's read timeout on every write to it, so a slow upload that
/// keeps moving is not cut, and a stalled one is.
pub(super) async fn exchange(
    conn: Conn,
    out: &Outgoing<'_>,
    body: ReqBody,
    t_server: Option<Duration>,
    limit: usize,
) -> Attempt {
    let Some(t) = t_server else {
        return exchange_untimed(conn, out, body, limit, None).await;
    };
    let act = Activity::new();
    let mut run = pin!(exchange_untimed(conn, out, body, limit, Some(&act)));
    let mut deadline = act.base + t;
    loop {
        tokio::select! {
            a = &mut run => return a,
            _ = tokio::time::sleep_until(deadline.into()) => {
                let next = act.last() + t;
                if next <= deadline {
                    return Attempt::Failed(
                        Cause::UpstreamTimeout,
                        Some(ObserveEvent::HttpReadTimeout),
                    );
                }
                deadline = next;
            }
        }
    }
}

/// When request bytes last went to the server.
struct Activity {
    base: Instant,
    /// Nanoseconds from `base` (an atomic: the future must stay `Send`).
    since: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            base: clock::now(),
            since: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let n = clock::now().saturating_duration_since(self.base).as_nanos();
        self.since
            .store(u64::try_from(n).unwrap_or(u64::MAX), Relaxed);
    }

    fn last(&self) -> Instant {
        self.base + Duration::from_nanos(self.since.load(Relaxed))
    }
}

async fn exchange_untimed(
    mut conn: Conn,
    out: &Outgoing<'_>,
    body: ReqBody,
    limit: usize,
    act: Option<&Activity>,
) -> Attempt {
    let is_head = out.method == http::Method::HEAD;
    let mut interim = Interim::new(out.interim, limit);
    let mut buf = Vec::with_capacity(512);
    let framing = out.encode_head(&mut buf, &body);
    // A body in hand (buffered, or none) is framed here, its last chunk
    // included when chunked, and goes with the head when small, right
    // after it when not; a streamed one follows chunk by chunk (`upload`).
    let chunked_end =
        framing == SendFraming::Chunked && matches!(body, ReqBody::Full(_) | ReqBody::Empty);
    let mut rest = None;
    match &body {
        ReqBody::Full(Some(b)) if framing != SendFraming::NoBody => {
            if b.len() <= COALESCE_BODY {
                frame(framing, b, &mut buf);
            } else if chunked_end {
                let mut framed = Vec::with_capacity(b.len() + 16);
                frame(framing, b, &mut framed);
                framed.extend_from_slice(b"0\r\n\r\n");
                rest = Some(bytes::Bytes::from(framed));
            } else {
                rest = Some(b.clone());
            }
        }
        _ => {}
    }
    if chunked_end && rest.is_none() {
        buf.extend_from_slice(b"0\r\n\r\n");
    }
    let mut answered_early = match conn.write(&buf, &mut interim).await {
        Wrote::All => false,
        Wrote::Answered => true,
        Wrote::Failed { any: false } => return Attempt::NotSent(body),
        Wrote::Failed { any: true } => return broken_pipe(),
    };
    if !answered_early {
        if let Some(data) = rest {
            match conn.write(&data, &mut interim).await {
                Wrote::All => touch(act),
                Wrote::Answered => answered_early = true,
                Wrote::Failed { .. } => return broken_pipe(),
            }
        } else if matches!(body, ReqBody::Stream(_)) && framing != SendFraming::NoBody {
            match upload(&mut conn, body, framing, act, &mut interim).await {
                Ok(early) => answered_early = early,
                Err(a) => return a,
            }
        }
    }
    let head = match read_head(&mut conn, &mut interim).await {
        Ok(h) => h,
        Err(HeadError::Invalid) => {
            return Attempt::Failed(Cause::UpstreamInvalid, Some(ObserveEvent::HttpRsp))
        }
        Err(HeadError::Io) => {
            return Attempt::Failed(Cause::UpstreamClosed, Some(ObserveEvent::HttpReadError))
        }
        Err(HeadError::Closed) => return broken_pipe(),
    };
    let (dec, kind) = body_decoder(&head, is_head);
    // HAProxy parses what it has of the body before it sends the head on:
    // chunked framing already broken there is a 502, not a cut response.
    if kind == BodyKind::Chunked && chunked_prefix_invalid(&conn.rd.buf) {
        return Attempt::Failed(Cause::UpstreamInvalid, Some(ObserveEvent::HttpRsp));
    }
    Attempt::Ok(Box::new(Answer {
        head,
        conn,
        dec,
        kind,
        // The rest of an interrupted request body would reach the server
        // as the next request.
        reusable: !answered_early,
    }))
}

fn touch(act: Option<&Activity>) {
    if let Some(a) = act {
        a.touch();
    }
}

fn broken_pipe() -> Attempt {
    Attempt::Failed(Cause::UpstreamClosed, Some(ObserveEvent::HttpBrokenPipe))
}

/// Stream the request body; `Ok(true)` when the server gave its final
/// answer first (an interim one, such as `100 Continue`, goes to `interim`
/// and the upload goes on).
async fn upload(
    conn: &mut Conn,
    mut body: ReqBody,
    framing: SendFraming,
    act: Option<&Activity>,
    interim: &mut Interim<'_>,
) -> Result<bool, Attempt> {
    let mut buf = Vec::new();
    loop {
        let step = tokio::select! {
            biased;
            f = body.frame() => Some(f),
            _ = conn.readable() => None,
        };
        let data = match step {
            None => {
                if conn.answered(interim) {
                    return Ok(true);
                }
                continue;
            }
            Some(None) => {
                if framing == SendFraming::Chunked {
                    // The last chunk, with the client's trailers.
                    buf.clear();
                    buf.extend_from_slice(b"0\r\n");
                    if let Some(t) = body.take_trailers() {
                        buf.extend_from_slice(&t);
                    }
                    buf.extend_from_slice(b"\r\n");
                    return match conn.write(&buf, interim).await {
                        Wrote::All => {
                            touch(act);
                            Ok(false)
                        }
                        Wrote::Answered => Ok(true),
                        Wrote::Failed { .. } => Err(broken_pipe()),
                    };
                }
                return Ok(false);
            }
            Some(Some(Err(e))) => {
                let cause = match e {
                    BodyError::Timeout => Cause::ClientTimeout,
                    BodyError::Invalid => Cause::ClientInvalid,
                    _ => Cause::ClientAborted,
                };
                return Err(Attempt::Failed(cause, None));
            }
            Some(Some(Ok(f))) => match f.into_data() {
                Ok(d) if !d.is_empty() => d,
                _ => continue,
            },
        };
        let wire: &[u8] = if framing == SendFraming::Chunked {
            buf.clear();
            frame(framing, &data, &mut buf);
            &buf
        } else {
            &data
        };
        match conn.write(wire, interim).await {
            Wrote::All => touch(act),
            Wrote::Answered => return Ok(true),
            Wrote::Failed { .. } => return Err(broken_pipe()),
        }
    }
}
