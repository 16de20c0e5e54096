//! Sans-io pieces of HTTP/1.1 shared by the blocking client and the fake upstream:
//! how a message's body is delimited, and chunked decoding.

mod chunked;
mod framing;

pub use chunked::{ChunkError, ChunkedDecoder};
pub use framing::{request_framing, response_framing, BodyFraming};

/// Header list as tests like to see it: (lowercase name, value) in wire order.
pub type HeaderList = Vec<(String, String)>;

/// Converts parsed httparse headers into a [`HeaderList`].
pub fn header_list(headers: &[httparse::Header<'_>]) -> HeaderList {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// First value of header `name` (case-insensitive).
pub fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Position just past the blank line ending a message head, if `buf` holds one.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}
