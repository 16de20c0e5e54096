//! Reading a server's response head: httparse over the connection's buffer,
//! header values shared with that buffer (no copy), interim 1xx responses
//! passed on, and the body framing RFC 9112 §6.3 gives the response.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, StatusCode};

use super::body::BodyKind;
use super::conn::Conn;
use super::interim::Interim;
use super::status_line::{self, Repair};
use crate::h1::Decoder;

/// HAProxy's default `tune.http.maxhdr` (101, counting the status line):
/// a response may carry 100 header fields.
const MAX_HEADERS: usize = crate::h1::MAX_HEADERS;

pub(crate) struct RespHead {
    pub(crate) status: u16,
    pub(crate) reason: Cow<'static, str>,
    pub(crate) http10: bool,
    pub(crate) headers: HeaderMap,
    /// Interim (1xx) responses that came first and were kept, encoded for
    /// the client (HAProxy forwards them, whatever the client's version).
    pub(crate) interim: Vec<u8>,
    /// The framing headers, as checked: `Transfer-Encoding: chunked`, or
    /// the length.
    chunked: bool,
    length: Option<u64>,
    /// A lone `Connection: close` or `keep-alive` line, taken out when the
    /// head was read (`Some(true)`: close), as HAProxy's H1 parser cleans
    /// these tokens before any rule sees the message.
    lone_connection: Option<bool>,
}

