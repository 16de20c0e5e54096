//! Parsing a request head (request line and headers) with httparse, and
//! deciding how its body is framed.

use std::mem::MaybeUninit;

use http::header::{
    HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING,
};
use http::{HeaderMap, Method, Uri, Version};

/// HAProxy's default `tune.http.maxhdr` (101) counts the start line: a
/// request may carry 100 header fields (checked against haproxy 2.6).
pub(crate) const MAX_HEADERS: usize = 100;

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    None,
    Length(u64),
    Chunked,
}

#[derive(Debug)]
pub(crate) struct ReqHead {
    pub(crate) method: Method,
    /// The request target exactly as received.
    pub(crate) target: String,
    pub(crate) uri: Uri,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    pub(crate) framing: Framing,
    /// The client wants the connection kept open after this exchange.
    pub(crate) keep_alive: bool,
    pub(crate) expect_continue: bool,
}

impl ReqHead {
    /// `GET /x HTTP/1.1`, as `%r` logs it (`HTTP/2.0` for an HTTP/2
    /// stream, as HAProxy writes it).
    pub(crate) fn request_line(&self) -> String {
        let v = if self.version == Version::HTTP_10 {
            "HTTP/1.0"
        } else if self.version == Version::HTTP_2 {
            "HTTP/2.0"
        } else {
            "HTTP/1.1"
        };
        format!("{} {} {}", self.method, self.target, v)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// Not valid HTTP/1.x.
    Invalid,
    /// Larger than the buffer allows.
    TooLarge,
    /// A request body in a transfer coding other than `chunked` alone
    /// (HAProxy 2.6 answers 422).
    Unprocessable,
    /// A body on an HTTP/1.0 GET, HEAD or DELETE (HAProxy 2.6 answers 413).
    BodyNotAllowed,
}

impl HeadError {
    /// The status HAProxy 2.6 answers a head it refuses with.
    pub(crate) fn status(self) -> u16 {
        match self {
            HeadError::Unprocessable => 422,
            HeadError::BodyNotAllowed => 413,
            HeadError::Invalid | HeadError::TooLarge => 400,
        }
    }
}

/// Parse a head at the start of `buf`. `Ok(None)` means more bytes are
/// needed; on success returns the head and its length in bytes.
pub(crate) fn parse_head(
    buf: &[u8],
    max_len: usize,
) -> Result<Option<(Box<ReqHead>, usize)>, HeadError> {
    match parse_strict(buf, max_len, None) {
        // What HAProxy accepts and httparse does not is rare: it is
        // repaired on a copy, off the common path.
        Err(HeadError::Invalid) => super::lenient::reparse(buf, max_len),
        r => r,
    }
}

/// Parse with httparse (`cfg` for the lenient second try).
pub(super) fn parse_strict(
    buf: &[u8],
    max_len: usize,
    cfg: Option<&httparse::ParserConfig>,
) -> Result<Option<(Box<ReqHead>, usize)>, HeadError> {
    // Uninitialised slots: filling 101 empty headers wrote 3 KB per request.
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let parsed = match cfg {
        None => req.parse_with_uninit_headers(buf, &mut slots),
        Some(c) => c.parse_request_with_uninit_headers(&mut req, buf, &mut slots),
    };
    let len = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() >= max_len {
                Err(HeadError::TooLarge)
            } else {
                Ok(None)
            };
        }
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(_) => return Err(HeadError::Invalid),
    };
    if len > max_len {
        return Err(HeadError::TooLarge);
    }
    let method =
        Method::from_bytes(req.method.unwrap_or("").as_bytes()).map_err(|_| HeadError::Invalid)?;
    let target = req.path.unwrap_or("").to_string();
    let uri = super::target::request_uri(&target, &method)?;
    let version = match req.version {
        Some(0) => Version::HTTP_10,
        Some(1) => Version::HTTP_11,
        _ => return Err(HeadError::Invalid),
    };
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    // Which of the headers that shape the message are present, so the
    // common request (none of them) skips their lookups.
    let (mut body_framed, mut conn_tokens, mut expect) = (false, false, false);
    let mut hosts = 0u32;
    for h in req.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| HeadError::Invalid)?;
        let value = HeaderValue::from_bytes(trim(h.value)).map_err(|_| HeadError::Invalid)?;
        body_framed |= name == CONTENT_LENGTH || name == TRANSFER_ENCODING;
        conn_tokens |= name == CONNECTION;
        expect |= name == EXPECT;
        hosts += u32::from(name == HOST);
        headers.append(name, value);
    }
    if hosts > 1 || uri.scheme().is_some() {
        super::target::check_host(&mut headers, &uri)?;
    }
    let mut framing = Framing::None;
    let mut smuggle_risk = false;
    if body_framed {
        let no_body = version == Version::HTTP_10
            && matches!(method, Method::GET | Method::HEAD | Method::DELETE);
        (framing, smuggle_risk) = request_framing(&mut headers, no_body)?;
    }
    // A request with a body is no upgrade to HAProxy: it loses `Upgrade`,
    // and only a bodiless one must carry a WebSocket key.
    if conn_tokens {
        if framing != Framing::None {
            super::websocket::drop_upgrade(&mut headers);
        } else if !super::websocket::request_ok(&headers) {
            return Err(HeadError::Invalid);
        }
    }
    let http10 = version == Version::HTTP_10;
    let keep_alive = if conn_tokens {
        keeps_alive(&headers, http10)
    } else {
        !http10
    };
    // Both a length and a transfer coding: the chunked body is taken, and
    // the connection closes after this exchange, as HAProxy does (nothing
    // that followed on it could be trusted).
    let keep_alive = keep_alive && !smuggle_risk;
    let expect_continue = expect
        && headers
            .get(EXPECT)
            .map(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
            .unwrap_or(false);
    // Boxed here, once: the head then travels by pointer.
    Ok(Some((
        Box::new(ReqHead {
            method,
            target,
            uri,
            version,
            headers,
            framing,
            keep_alive,
            expect_continue,
        }),
        len,
    )))
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map(|i| i + 1)
        .unwrap_or(start);
    &v[start..end.max(start)]
}

