//! The validated description of a load run: what to send, how often, and how to tell
//! which backend answered. Built from the command line by [`crate::gen::cli`].

use super::GenError;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method, Uri};
use regex::bytes::Regex;
use std::time::Duration;

/// Where requests go. Only plain `http://` is supported: the generator measures a
/// proxy on loopback, and TLS would measure the TLS stack instead.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL as given, for error messages in hey's style (`Get "URL": ...`).
    pub url: String,
    /// Host to resolve, without IPv6 brackets.
    pub host: String,
    pub port: u16,
    /// `Host` header value: `host[:port]` as in the URL.
    pub authority: String,
    /// Origin-form request target (`/path?query`).
    pub path_and_query: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, GenError> {
        let bad = |reason: &str| GenError::Url {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(bad("https is not supported (plain http only)")),
            Some(_) => return Err(bad("unsupported scheme (use http://)")),
            None => return Err(bad("missing scheme (use http://host:port/path)")),
        }
        let authority = uri.authority().ok_or_else(|| bad("missing host"))?;
        let host = authority.host();
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = authority.port_u16().unwrap_or(80);
        let path_and_query = uri
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or("/")
            .to_owned();
        Ok(Target {
            url: url.to_owned(),
            host,
            port,
            authority: authority.as_str().to_owned(),
            path_and_query,
        })
    }
}

/// How a response is attributed to a backend (for the per-backend timeline).
#[derive(Debug, Clone, Default)]
pub enum Attribution {
    #[default]
    None,
    /// The value of this response header (e.g. `X-Served-By`).
    Header(HeaderName),
    /// The first capture group (or the whole match) of this pattern in the body.
    BodyRegex(Regex),
}

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// Each worker sends this many requests (hey's `-n` divided by `-c`).
    PerWorker(u64),
    /// Run until this much time has passed (hey's `-z`).
    Duration(Duration),
    /// Run until stopped through the [`crate::gen::StopHandle`] (scenarios).
    Manual,
}

#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub target: Target,
    pub method: Method,
    /// Headers sent with every request (`Host` included).
    pub headers: HeaderMap,
    pub body: Bytes,
    pub concurrency: usize,
    pub stop: Stop,
    /// Per-worker rate limit in requests per second.
    pub qps: Option<f64>,
    /// Whole-request timeout (connect, send, headers and body), like Go's `Client.Timeout`.
    pub timeout: Option<Duration>,
    pub keepalive: bool,
    /// Replay a request once on a fresh connection when a reused keep-alive connection
    /// fails before any response byte, as Go's `http.Transport` (and so hey) does for
    /// replayable requests. Such replays are counted in the report.
    pub retry_reused: bool,
    pub attribution: Attribution,
}

impl LoadPlan {
    /// Go retries only requests it can replay safely: idempotent methods, or any method
    /// carrying an `Idempotency-Key` header.
    pub fn replayable(&self) -> bool {
        matches!(
            self.method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        ) || self.headers.contains_key("idempotency-key")
            || self.headers.contains_key("x-idempotency-key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_urls() {
        let t = Target::parse("http://127.0.0.1:8785/cms?x=1").expect("valid");
        assert_eq!(
            (t.host.as_str(), t.port, t.authority.as_str()),
            ("127.0.0.1", 8785, "127.0.0.1:8785")
        );
        assert_eq!(t.path_and_query, "/cms?x=1");
        let t = Target::parse("http://[::1]/").expect("valid");
        assert_eq!((t.host.as_str(), t.port), ("::1", 80));
        let t = Target::parse("http://localhost:81").expect("valid");
        assert_eq!(t.path_and_query, "/");
    }

    #[test]
    fn rejects_other_schemes_and_garbage() {
        for bad in ["https://x/", "ftp://x/", "localhost:80/", "", "http://"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
