//! The smoke test after a switch: one plain-HTTP GET per URL, checked for a status and
//! optionally a body regex. Uses hyper on a throwaway current-thread runtime so the
//! rest of `ctl` stays blocking.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use regex::Regex;
use serde::Serialize;
use std::time::Duration;

/// Bodies past this size are an error rather than memory.
const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct SmokeSpec {
    pub urls: Vec<String>,
    pub expect_status: u16,
    pub expect_body: Option<Regex>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct SmokeResult {
    pub url: String,
    pub ok: bool,
    pub status: Option<u16>,
    pub detail: String,
}

/// Checks a URL up front (`--smoke-url`), so a typo is a usage error, not a rollback.
pub fn validate_url(url: &str) -> Result<(), String> {
    target_of(url).map(|_| ())
}

struct UrlTarget {
    host: String,
    port: u16,
    authority: String,
    path: String,
}

fn target_of(url: &str) -> Result<UrlTarget, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad URL {url:?}: {e}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => {
            return Err(format!(
                "URL {url:?}: only http:// is supported for smoke tests, not {other}://"
            ))
        }
        None => return Err(format!("URL {url:?}: needs http://")),
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("URL {url:?} has no host"))?;
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Ok(UrlTarget {
        host: host.to_owned(),
        port: authority.port_u16().unwrap_or(80),
        authority: authority.as_str().to_owned(),
        path: uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned()),
    })
}

/// Runs every URL in order and returns one result each.
pub fn run(spec: &SmokeSpec) -> Vec<SmokeResult> {
    spec.urls.iter().map(|url| check(spec, url)).collect()
}

fn check(spec: &SmokeSpec, url: &str) -> SmokeResult {
    let fail = |status, detail: String| SmokeResult {
        url: url.to_owned(),
        ok: false,
        status,
        detail,
    };
    let (status, body) = match fetch(url, spec.timeout) {
        Ok(got) => got,
        Err(e) => return fail(None, e),
    };
    if status != spec.expect_status {
        return fail(
            Some(status),
            format!(
                "GET {url}: status {status}, expected {}; body: {}",
                spec.expect_status,
                excerpt(&body)
            ),
        );
    }
    if let Some(re) = &spec.expect_body {
        let text = String::from_utf8_lossy(&body);
        if !re.is_match(&text) {
            return fail(
                Some(status),
                format!(
                    "GET {url}: status {status} but the body does not match /{re}/; body: {}",
                    excerpt(&body)
                ),
            );
        }
    }
    SmokeResult {
        url: url.to_owned(),
        ok: true,
        status: Some(status),
        detail: match &spec.expect_body {
            Some(re) => format!("GET {url}: {status}, body matches /{re}/"),
            None => format!("GET {url}: {status}"),
        },
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let cut: String = text.chars().take(120).collect();
    if cut.len() < text.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// One GET with `Connection: close`; returns the status and the whole body.
pub fn fetch(url: &str, timeout: Duration) -> Result<(u16, Bytes), String> {
    let target = target_of(url)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
    runtime.block_on(async {
        match tokio::time::timeout(timeout, get(&target)).await {
            Ok(result) => result.map_err(|e| format!("GET {url}: {e}")),
            Err(_) => Err(format!(
                "GET {url}: no complete response within {timeout:?}"
            )),
        }
    })
}

async fn get(target: &UrlTarget) -> Result<(u16, Bytes), String> {
    let stream = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("connect to {}:{}: {e}", target.host, target.port))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let request = http::Request::get(target.path.as_str())
        .header(http::header::HOST, target.authority.as_str())
        .header(http::header::USER_AGENT, "switchyard-ctl smoke test")
        .header(http::header::CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
        .to_bytes();
    driver.abort();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_up_front() {
        assert!(validate_url("http://127.0.0.1:8080/release").is_ok());
        assert!(validate_url("http://[::1]/").is_ok());
        assert!(validate_url("https://example.com/").is_err());
        assert!(validate_url("example.com/x").is_err());
        assert!(validate_url("http://").is_err());
    }

    #[test]
    fn url_parts() {
        let t = target_of("http://[::1]:8080/a?b=1").expect("parses");
        assert_eq!(t.host, "::1");
        assert_eq!(t.port, 8080);
        assert_eq!(t.authority, "[::1]:8080");
        assert_eq!(t.path, "/a?b=1");
        assert_eq!(target_of("http://h").expect("parses").path, "/");
    }
}
