//! hey's command line (`-n -c -z -q -m -H -d -t -disable-keepalive ...`) plus the
//! switchyard extras, and its translation into a [`LoadPlan`].

use super::plan::{Attribution, LoadPlan, Stop, Target};
use super::GenError;
use base64::Engine as _;
use bytes::Bytes;
use clap::{Args, Parser};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use regex::Regex;
use std::path::PathBuf;
use std::time::Duration;

/// Go-style single-dash long flags hey accepts, rewritten to clap's `--name`.
const LONG_VALUE: [&str; 7] = [
    "host",
    "cpus",
    "backend-header",
    "backend-body-regex",
    "report",
    "event-file",
    "url",
];
const LONG_BOOL: [&str; 5] = [
    "h2",
    "disable-compression",
    "disable-keepalive",
    "disable-redirects",
    "no-retry",
];
const SHORT_VALUE: &str = "ncqzomHtAdDTax";

/// Rewrites Go `flag` syntax (`-disable-keepalive`, `--n=10`, `-z=5s`,
/// `-disable-keepalive=true`) into what clap parses; anything else passes unchanged.
pub fn normalize_go_flags<I: IntoIterator<Item = String>>(args: I) -> Vec<String> {
    let mut args = args.into_iter();
    let mut out: Vec<String> = args.next().into_iter().collect();
    let mut value_next = false;
    while let Some(arg) = args.next() {
        if value_next {
            out.push(arg);
            value_next = false;
            continue;
        }
        if arg == "--" {
            out.push(arg);
            out.extend(args.by_ref());
            break;
        }
        let Some(stripped) = arg
            .strip_prefix("--")
            .or_else(|| arg.strip_prefix('-'))
            .filter(|s| !s.is_empty())
        else {
            out.push(arg);
            continue;
        };
        let (name, value) = match stripped.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (stripped, None),
        };
        let short = name.len() == 1 && SHORT_VALUE.contains(name);
        if short || LONG_VALUE.contains(&name) {
            out.push(if short {
                format!("-{name}")
            } else {
                format!("--{name}")
            });
            match value {
                Some(v) => out.push(v.to_owned()),
                None => value_next = true,
            }
        } else if LONG_BOOL.contains(&name) {
            match value {
                None | Some("true" | "1" | "t" | "T" | "TRUE" | "True") => {
                    out.push(format!("--{name}"))
                }
                Some("false" | "0" | "f" | "F" | "FALSE" | "False") => {}
                Some(_) => out.push(arg),
            }
        } else {
            out.push(arg);
        }
    }
    out
}

/// Go duration syntax as hey's `-z` takes it (`10s`, `1m30s`, `500ms`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("invalid duration {s:?}: {e}"))
}