impl RespHead {
    /// Whether the server leaves the connection open after this response.
    pub(crate) fn keeps_alive(&self) -> bool {
        match self.lone_connection {
            Some(close) => !close,
            None => crate::h1::keeps_alive(&self.headers, self.http10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// The server closed before a complete head.
    Closed,
    /// The socket failed (reset).
    Io,
    /// Not a valid HTTP/1.x response, or too large.
    Invalid,
}

/// Read the final response head within `interim.limit` bytes; interim
/// 1xx responses (other than 101) before it go to `interim`.
pub(crate) async fn read_head(
    conn: &mut Conn,
    interim: &mut Interim<'_>,
) -> Result<RespHead, HeadError> {
    if let Some(early) = interim.early.take() {
        return early.map(|h| *h);
    }
    loop {
        if let Some(head) = next_head(&mut conn.rd.buf, interim)? {
            return Ok(head);
        }
        match conn.rd.fill().await {
            Ok(0) => return Err(HeadError::Closed),
            Ok(_) => {}
            Err(_) => return Err(HeadError::Io),
        }
    }
}

/// While the request is still going out: take what `buf` holds of the
/// response, and say whether the server's final answer came (complete,
/// or invalid), rather than nothing yet, interim responses only or a
/// head still arriving. That answer waits in `interim` for [`read_head`].
pub(crate) fn answer_ahead(buf: &mut BytesMut, interim: &mut Interim<'_>) -> bool {
    let early = match next_head(buf, interim) {
        Ok(None) => return false,
        Ok(Some(head)) => Ok(Box::new(head)),
        Err(e) => Err(e),
    };
    interim.early = Some(early);
    true
}

/// Take the complete heads at the front of `buf`: interim ones go to
/// `interim`; the final one, once complete, comes back with the interim
/// ones that were kept.
fn next_head(buf: &mut BytesMut, interim: &mut Interim<'_>) -> Result<Option<RespHead>, HeadError> {
    while !buf.is_empty() {
        let Some((p, len)) = parse(buf, interim.limit)? else {
            return Ok(None);
        };
        let raw = buf.split_to(len).freeze();
        let mut head = build(p, &raw)?;
        if !is_interim(head.status) {
            head.interim = interim.take_kept();
            return Ok(Some(head));
        }
        interim.push(head.status, &head.reason, &head.headers);
    }
    Ok(None)
}

/// A non-final response: 1xx, except 101 (which switches protocols).
fn is_interim(status: u16) -> bool {
    (100..200).contains(&status) && status != 101
}

/// Offsets into the head's bytes: what httparse found, kept without
/// borrowing the buffer so values can share its allocation afterwards.
struct Parsed {
    status: u16,
    reason: (usize, usize),
    http10: bool,
    headers: Vec<((usize, usize), (usize, usize))>,
    /// How many `Connection` lines there are.
    connection_lines: usize,
}

fn parse(buf: &[u8], limit: usize) -> Result<Option<(Parsed, usize)>, HeadError> {
    match parse_in(buf, limit) {
        Err(HeadError::Invalid) => {}
        r => return r,
    }
    match status_line::repair(buf) {
        Repair::Wait if buf.len() < limit => Ok(None),
        Repair::Done(r) => Ok(parse_in(&r.copy, limit)?.map(|(mut p, len)| {
            p.status = r.status;
            p.reason = r.reason;
            p.http10 = r.http10;
            (p, len)
        })),
        _ => Err(HeadError::Invalid),
    }
}

/// httparse over `buf`: offsets into it.
fn parse_in(buf: &[u8], limit: usize) -> Result<Option<(Parsed, usize)>, HeadError> {
    // Uninitialised slots: filling 101 empty headers wrote 3 KB per response.
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut []);
    let mut cfg = httparse::ParserConfig::default();
    cfg.allow_obsolete_multiline_headers_in_responses(true);
    let len = match cfg.parse_response_with_uninit_headers(&mut resp, buf, &mut slots) {
        Ok(httparse::Status::Complete(n)) if n <= limit => n,
        Ok(httparse::Status::Partial) if buf.len() < limit => return Ok(None),
        _ => return Err(HeadError::Invalid),
    };
    // httparse's slices point into `buf`, except empty ones (an empty
    // reason or value may be a static ""): those become an empty range.
    let base = buf.as_ptr() as usize;
    let at = |s: &[u8]| -> Result<(usize, usize), HeadError> {
        if s.is_empty() {
            return Ok((0, 0));
        }
        let start = (s.as_ptr() as usize)
            .checked_sub(base)
            .ok_or(HeadError::Invalid)?;
        let end = start + s.len();
        if end > len {
            return Err(HeadError::Invalid);
        }
        Ok((start, end))
    };
    let reason = match resp.reason {
        Some(r) => at(r.as_bytes())?,
        None => (0, 0),
    };
    // Sized up front: collecting through `Result` would grow it step by step.
    let mut headers = Vec::with_capacity(resp.headers.len());
    let mut connection_lines = 0;
    for h in resp.headers.iter() {
        headers.push((at(h.name.as_bytes())?, at(h.value)?));
        connection_lines += usize::from(h.name.eq_ignore_ascii_case("connection"));
    }
    Ok(Some((
        Parsed {
            status: resp.code.ok_or(HeadError::Invalid)?,
            reason,
            http10: resp.version == Some(0),
            headers,
            connection_lines,
        },
        len,
    )))
}

fn build(p: Parsed, raw: &Bytes) -> Result<RespHead, HeadError> {
    if p.status < 100 {
        return Err(HeadError::Invalid);
    }
    let reason_bytes = &raw[p.reason.0..p.reason.1];
    let canonical = StatusCode::from_u16(p.status)
        .ok()
        .and_then(|s| s.canonical_reason());
    let reason = match canonical {
        Some(c) if c.as_bytes() == reason_bytes => Cow::Borrowed(c),
        _ => Cow::Owned(String::from_utf8_lossy(reason_bytes).into_owned()),
    };
    let mut headers = HeaderMap::with_capacity(p.headers.len());
    let mut lone_connection = None;
    // The framing lines, counted on the way: the usual response (one
    // plain length, or none) then needs no lookups to check them.
    let (mut codings, mut lengths, mut length) = (0u32, 0u32, None);
    for ((ns, ne), (vs, ve)) in p.headers {
        let name = HeaderName::from_bytes(&raw[ns..ne]).map_err(|_| HeadError::Invalid)?;
        let v = &raw[vs..ve];
        if name == TRANSFER_ENCODING {
            codings += 1;
        } else if name == CONTENT_LENGTH {
            lengths += 1;
            length = crate::h1::plain_number(v);
        }
        if p.connection_lines == 1 && name == CONNECTION {
            if let Some(close) = crate::h1::close_or_keep_alive(v) {
                lone_connection = Some(close);
                continue;
            }
        }
        let value = if memchr::memchr2(b'\r', b'\n', v).is_some() {
            // An obsolete line folding becomes spaces (RFC 9112 §5.2).
            let folded: Vec<u8> = v
                .iter()
                .map(|b| if *b == b'\r' || *b == b'\n' { b' ' } else { *b })
                .collect();
            HeaderValue::from_bytes(&folded)
        } else {
            HeaderValue::from_maybe_shared(raw.slice(vs..ve))
        }
        .map_err(|_| HeadError::Invalid)?;
        headers.append(name, value);
    }
    let (chunked, length) = match (codings, lengths, length) {
        (0, 0, _) => (false, None),
        (0, 1, Some(n)) => (false, Some(n)),
        _ => check_framing(&mut headers)?,
    };
    if !crate::h1::websocket::response_ok(p.status, &headers) {
        return Err(HeadError::Invalid);
    }
    Ok(RespHead {
        status: p.status,
        reason,
        http10: p.http10,
        headers,
        interim: Vec::new(),
        chunked,
        length,
        lone_connection,
    })
}

/// HAProxy 2.6 refuses (502) a response whose Transfer-Encoding names a
/// coding other than `chunked`, or `chunked` twice, or whose lengths are
/// invalid or disagree, whatever its status or the request's method. A
/// list of equal lengths becomes one; chunked drops the length. Whether
/// it is chunked, and the length.
fn check_framing(headers: &mut HeaderMap) -> Result<(bool, Option<u64>), HeadError> {
    let chunked = crate::h1::chunked(headers).map_err(|_| HeadError::Invalid)?;
    if chunked && !crate::h1::only_chunked(headers) {
        return Err(HeadError::Invalid);
    }
    let len = crate::h1::content_length(headers).map_err(|_| HeadError::Invalid)?;
    if chunked {
        if len.is_some() {
            crate::headers::remove_ordered(headers, &CONTENT_LENGTH);
        }
        return Ok((true, None));
    }
    if let Some(n) = len {
        crate::h1::one_length(headers, n);
    }
    Ok((false, len))
}

/// How the body of this response is delimited.
pub(crate) fn body_decoder(head: &RespHead, is_head: bool) -> (Decoder, BodyKind) {
    use crate::h1::Framing;
    let s = head.status;
    if is_head || (100..200).contains(&s) || s == 204 || s == 304 {
        return (Decoder::new(Framing::None), BodyKind::Length);
    }
    // HAProxy takes chunked from an HTTP/1.0 server too (`check_framing`
    // refused the rest).
    if head.chunked {
        let dec = Decoder::new(Framing::Chunked).keeping_trailers();
        return (dec, BodyKind::Chunked);
    }
    match head.length {
        Some(n) => (Decoder::new(Framing::Length(n)), BodyKind::Length),
        None => (Decoder::until_close(), BodyKind::UntilClose),
    }
}