/// A request's framing, and whether it had both Transfer-Encoding and
/// Content-Length. A body where HTTP/1.0 allows none (`no_body`) is
/// refused with 413, codings besides `chunked` with 422, and a
/// repeated or listed length goes on as one `content-length`, as HAProxy
/// does (a server must not see `3, 3`).
fn request_framing(headers: &mut HeaderMap, no_body: bool) -> Result<(Framing, bool), HeadError> {
    let f = framing(headers)?;
    if no_body && f != Framing::None {
        return Err(HeadError::BodyNotAllowed);
    }
    if f == Framing::Chunked {
        if !only_chunked(headers) {
            return Err(HeadError::Unprocessable);
        }
        return Ok((f, headers.contains_key(CONTENT_LENGTH)));
    }
    let n = match f {
        Framing::Length(n) => n,
        _ => 0,
    };
    one_length(headers, n);
    Ok((f, false))
}

/// Whether every Transfer-Encoding coding is `chunked`.
pub(crate) fn only_chunked(headers: &HeaderMap) -> bool {
    headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .all(|c| c.is_empty() || c.eq_ignore_ascii_case("chunked"))
}

/// A repeated or listed Content-Length (already checked to agree, as `n`)
/// goes on as one value in the first one's place, as HAProxy forwards it:
/// the other side must not see `3, 3`. A single plain value is left as is.
pub(crate) fn one_length(headers: &mut HeaderMap, n: u64) {
    let mut all = headers.get_all(CONTENT_LENGTH).iter();
    let listed = match (all.next(), all.next()) {
        (None, _) => return,
        (Some(v), None) => v.as_bytes().contains(&b','),
        (Some(_), Some(_)) => true,
    };
    if listed {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(n));
    }
}

/// RFC 9112 §6: Transfer-Encoding wins over Content-Length; a TE whose last
/// coding is not `chunked`, or invalid or conflicting lengths (with a TE
/// too), make the request invalid.
/// HAProxy 2.6 takes a chunked body from an HTTP/1.0 client too.
fn framing(headers: &HeaderMap) -> Result<Framing, HeadError> {
    // Every Content-Length must be valid and agree even when
    // Transfer-Encoding wins: HAProxy refuses the request otherwise.
    let length = content_length(headers)?;
    if chunked(headers)? {
        return Ok(Framing::Chunked);
    }
    Ok(match length {
        Some(0) | None => Framing::None,
        Some(n) => Framing::Length(n),
    })
}

/// Whether Transfer-Encoding is present; it must end in `chunked` (and
/// name it only there), as HAProxy requires of requests and responses.
pub(crate) fn chunked(headers: &HeaderMap) -> Result<bool, HeadError> {
    let mut te_seen = false;
    let mut chunked_last = false;
    for v in headers.get_all(TRANSFER_ENCODING) {
        te_seen = true;
        let s = v.to_str().map_err(|_| HeadError::Invalid)?;
        for coding in s.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if chunked_last {
                // `chunked` must be the final coding.
                return Err(HeadError::Invalid);
            }
            chunked_last = coding.eq_ignore_ascii_case("chunked");
        }
    }
    if te_seen && !chunked_last {
        return Err(HeadError::Invalid);
    }
    Ok(te_seen)
}

/// The Content-Length, if any: every value (and comma-separated part) must
/// be digits and all must agree.
pub(crate) fn content_length(headers: &HeaderMap) -> Result<Option<u64>, HeadError> {
    let all = headers.get_all(CONTENT_LENGTH);
    let mut it = all.iter();
    // The usual message: one value of plain digits, read without splitting.
    match (it.next(), it.next()) {
        (None, _) => return Ok(None),
        (Some(v), None) => {
            if let Some(n) = plain_number(v.as_bytes()) {
                return Ok(Some(n));
            }
        }
        _ => {}
    }
    let mut len: Option<u64> = None;
    for v in all {
        let s = v.to_str().map_err(|_| HeadError::Invalid)?;
        for part in s.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HeadError::Invalid);
            }
            let n: u64 = part.parse().map_err(|_| HeadError::Invalid)?;
            match len {
                Some(prev) if prev != n => return Err(HeadError::Invalid),
                _ => len = Some(n),
            }
        }
    }
    Ok(len)
}

