//! Writing a response to the client: the head (lowercase names, HAProxy's
//! H1 output) and body frames in the chosen framing.

use http::HeaderMap;
use tokio::io::{AsyncWrite, AsyncWriteExt};

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

/// Append `HTTP/1.1 <status> <reason>` and the headers, then the blank line.
pub(crate) fn encode_head(out: &mut Vec<u8>, status: u16, reason: &str, headers: &HeaderMap) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Write one piece of body data in `framing`; returns the bytes written.
pub(crate) async fn write_body_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    framing: RespFraming,
    data: &[u8],
) -> std::io::Result<u64> {
    if data.is_empty() {
        return Ok(0);
    }
    match framing {
        RespFraming::NoBody => Ok(0),
        RespFraming::Length | RespFraming::Close => {
            w.write_all(data).await?;
            Ok(data.len() as u64)
        }
        RespFraming::Chunked => {
            let size = format!("{:x}\r\n", data.len());
            w.write_all(size.as_bytes()).await?;
            w.write_all(data).await?;
            w.write_all(b"\r\n").await?;
            Ok((size.len() + data.len() + 2) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_lowercase_in_order() {
        let mut h = HeaderMap::new();
        h.insert("Content-Length", http::HeaderValue::from_static("5"));
        h.append("X-A", http::HeaderValue::from_static("1"));
        let mut out = Vec::new();
        encode_head(&mut out, 200, "OK", &h);
        assert_eq!(out, b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: 1\r\n\r\n");
    }
}
