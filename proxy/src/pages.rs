//! HAProxy 2.6's built-in responses, byte for byte. Pages produced by the
//! HTTP analyser go out with lowercase header names (HTX); the ones the H1
//! layer emits before a request exists (400, 408) keep HAProxy's
//! capitalised names and close the connection.

use bytes::Bytes;

/// `(status, reason, body text)` of every built-in error page.
const PAGES: &[(u16, &str, &str)] = &[
    (200, "OK", "Service ready."),
    (400, "Bad request", "Your browser sent an invalid request."),
    (
        401,
        "Unauthorized",
        "You need a valid user and password to access this content.",
    ),
    (
        403,
        "Forbidden",
        "Request forbidden by administrative rules.",
    ),
    (404, "Not Found", "The resource could not be found."),
    (
        405,
        "Method Not Allowed",
        "A request was made of a resource using a request method not supported by that resource",
    ),
    (
        407,
        "Unauthorized",
        "You need a valid user and password to access this content.",
    ),
    (
        408,
        "Request Time-out",
        "Your browser didn't send a complete request in time.",
    ),
    (
        410,
        "Gone",
        "The resource is no longer available and will not be available again.",
    ),
    (
        413,
        "Payload Too Large",
        "The request entity exceeds the maximum allowed.",
    ),
    (
        421,
        "Misdirected Request",
        "Request sent to a non-authoritative server.",
    ),
    (
        422,
        "Unprocessable Content",
        "The server cannot process the contained instructions.",
    ),
    (425, "Too Early", "Your browser sent early data."),
    (
        429,
        "Too Many Requests",
        "You have sent too many requests in a given amount of time.",
    ),
    (
        500,
        "Internal Server Error",
        "An internal server error occurred.",
    ),
    (
        501,
        "Not Implemented",
        ".The server does not support the functionality required to fulfill the request.",
    ),
    (
        502,
        "Bad Gateway",
        "The server returned an invalid or incomplete response.",
    ),
    (
        503,
        "Service Unavailable",
        "No server is available to handle this request.",
    ),
    (
        504,
        "Gateway Time-out",
        "The server didn't respond in time.",
    ),
];

/// The HTML body of HAProxy's page for `status`, if it has one.
pub(crate) fn body(status: u16) -> Option<String> {
    let (_, reason, text) = PAGES.iter().find(|p| p.0 == status)?;
    Some(format!(
        "<html><body><h1>{status} {reason}</h1>\n{text}\n</body></html>\n"
    ))
}

/// HAProxy's reason phrase for a status it generates (its own spelling for
/// the pages above, the standard phrase otherwise).
pub(crate) fn reason(status: u16) -> &'static str {
    if let Some(p) = PAGES.iter().find(|p| p.0 == status) {
        return p.1;
    }
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// A complete HTX-style error response (lowercase headers, keep-alive).
pub(crate) fn htx_page(status: u16) -> Bytes {
    let body = body(status).unwrap_or_default();
    Bytes::from(format!(
        "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n{body}",
        reason(status),
        body.len()
    ))
}

/// The H1-layer error response (capitalised headers), as sent for 400,
/// 408 and 422 before any stream exists. HAProxy's 422 text alone has no
/// `Connection: close` (the connection closes all the same).
pub(crate) fn early_page(status: u16) -> Bytes {
    let body = body(status).unwrap_or_default();
    let close = if status == 422 {
        ""
    } else {
        "Connection: close\r\n"
    };
    Bytes::from(format!(
        "HTTP/1.1 {status} {}\r\nContent-length: {}\r\nCache-Control: no-cache\r\n{close}Content-Type: text/html\r\n\r\n{body}",
        reason(status),
        body.len()
    ))
}

/// `raw` (a complete page) as HAProxy's H1 layer writes it to a client:
/// `connection: close` last when the connection closes (an HTTP/1.1 page
/// says so to any client), `connection: keep-alive` when it stays open for
/// an HTTP/1.0 client, and no body for a HEAD request.
pub(crate) fn for_client(
    raw: &Bytes,
    closing: bool,
    client: http::Version,
    is_head: bool,
) -> Bytes {
    let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return raw.clone();
    };
    let page_11 = raw.starts_with(b"HTTP/1.1");
    let says = |line: &[u8]| {
        raw[..i + 2]
            .windows(line.len())
            .any(|w| w.eq_ignore_ascii_case(line))
    };
    let line: &[u8] = if closing {
        if page_11 && !says(b"connection: close\r\n") {
            b"connection: close\r\n"
        } else {
            b""
        }
    } else if (client == http::Version::HTTP_10 || !page_11) && !says(b"connection: keep-alive\r\n")
    {
        b"connection: keep-alive\r\n"
    } else {
        b""
    };
    if line.is_empty() && !is_head {
        return raw.clone();
    }
    let end = if is_head { i + 4 } else { raw.len() };
    let mut v = Vec::with_capacity(end + line.len());
    v.extend_from_slice(&raw[..i + 2]);
    v.extend_from_slice(line);
    v.extend_from_slice(&raw[i + 2..end]);
    Bytes::from(v)
}

/// `raw` (a complete page) with `connection: close` after its headers,
/// unless it says so already.
pub(crate) fn with_close(raw: &Bytes) -> Bytes {
    for_client(raw, true, http::Version::HTTP_11, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_match_haproxy_captures() {
        assert_eq!(
            &htx_page(503)[..],
            &b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"[..]
        );
        assert_eq!(
            &htx_page(502)[..],
            &b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n"[..]
        );
        assert_eq!(body(504).map(|b| b.len()), Some(92));
        assert_eq!(
            &early_page(408)[..],
            &b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n"[..]
        );
        assert_eq!(
            &early_page(400)[..],
            &b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"[..]
        );
        assert_eq!(
            &htx_page(200)[..],
            &b"HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n"[..]
        );
    }
}