/// Digits only (at most 19, so no overflow), as a number.
pub(crate) fn plain_number(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    b.iter().try_fold(0u64, |n, d| {
        d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
    })
}

/// Whether a message leaves its connection open: HTTP/1.1 unless it says
/// `close`, HTTP/1.0 only when it says `keep-alive` (and not `close`).
pub(crate) fn keeps_alive(headers: &HeaderMap, http10: bool) -> bool {
    let (close, ka) = connection_tokens(headers);
    !close && (ka || !http10)
}

/// A `Connection` value that is the token `close` (`Some(true)`) or
/// `keep-alive` (`Some(false)`) alone, in any case, spaces around allowed.
pub(crate) fn close_or_keep_alive(v: &[u8]) -> Option<bool> {
    let t = v.trim_ascii();
    if t.eq_ignore_ascii_case(b"close") {
        Some(true)
    } else if t.eq_ignore_ascii_case(b"keep-alive") {
        Some(false)
    } else {
        None
    }
}

/// `(close, keep-alive)` tokens of the Connection header.
fn connection_tokens(headers: &HeaderMap) -> (bool, bool) {
    let all = headers.get_all(CONNECTION);
    let mut it = all.iter();
    // The usual message: no `Connection`, or one that is a lone token.
    match (it.next(), it.next()) {
        (None, _) => return (false, false),
        (Some(v), None) if !v.as_bytes().contains(&b',') => {
            return match close_or_keep_alive(v.as_bytes()) {
                Some(close) => (close, !close),
                None => (false, false),
            };
        }
        _ => {}
    }
    let mut close = false;
    let mut ka = false;
    for v in all {
        if let Ok(s) = v.to_str() {
            for t in s.split(',').map(str::trim) {
                close |= t.eq_ignore_ascii_case("close");
                ka |= t.eq_ignore_ascii_case("keep-alive");
            }
        }
    }
    (close, ka)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::headers::header_map;

    fn parse(s: &str) -> Result<Option<(Box<ReqHead>, usize)>, HeadError> {
        parse_head(s.as_bytes(), 16384)
    }

    #[test]
    fn framing_rules() {
        let h = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(h.framing, Framing::Length(5));
        let h = parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(h.framing, Framing::Chunked);
        assert!(
            parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").is_err()
        );
        assert!(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").is_err());
        assert!(parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").is_err());
        assert!(parse("GARBAGE\r\n\r\n").is_err());
        assert!(parse("GET / HTTP/1.1\r\nHost: a\r\n").unwrap().is_none());
    }

    #[test]
    fn keep_alive_defaults() {
        let h = parse("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap().0;
        assert!(!h.keep_alive);
        let h = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert!(h.keep_alive);
        let h = parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert!(!h.keep_alive);
        assert_eq!(h.request_line(), "GET / HTTP/1.1");
    }

    #[test]
    fn content_length_fast_and_list_paths_agree() {
        let cl = |vs: &[&'static str]| {
            let pairs: Vec<_> = vs.iter().map(|v| ("content-length", *v)).collect();
            content_length(&header_map(&pairs)).ok()
        };
        assert_eq!(cl(&[]), Some(None));
        assert_eq!(cl(&["0"]), Some(Some(0)));
        assert_eq!(cl(&["0010"]), Some(Some(10)));
        assert_eq!(
            cl(&["9999999999999999999"]),
            Some(Some(9_999_999_999_999_999_999))
        );
        // Past u64, or not digits: refused by either path.
        assert_eq!(cl(&["99999999999999999999"]), None);
        assert_eq!(cl(&["+5"]), None);
        assert_eq!(cl(&[""]), None);
        // Lists: equal parts collapse, unequal ones are refused.
        assert_eq!(cl(&["5, 5"]), Some(Some(5)));
        assert_eq!(cl(&["5", "5"]), Some(Some(5)));
        assert_eq!(cl(&["5", "6"]), None);
        assert_eq!(cl(&["5,"]), None);
    }

    #[test]
    fn connection_tokens_fast_and_list_paths_agree() {
        let ct = |vs: &[&'static str]| {
            let pairs: Vec<_> = vs.iter().map(|v| ("connection", *v)).collect();
            connection_tokens(&header_map(&pairs))
        };
        assert_eq!(ct(&[]), (false, false));
        assert_eq!(ct(&["Close"]), (true, false));
        assert_eq!(ct(&[" keep-alive "]), (false, true));
        assert_eq!(ct(&["upgrade"]), (false, false));
        assert_eq!(ct(&["Upgrade, close"]), (true, false));
        assert_eq!(ct(&["upgrade", "Keep-Alive"]), (false, true));
        assert_eq!(ct(&["closed"]), (false, false));
    }
}
