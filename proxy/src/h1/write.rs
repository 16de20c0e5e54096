//! Writing a response to the client: the head (lowercase names, HAProxy's
//! H1 output) and body frames in the chosen framing.

use http::HeaderMap;

/// How the response body is delimited on the client connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RespFraming {
    /// No body at all (HEAD, 204, 304, or an empty static reply).
    NoBody,
    Length,
    Chunked,
    /// Delimited by closing the connection (HTTP/1.0 client, unknown length).
    Close,
}

/// Append `HTTP/1.x <status> <reason>`, the headers and `last` (header
/// lines the writer adds, CRLF-ended), then the blank line. The version is
/// 1.1 unless a server answered in 1.0 (HAProxy keeps the server's
/// version).
pub(crate) fn encode_head(
    out: &mut Vec<u8>,
    http10: bool,
    status: u16,
    reason: &str,
    headers: &HeaderMap,
    last: &[u8],
) {
    out.extend_from_slice(if http10 { b"HTTP/1.0 " } else { b"HTTP/1.1 " });
    push_status(out, status);
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(last);
    out.extend_from_slice(b"\r\n");
}

/// A status code's digits (no formatter, no allocation).
fn push_status(out: &mut Vec<u8>, status: u16) {
    let mut digits = [0u8; 5];
    let mut n = status;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// HAProxy's internal (HTX) size of a message head, which is what `%B` and
/// the byte counters measure: a 20-byte start-line block plus the three
/// start-line parts, each header's name and value, and one end-of-headers
/// byte. Body data then counts its decoded length.
/// HAProxy's H1 parser consumes `Connection` (it becomes message flags),
/// so that header is not counted; `Transfer-Encoding` is.
pub(crate) fn htx_head_size(parts: [&str; 3], headers: &HeaderMap) -> u64 {
    let sl: usize = parts.iter().map(|p| p.len()).sum();
    let hs: usize = headers
        .iter()
        .filter(|(n, _)| *n != http::header::CONNECTION)
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    (20 + sl + hs + 1) as u64
}

/// HAProxy's HTX size of a chunked body's end: its end-of-trailers block
/// (one byte) and each trailer's name and value. `lines` are the trailer
/// lines as forwarded, each ending in CRLF.
pub(crate) fn htx_trailers_size(lines: &[u8]) -> u64 {
    let fields: usize = lines
        .split(|b| *b == b'\n')
        .filter_map(|l| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            let colon = l.iter().position(|b| *b == b':')?;
            let value = l[colon + 1..].trim_ascii();
            Some(colon + value.len())
        })
        .sum();
    1 + fields as u64
}

/// [`htx_head_size`] plus body length of a complete pre-encoded response.
pub(crate) fn htx_size_raw(raw: &[u8]) -> u64 {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return raw.len() as u64;
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let sl = lines.next().unwrap_or("");
    // "HTTP/1.1 503 Service Unavailable": version, status, reason.
    let sl_len = sl.len().saturating_sub(2);
    let hs: usize = lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| !n.eq_ignore_ascii_case("connection"))
        .map(|(n, v)| n.len() + v.trim().len())
        .sum();
    (20 + sl_len + hs + 1 + (raw.len() - end - 4)) as u64
}

/// Append one piece of body data in `framing` to `out`.
pub(crate) fn encode_body_frame(out: &mut Vec<u8>, framing: RespFraming, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    match framing {
        RespFraming::NoBody => {}
        RespFraming::Length | RespFraming::Close => out.extend_from_slice(data),
        RespFraming::Chunked => {
            chunk_size_line(out, data.len());
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// A chunk's size line, in upper-case hex as HAProxy writes it.
pub(crate) fn chunk_size_line(out: &mut Vec<u8>, len: usize) {
    use std::io::Write as _;
    let _ = write!(out, "{len:X}\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htx_sizes_match_haproxy_logs() {
        // HAProxy logged %B=217 for its 503 page and 209 for its 502.
        assert_eq!(htx_size_raw(&crate::pages::htx_page(503)), 217);
        assert_eq!(htx_size_raw(&crate::pages::htx_page(502)), 209);
        let mut h = HeaderMap::new();
        h.insert("content-length", http::HeaderValue::from_static("5"));
        h.insert("content-type", http::HeaderValue::from_static("text/plain"));
        // `http-request return ... string "pong\n"` logged 76.
        assert_eq!(htx_head_size(["HTTP/1.1", "200", "OK"], &h) + 5, 76);
    }

    #[test]
    fn head_is_lowercase_in_order() {
        let mut h = HeaderMap::new();
        h.insert("Content-Length", http::HeaderValue::from_static("5"));
        h.append("X-A", http::HeaderValue::from_static("1"));
        let mut out = Vec::new();
        encode_head(&mut out, false, 200, "OK", &h, b"");
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: 1\r\n\r\n"
        );
    }
}