/// How each request looks and how a worker sends it; shared by the hey-style command
/// line and the scenarios.
#[derive(Debug, Clone, Args)]
pub struct RequestOptions {
    /// Number of workers to run concurrently (hey -c).
    #[arg(short = 'c', default_value_t = 50)]
    pub concurrency: usize,
    /// Rate limit, in queries per second (QPS) per worker. 0: no limit.
    #[arg(short = 'q', default_value_t = 0.0, allow_negative_numbers = true)]
    pub qps: f64,
    /// HTTP method.
    #[arg(short = 'm', default_value = "GET")]
    pub method: String,
    /// Custom HTTP header, repeatable: -H "Accept: text/html".
    #[arg(short = 'H', allow_hyphen_values = true)]
    pub headers: Vec<String>,
    /// Timeout for each request in seconds; 0 for none.
    #[arg(short = 't', default_value_t = 20)]
    pub timeout_secs: u64,
    /// HTTP Accept header.
    #[arg(short = 'A')]
    pub accept: Option<String>,
    /// HTTP request body.
    #[arg(short = 'd', allow_hyphen_values = true)]
    pub body: Option<String>,
    /// HTTP request body from file.
    #[arg(short = 'D')]
    pub body_file: Option<PathBuf>,
    /// Content-type.
    #[arg(short = 'T', default_value = "text/html")]
    pub content_type: String,
    /// Basic authentication, username:password.
    #[arg(short = 'a')]
    pub basic_auth: Option<String>,
    /// HTTP Host header.
    #[arg(long = "host")]
    pub host: Option<String>,
    /// Accepted for hey compatibility; responses are never requested compressed.
    #[arg(long)]
    pub disable_compression: bool,
    /// Disable keep-alive: a new TCP connection per request (`Connection: close`).
    #[arg(long)]
    pub disable_keepalive: bool,
    /// Accepted for hey compatibility; redirects are never followed (the answer of the
    /// proxy is what is measured).
    #[arg(long)]
    pub disable_redirects: bool,
    /// Record which backend answered from this response header (e.g. X-Served-By).
    #[arg(long, conflicts_with = "backend_body_regex")]
    pub backend_header: Option<String>,
    /// Record which backend answered from this pattern in the body (capture group 1,
    /// or the whole match), e.g. '"name":"([^"]+)"'.
    #[arg(long)]
    pub backend_body_regex: Option<String>,
    /// Count a failure on a reused keep-alive connection as an error instead of replaying
    /// the request on a new connection (hey and Go's client replay it silently).
    #[arg(long)]
    pub no_retry: bool,
}

/// `switchyard-load [options] <url>`: hey's flags, hey's summary, plus a timeline report.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "switchyard-load",
    version,
    about = "HTTP load generator with hey's flags and summary, plus a per-second timeline report",
    after_help = "Go-style flags work too: -disable-keepalive, -host x, -z=10s.\n\
                  Other commands: `switchyard-load scenario <name> --help`, \
                  `switchyard-load event <file> <label...>`."
)]
pub struct HeyCli {
    /// Number of requests to run (divided evenly among the -c workers).
    #[arg(short = 'n', default_value_t = 200)]
    pub requests: u64,
    /// Duration of application to send requests (e.g. 10s, 3m); -n is then ignored.
    #[arg(short = 'z', value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Output type: "csv" dumps one row per response instead of the summary.
    #[arg(short = 'o')]
    pub output: Option<String>,
    /// HTTP proxy address (not supported).
    #[arg(short = 'x')]
    pub proxy: Option<String>,
    /// Enable HTTP/2 (not supported).
    #[arg(long = "h2")]
    pub h2: bool,
    /// Number of runtime worker threads (default: all cores).
    #[arg(long)]
    pub cpus: Option<usize>,
    #[command(flatten)]
    pub request: RequestOptions,
    /// Write timeline.txt, report.json, timeline.svg and summary.txt into this directory.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Events to mark on the timeline: lines `<unix_ms> <label>`, read at the end.
    #[arg(long)]
    pub event_file: Option<PathBuf>,
    /// Target URL (http:// only).
    pub url: String,
}

impl HeyCli {
    pub fn plan(&self) -> Result<LoadPlan, GenError> {
        if self.proxy.is_some() {
            return Err(GenError::Usage("-x (HTTP proxy) is not supported".into()));
        }
        if self.h2 {
            return Err(GenError::Usage(
                "-h2 is not supported (HTTP/1.1 only)".into(),
            ));
        }
        match self.output.as_deref() {
            None | Some("") | Some("csv") => {}
            Some(other) => {
                return Err(GenError::Usage(format!(
                    "-o {other:?}: \"csv\" is the only supported alternative"
                )))
            }
        }
        let c = self.request.concurrency;
        let stop = match self.duration {
            Some(d) if !d.is_zero() => {
                if c == 0 {
                    return Err(GenError::Usage("-c cannot be smaller than 1.".into()));
                }
                Stop::Duration(d)
            }
            _ => {
                if self.requests == 0 || c == 0 {
                    return Err(GenError::Usage(
                        "-n and -c cannot be smaller than 1.".into(),
                    ));
                }
                if self.requests < c as u64 {
                    return Err(GenError::Usage("-n cannot be less than -c.".into()));
                }
                Stop::PerWorker(self.requests / c as u64)
            }
        };
        self.request.plan(&self.url, stop)
    }
}

