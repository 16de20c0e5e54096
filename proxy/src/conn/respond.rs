//! Writing a reply to the client: framing, connection header, body
//! streaming with `timeout client`/`timeout server`, and HAProxy's byte counts.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::Version;
use switchyard_state::ObserveEvent;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::h1::{
    chunk_size_line, encode_body_frame, encode_head, htx_head_size, htx_size_raw,
    htx_trailers_size, RespFraming,
};
use crate::request::{self, Reply, RespBody};
use crate::upstream::BodyKind;

/// How a response transfer ended.
pub(super) struct Written {
    /// HAProxy's byte count of what was sent (`%B`, bytes out).
    pub(super) bytes: u64,
    /// The whole response reached the client.
    pub(super) complete: bool,
    /// Termination code when it did not.
    pub(super) term: Option<[u8; 2]>,
    /// The framing forces a close (close-delimited body).
    pub(super) must_close: bool,
}

pub(super) type WriteOut = (
    Written,
    bool,
    Box<request::TxnEnd>,
    Option<crate::upstream::Lease>,
);

/// Write a reply to the client and account for it.
pub(super) async fn write_reply<W: AsyncWrite + Unpin>(
    wr: &mut W,
    reply: Box<Reply>,
    is_head: bool,
    client_version: Version,
    client_keep_alive: bool,
    stopping: bool,
    t_client: Option<Duration>,
) -> WriteOut {
    // Fields are used in place: moving all 584 bytes of the reply into this
    // future's state wrote a dozen cold cache lines per request.
    let mut reply = reply;
    let (status, close, server_htx, http10) =
        (reply.status, reply.close, reply.htx_head, reply.http10);
    let mut lease = reply.lease.take();
    let end = reply.end;
    let headers = &mut reply.headers;
    // A chunked HTTP/1.0 response closes the client connection in HAProxy
    // 2.6, even when it asks to keep alive.
    let chunked_10 = http10 && headers.contains_key(TRANSFER_ENCODING);
    let closing = close || stopping || !client_keep_alive || chunked_10;
    let mut w = Written {
        bytes: 0,
        complete: true,
        term: None,
        must_close: false,
    };

    if let Some(raw) = reply.raw.take() {
        let htx = server_htx.unwrap_or_else(|| htx_size_raw(&raw));
        let bytes = crate::pages::for_client(&raw, closing, client_version, is_head);
        match timed(t_client, wr.write_all(&bytes)).await {
            Ok(()) => w.bytes = htx,
            Err(t) => {
                w.complete = false;
                w.term = Some(t);
            }
        }
        let _ = wr.flush().await;
        return (w, closing, end, lease);
    }
    if status == 0 {
        // No response at all (the client is gone).
        w.complete = false;
        return (w, true, end, lease);
    }

    // Framing.
    let no_body_status = (100..200).contains(&status) || status == 204;
    if no_body_status {
        crate::headers::remove_ordered(headers, &CONTENT_LENGTH);
        crate::headers::remove_ordered(headers, &TRANSFER_ENCODING);
    }
    let mut add_te = false;
    let framing = if no_body_status || is_head || status == 304 {
        RespFraming::NoBody
    } else {
        match &reply.body {
            RespBody::Empty => {
                if !headers.contains_key(CONTENT_LENGTH) {
                    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
                }
                RespFraming::Length
            }
            RespBody::Full(b) => {
                if !headers.contains_key(CONTENT_LENGTH) {
                    headers.insert(CONTENT_LENGTH, HeaderValue::from(b.len()));
                }
                RespFraming::Length
            }
            // The server's framing, whatever the client's version (as
            // HAProxy does): chunked stays chunked, until-close closes.
            RespBody::Upstream(b) => match b.kind {
                BodyKind::Length => RespFraming::Length,
                BodyKind::Chunked => {
                    crate::headers::remove_ordered(headers, &CONTENT_LENGTH);
                    add_te = true;
                    RespFraming::Chunked
                }
                BodyKind::UntilClose => RespFraming::Close,
            },
        }
    };
    let closing = status != 101 && (closing || framing == RespFraming::Close);
    // What HAProxy counts (`%B`, bytes out) is the message as its HTX holds
    // it: the framing headers the H1 layer adds are not part of it.
    let htx_head = server_htx.unwrap_or_else(|| {
        htx_head_size(["HTTP/1.1", &status.to_string(), &reply.reason], headers)
    });
    if add_te && !headers.contains_key(TRANSFER_ENCODING) {
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
    }
    // HTTP/1.1 keeps alive by default, 1.0 closes: a last header line says
    // so when the status line's version (or the client's) means otherwise,
    // after the server's own `Connection` lines, as HAProxy writes it. An
    // `upgrade` token (a 101 too) leaves `Connection` as the server sent it.
    let conn_line: &[u8] =
        if status == 101 || crate::headers::has_token(headers, &CONNECTION, "upgrade") {
            b""
        } else if closing {
            if http10 {
                b""
            } else {
                b"connection: close\r\n"
            }
        } else if client_version == Version::HTTP_10 || http10 {
            b"connection: keep-alive\r\n"
        } else {
            b""
        };
    // The head and whatever body is already at hand go out in one write:
    // on loopback each send runs the receiver's TCP input path too, so a
    // split head/body write costs about a whole extra round of kernel work.
    let mut out = std::mem::take(&mut reply.interim);
    out.reserve(512);
    encode_head(&mut out, http10, status, &reply.reason, headers, conn_line);
    let mut body_bytes = 0u64;
    let mut upstream = None;
    match std::mem::replace(&mut reply.body, RespBody::Empty) {
        RespBody::Empty => {}
        RespBody::Full(b) => {
            if framing != RespFraming::NoBody {
                encode_body_frame(&mut out, framing, &b);
                body_bytes = b.len() as u64;
            }
        }
        RespBody::Upstream(mut inc) => {
            // Body bytes that came with the head cost nothing to wait for.
            let (n, ended) = gather(&mut inc, framing, None, &mut out);
            body_bytes = n;
            if ended {
                give_back(&mut lease, *inc);
            } else {
                upstream = Some(inc);
            }
        }
    }
    if let Err(t) = timed(t_client, wr.write_all(&out)).await {
        w.complete = false;
        w.term = Some(t);
        return (w, true, end, lease);
    }
    w.bytes += htx_head + body_bytes;
    drop(out);

    if let Some(mut inc) = upstream {
        let t_server = lease.as_ref().and_then(|l| l.t_server);
        let kill = lease.as_ref().and_then(|l| l.kill.clone());
        let observe = |ev| {
            if let Some(l) = &lease {
                l.observe(ev);
            }
        };
        let mut ended = false;
        let mut buf = Vec::new();
        loop {
            let next = async {
                match t_server {
                    Some(t) => crate::timing::timeout(t, inc.next()).await.ok(),
                    None => Some(inc.next().await),
                }
            };
            let frame = tokio::select! {
                f = next => match f {
                    Some(f) => f,
                    None => {
                        observe(ObserveEvent::HttpReadTimeout);
                        w.complete = false;
                        w.term = Some(*b"sD");
                        break;
                    }
                },
                k = crate::kill::killed(kill.as_ref()) => {
                    w.complete = false;
                    w.term = Some([k.code(), b'D']);
                    break;
                }
            };
            let first = match frame {
                Ok(d) => Some(d),
                Err(_) => {
                    observe(ObserveEvent::HttpReadError);
                    w.complete = false;
                    w.term = Some(*b"SD");
                    break;
                }
            };
            buf.clear();
            let (n, end_seen) = gather(&mut inc, framing, first, &mut buf);
            if let Err(t) = timed(t_client, wr.write_all(&buf)).await {
                w.complete = false;
                w.term = Some(t);
                break;
            }
            w.bytes += n;
            if end_seen {
                ended = true;
                break;
            }
        }
        if ended {
            give_back(&mut lease, *inc);
        }
    }
    if w.complete && wr.flush().await.is_err() {
        w.complete = false;
        w.term = Some(*b"CD");
    }
    w.must_close = framing == RespFraming::Close;
    let close = closing || !w.complete;
    (w, close, end, lease)
}

