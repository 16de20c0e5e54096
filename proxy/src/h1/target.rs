//! The request target and Host as HAProxy 2.6 checks them.

use http::header::HOST;
use http::{HeaderMap, Method, Uri};

use super::head::HeadError;

/// The parsed target the rules read. HAProxy refuses a fragment (`#`),
/// bytes outside ASCII, and the authority form except with CONNECT. It
/// takes `"`, `<`, `>`, `\`, `^` and `` ` ``, which `http::Uri` does not:
/// those are percent-encoded in the parsed copy only; the target itself
/// goes on to the server as received.
pub(super) fn request_uri(target: &str, method: &Method) -> Result<Uri, HeadError> {
    if !target.is_ascii() || memchr::memchr(b'#', target.as_bytes()).is_some() {
        return Err(HeadError::Invalid);
    }
    let uri: Uri = match target.parse() {
        Ok(u) => u,
        Err(_) => escaped(target).parse().map_err(|_| HeadError::Invalid)?,
    };
    if uri.scheme().is_none() && uri.authority().is_some() && method != Method::CONNECT {
        return Err(HeadError::Invalid);
    }
    Ok(uri)
}

fn escaped(target: &str) -> String {
    let mut out = String::with_capacity(target.len() + 8);
    for c in target.chars() {
        match c {
            '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' => {
                out.push_str(&format!("%{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Several Host headers must agree (they go on as one), and an
/// absolute-form target must name the same authority as Host; otherwise
/// HAProxy answers 400.
pub(super) fn check_host(headers: &mut HeaderMap, uri: &Uri) -> Result<(), HeadError> {
    let mut values = headers.get_all(HOST).iter();
    let first = values.next().cloned();
    let mut repeated = false;
    for v in values {
        if !first
            .as_ref()
            .is_some_and(|f| f.as_bytes().eq_ignore_ascii_case(v.as_bytes()))
        {
            return Err(HeadError::Invalid);
        }
        repeated = true;
    }
    if let (Some(auth), Some(h)) = (uri.authority(), first.as_ref()) {
        if !auth.as_str().as_bytes().eq_ignore_ascii_case(h.as_bytes()) {
            return Err(HeadError::Invalid);
        }
    }
    if repeated {
        if let Some(f) = first {
            headers.insert(HOST, f);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let get = Method::GET;
        assert!(request_uri("/a#b", &get).is_err());
        assert!(request_uri("/caf\u{e9}", &get).is_err());
        assert!(request_uri("example.com:80", &get).is_err());
        assert!(request_uri("example.com:443", &Method::CONNECT).is_ok());
        let u = request_uri("/a\"b<c>^`", &get).unwrap();
        assert_eq!(u.path(), "/a%22b%3Cc%3E%5E%60");
        assert_eq!(request_uri("/a?q=1", &get).unwrap().query(), Some("q=1"));
    }

    #[test]
    fn hosts() {
        let uri: Uri = "/a".parse().unwrap();
        let mut h = HeaderMap::new();
        h.append(HOST, "x".parse().unwrap());
        h.append(HOST, "X".parse().unwrap());
        check_host(&mut h, &uri).unwrap();
        assert_eq!(h.get_all(HOST).iter().count(), 1);
        h.append(HOST, "y".parse().unwrap());
        assert!(check_host(&mut h, &uri).is_err());
        let abs: Uri = "http://example.com/a".parse().unwrap();
        let mut h = HeaderMap::new();
        h.append(HOST, "other".parse().unwrap());
        assert!(check_host(&mut h, &abs).is_err());
    }
}