impl RequestOptions {
    /// The plan for `url`, stopping as `stop` says.
    pub fn plan(&self, url: &str, stop: Stop) -> Result<LoadPlan, GenError> {
        if self.concurrency == 0 {
            return Err(GenError::Usage("-c cannot be smaller than 1.".into()));
        }
        if !(self.qps.is_finite() && self.qps >= 0.0) {
            return Err(GenError::Usage(format!(
                "-q {}: must be 0 or more",
                self.qps
            )));
        }
        let target = Target::parse(url)?;
        let method = Method::from_bytes(self.method.to_uppercase().as_bytes())
            .map_err(|_| GenError::Usage(format!("-m {:?}: not an HTTP method", self.method)))?;
        let body = match (&self.body_file, &self.body) {
            (Some(path), _) => {
                Bytes::from(std::fs::read(path).map_err(|source| GenError::ReadFile {
                    path: path.clone(),
                    source,
                })?)
            }
            (None, Some(body)) => Bytes::from(body.clone()),
            (None, None) => Bytes::new(),
        };
        let attribution = match (&self.backend_header, &self.backend_body_regex) {
            (Some(name), _) => Attribution::Header(header_name(name)?),
            (None, Some(re)) => Attribution::BodyRegex(regex::bytes::Regex::new(re)?),
            (None, None) => Attribution::None,
        };
        Ok(LoadPlan {
            headers: self.headers(&target)?,
            target,
            method,
            body,
            concurrency: self.concurrency,
            stop,
            qps: (self.qps > 0.0).then_some(self.qps),
            timeout: (self.timeout_secs > 0).then(|| Duration::from_secs(self.timeout_secs)),
            keepalive: !self.disable_keepalive,
            retry_reused: !self.no_retry,
            attribution,
        })
    }

    /// Headers in hey's order: Content-Type, then each -H (a later one replaces an
    /// earlier one of the same name), -A, -a, -host.
    fn headers(&self, target: &Target) -> Result<HeaderMap, GenError> {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, header_value(&target.authority)?);
        headers.insert(
            http::header::CONTENT_TYPE,
            header_value(&self.content_type)?,
        );
        let header_re = Regex::new(r"^([\w-]+):\s*(.+)")?;
        for h in &self.headers {
            let caps = header_re
                .captures(h)
                .ok_or_else(|| GenError::BadInput(h.clone()))?;
            let (name, value) = (&caps[1], &caps[2]);
            headers.insert(header_name(name)?, header_value(value)?);
        }
        if let Some(accept) = &self.accept {
            headers.insert(http::header::ACCEPT, header_value(accept)?);
        }
        if let Some(auth) = &self.basic_auth {
            let auth_re = Regex::new(r"^(.+):([^\s].+)")?;
            if !auth_re.is_match(auth) {
                return Err(GenError::BadInput(auth.clone()));
            }
            let token = base64::engine::general_purpose::STANDARD.encode(auth.as_bytes());
            headers.insert(
                http::header::AUTHORIZATION,
                header_value(&format!("Basic {token}"))?,
            );
        }
        if let Some(host) = &self.host {
            headers.insert(http::header::HOST, header_value(host)?);
        }
        if !headers.contains_key(http::header::USER_AGENT) {
            headers.insert(
                http::header::USER_AGENT,
                HeaderValue::from_static(concat!("switchyard-load/", env!("CARGO_PKG_VERSION"))),
            );
        }
        if self.disable_keepalive {
            headers.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(headers)
    }
}

