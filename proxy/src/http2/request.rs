//! An HTTP/2 request's head as the HTTP/1 pipeline takes it, built the way
//! HAProxy 2.6's H2 mux builds its message: the target in absolute form
//! when the request has an `:authority` (what `%r`, `%HU` and `url` show:
//! `GET https://a.test/x HTTP/2.0`), a `host` field from the authority,
//! first (any `host` field the client sent as well is dropped), and
//! `cookie` fields the client split joined again (RFC 9113 §8.2.3).

use http::header::{HeaderValue, COOKIE, HOST};
use http::{HeaderMap, Method, Version};

use crate::h1::{content_length, Framing, ReqHead};

/// The head, or `None` when it cannot go on as HTTP/1 (HAProxy answers
/// those with a 400 too).
pub(super) fn head(parts: http::request::Parts) -> Option<Box<ReqHead>> {
    let http::request::Parts {
        method,
        uri,
        headers: fields,
        ..
    } = parts;
    let authority = uri.authority().map(|a| a.as_str());
    let path = uri.path_and_query().map_or("", |p| p.as_str());
    let target = if method == Method::CONNECT {
        authority?.to_string()
    } else {
        match (uri.scheme_str(), authority) {
            (Some(s), Some(a)) => format!("{s}://{a}{path}"),
            _ => path.to_string(),
        }
    };
    if target.is_empty() {
        return None;
    }
    let mut headers = HeaderMap::with_capacity(fields.len() + 1);
    if let Some(a) = authority {
        headers.insert(HOST, HeaderValue::from_str(a).ok()?);
    }
    let mut cookies = 0usize;
    let mut last = None;
    for (name, value) in fields {
        let name = match name {
            Some(n) => {
                last = Some(n.clone());
                n
            }
            None => last.clone()?,
        };
        if name == HOST && authority.is_some() {
            continue;
        }
        cookies += usize::from(name == COOKIE);
        headers.append(name, value);
    }
    if cookies > 1 {
        join_cookies(&mut headers)?;
    }
    let framing = match content_length(&headers).ok()? {
        Some(n) if n > 0 => Framing::Length(n),
        _ => Framing::None,
    };
    let expect_continue = headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    Some(Box::new(ReqHead {
        method,
        target,
        uri,
        version: Version::HTTP_2,
        headers,
        framing,
        keep_alive: true,
        expect_continue,
    }))
}

/// Several `cookie` fields become one, joined with `; `.
fn join_cookies(headers: &mut HeaderMap) -> Option<()> {
    let mut joined = Vec::new();
    for v in headers.get_all(COOKIE) {
        if !joined.is_empty() {
            joined.extend_from_slice(b"; ");
        }
        joined.extend_from_slice(v.as_bytes());
    }
    headers.insert(COOKIE, HeaderValue::from_bytes(&joined).ok()?);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, fields: &[(&str, &str)]) -> http::request::Parts {
        let mut b = http::Request::builder().method("GET").uri(uri);
        for (k, v) in fields {
            b = b.header(*k, *v);
        }
        b.body(()).map(|r| r.into_parts().0).expect("request")
    }

    #[test]
    fn the_head_is_built_as_haproxy_builds_it() {
        let h = head(parts(
            "https://A.test/x?y=1",
            &[("cookie", "a=1"), ("host", "other"), ("cookie", "b=2")],
        ))
        .expect("head");
        assert_eq!(h.request_line(), "GET https://A.test/x?y=1 HTTP/2.0");
        let names: Vec<&str> = h.headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["host", "cookie"]);
        assert_eq!(h.headers["host"], "A.test");
        assert_eq!(h.headers["cookie"], "a=1; b=2");
        assert_eq!(h.framing, Framing::None);

        let h = head(parts("/p", &[("content-length", "5")])).expect("head");
        assert_eq!(h.target, "/p");
        assert_eq!(h.framing, Framing::Length(5));
        assert!(head(parts("/p", &[("content-length", "x")])).is_none());
    }
}
