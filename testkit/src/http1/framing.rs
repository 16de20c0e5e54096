//! Where a message body ends (RFC 9112 section 6.3).

use super::find_header;

/// How the body of a message is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body at all.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes (responses only).
    UntilClose,
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        .flat_map(|(_, v)| v.split(','))
        .last()
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

fn content_length(headers: &[(String, String)]) -> Result<Option<u64>, String> {
    match find_header(headers, "content-length") {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| format!("bad content-length {v:?}")),
    }
}

/// Body framing of a request.
pub fn request_framing(headers: &[(String, String)]) -> Result<BodyFraming, String> {
    if is_chunked(headers) {
        return Ok(BodyFraming::Chunked);
    }
    Ok(match content_length(headers)? {
        Some(0) | None => BodyFraming::Empty,
        Some(n) => BodyFraming::Length(n),
    })
}

/// Body framing of a response to a `method` request.
pub fn response_framing(
    method: &str,
    status: u16,
    headers: &[(String, String)],
) -> Result<BodyFraming, String> {
    if method.eq_ignore_ascii_case("HEAD")
        || (100..200).contains(&status)
        || status == 204
        || status == 304
    {
        return Ok(BodyFraming::Empty);
    }
    if is_chunked(headers) {
        return Ok(BodyFraming::Chunked);
    }
    Ok(match content_length(headers)? {
        Some(0) => BodyFraming::Empty,
        Some(n) => BodyFraming::Length(n),
        None => BodyFraming::UntilClose,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn framing_rules() {
        assert_eq!(request_framing(&h(&[])), Ok(BodyFraming::Empty));
        assert_eq!(
            request_framing(&h(&[("Content-Length", "5")])),
            Ok(BodyFraming::Length(5))
        );
        assert_eq!(
            request_framing(&h(&[("transfer-encoding", "gzip, chunked")])),
            Ok(BodyFraming::Chunked)
        );
        assert!(request_framing(&h(&[("content-length", "x")])).is_err());
        assert_eq!(
            response_framing("HEAD", 200, &h(&[("content-length", "5")])),
            Ok(BodyFraming::Empty)
        );
        assert_eq!(
            response_framing("GET", 200, &h(&[])),
            Ok(BodyFraming::UntilClose)
        );
        assert_eq!(
            response_framing("GET", 204, &h(&[])),
            Ok(BodyFraming::Empty)
        );
    }
}