/// The most body data gathered behind a head for its first write.
const COALESCE_MAX: usize = 64 * 1024;

/// Body data from the server that is ready now, after `first` (what a read
/// just returned: data, or `Some(None)` for the end), written to `out` as
/// one frame of `framing` (HAProxy sends what it has buffered as one
/// chunk), then the end of the body if it came: the last chunk with the
/// server's trailers. Returns the data bytes and whether the body ended.
fn gather(
    inc: &mut crate::upstream::UpBody,
    framing: RespFraming,
    first: Option<Option<Bytes>>,
    out: &mut Vec<u8>,
) -> (u64, bool) {
    let mut ended = false;
    // Only a chunked body keeps its pieces (its size line goes first); any
    // other is copied out as it comes.
    let chunked = framing == RespFraming::Chunked;
    let copy = framing != RespFraming::NoBody && !chunked;
    let mut pieces: Vec<Bytes> = Vec::new();
    let mut total = 0usize;
    let mut counted = 0u64;
    let mut take = |d: Bytes, total: &mut usize, out: &mut Vec<u8>| {
        *total += d.len();
        if chunked {
            pieces.push(d);
        } else if copy {
            out.extend_from_slice(&d);
        }
    };
    match first {
        Some(Some(d)) => take(d, &mut total, out),
        Some(None) => ended = true,
        None => {}
    }
    while !ended && total < COALESCE_MAX {
        match inc.ready() {
            Some(Ok(Some(d))) => take(d, &mut total, out),
            Some(Ok(None)) => ended = true,
            // An error is seen (and accounted) by the caller's next read.
            Some(Err(_)) | None => break,
        }
    }
    // A chunked server body's end block and trailers count in `%B`, as in
    // HAProxy's HTX, whatever framing the client gets.
    let trailers = if ended && inc.kind == BodyKind::Chunked {
        let t = inc.take_trailers();
        counted += htx_trailers_size(&t);
        t
    } else {
        Vec::new()
    };
    if chunked {
        if total > 0 {
            chunk_size_line(out, total);
            pieces.iter().for_each(|p| out.extend_from_slice(p));
            out.extend_from_slice(b"\r\n");
        }
        if ended {
            out.extend_from_slice(b"0\r\n");
            out.extend_from_slice(&trailers);
            out.extend_from_slice(b"\r\n");
        }
    }
    (total as u64 + counted, ended)
}

/// A response body read to its end hands its connection back for reuse.
fn give_back(lease: &mut Option<crate::upstream::Lease>, body: crate::upstream::UpBody) {
    if let Some(l) = lease.as_mut() {
        l.conn = body.into_conn();
    }
}

/// Run a client write with `timeout client`; on failure the termination
/// code (`cD` timeout, `CD` client gone).
async fn timed<T, E>(
    t: Option<Duration>,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, [u8; 2]> {
    match t {
        Some(d) => match crate::timing::timeout(d, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_)) => Err(*b"CD"),
            Err(_) => Err(*b"cD"),
        },
        None => f.await.map_err(|_| *b"CD"),
    }
}