fn header_name(name: &str) -> Result<HeaderName, GenError> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|e| GenError::Header {
        input: name.to_owned(),
        source: Box::new(e),
    })
}

fn header_value(value: &str) -> Result<HeaderValue, GenError> {
    HeaderValue::from_str(value).map_err(|e| GenError::Header {
        input: value.to_owned(),
        source: Box::new(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize_go_flags(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn go_flags_become_clap_flags() {
        assert_eq!(
            norm(&[
                "x",
                "-disable-keepalive",
                "-host",
                "h",
                "--n=5",
                "-z=2s",
                "-d",
                "-a",
                "u"
            ]),
            vec![
                "x",
                "--disable-keepalive",
                "--host",
                "h",
                "-n",
                "5",
                "-z",
                "2s",
                "-d",
                "-a",
                "u"
            ]
        );
        assert_eq!(
            norm(&["x", "-disable-keepalive=false", "-h2=true", "http://a/"]),
            vec!["x", "--h2", "http://a/"]
        );
    }

    fn cli(args: &[&str]) -> HeyCli {
        let mut all = vec!["switchyard-load"];
        all.extend_from_slice(args);
        HeyCli::try_parse_from(normalize_go_flags(all.iter().map(|s| s.to_string())))
            .expect("parses")
    }

    #[test]
    fn hey_semantics_of_n_c_z() {
        let plan = cli(&["-n", "100", "-c", "10", "http://127.0.0.1:1/"])
            .plan()
            .expect("ok");
        assert_eq!(plan.stop, Stop::PerWorker(10));
        let plan = cli(&["-n", "105", "-c", "10", "http://127.0.0.1:1/"])
            .plan()
            .expect("ok");
        assert_eq!(plan.stop, Stop::PerWorker(10));
        let plan = cli(&["-n", "1", "-c", "10", "-z", "2s", "http://127.0.0.1:1/"])
            .plan()
            .expect("ok");
        assert_eq!(plan.stop, Stop::Duration(Duration::from_secs(2)));
        let err = cli(&["-n", "5", "-c", "10", "http://127.0.0.1:1/"])
            .plan()
            .expect_err("n<c");
        assert_eq!(
            err.to_string(),
            "invalid option: -n cannot be less than -c."
        );
    }

    #[test]
    fn headers_like_hey() {
        let plan = cli(&[
            "-H",
            "X-A: 1",
            "-H",
            "x-a: 2",
            "-H",
            "Host: example",
            "-A",
            "text/plain",
            "-a",
            "u:pw",
            "-disable-keepalive",
            "-m",
            "post",
            "-d",
            "hi",
            "http://127.0.0.1:8/p",
        ])
        .plan()
        .expect("ok");
        let h = &plan.headers;
        assert_eq!(h["x-a"], "2");
        assert_eq!(h["host"], "example");
        assert_eq!(h["content-type"], "text/html");
        assert_eq!(h["accept"], "text/plain");
        assert_eq!(h["authorization"], "Basic dTpwdw==");
        assert_eq!(h["connection"], "close");
        assert_eq!(plan.method, Method::POST);
        assert_eq!(&plan.body[..], b"hi");
        assert!(!plan.keepalive);
        let err = cli(&["-H", "nocolon", "http://127.0.0.1:8/"])
            .plan()
            .expect_err("bad");
        assert_eq!(
            err.to_string(),
            "could not parse the provided input; input = nocolon"
        );
    }

    #[test]
    fn unsupported_options_are_errors() {
        assert!(cli(&["-x", "p:1", "http://a/"]).plan().is_err());
        assert!(cli(&["-h2", "http://a/"]).plan().is_err());
        assert!(cli(&["-o", "xml", "http://a/"]).plan().is_err());
        assert!(cli(&["https://a/"]).plan().is_err());
        assert!(cli(&["-q", "-1", "http://a/"]).plan().is_err());
    }
}
