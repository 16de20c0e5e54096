//! Reading an HTTP check's response and judging it, as HAProxy 2.6 does
//! (texts captured from the real binary):
//! - no expect rule: 2xx/3xx → L7OK, else L7STS with the reason phrase;
//! - `disable-on-404` (before any rule): a 404 from a server that is not
//!   DOWN → L7OKC (soft-stop);
//! - `expect [!] status|rstatus` failing → L7STS + reason phrase;
//! - `expect string|rstring` failing → L7RSP `HTTP content check did not
//!   match` (negated: `HTTP check matched unwanted content`);
//! - a reply that is not HTTP, or no reply at all → L7RSP, no text.

use regex::bytes::Regex;
use switchyard_config::{ExpectMatcher, HttpCheck};
use switchyard_state::CheckStatus;

/// The check buffer: HAProxy judges at most `tune.bufsize` bytes.
pub const MAX_RESPONSE: usize = 16384;

/// A response read far enough to be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResponse {
    pub code: u16,
    pub reason: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

/// Where reading stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadState {
    NeedMore,
    Invalid,
    Done(ParsedResponse),
}

/// Parse what has been read so far. `eof`: the server closed (or the
/// buffer is full); `head`: the request was HEAD (no body follows).
pub fn parse_response(buf: &[u8], eof: bool, head: bool) -> ReadState {
    let eof = eof || buf.len() >= MAX_RESPONSE;
    let mut hdrs = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut hdrs);
    let off = match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if eof {
                ReadState::Invalid
            } else {
                ReadState::NeedMore
            }
        }
        Err(_) => return ReadState::Invalid,
    };
    let code = r.code.unwrap_or(0);
    let reason = r.reason.unwrap_or("").to_string();
    let headers: Vec<(String, Vec<u8>)> = r
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
        .collect();
    let rest = &buf[off..];
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_slice())
    };
    let no_body = head || (100..200).contains(&code) || code == 204 || code == 304;
    let body = if no_body {
        Some(Vec::new())
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case(b"chunked")) {
        dechunk(rest).or_else(|| eof.then(|| rest.to_vec()))
    } else if let Some(len) = header("content-length")
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok())
    {
        if rest.len() >= len {
            Some(rest[..len].to_vec())
        } else {
            eof.then(|| rest.to_vec())
        }
    } else {
        eof.then(|| rest.to_vec())
    };
    match body {
        Some(body) => ReadState::Done(ParsedResponse {
            code,
            reason,
            headers,
            body,
        }),
        None => ReadState::NeedMore,
    }
}

/// A complete chunked body, or `None` while the last chunk is missing.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n")?;
        let size_txt = std::str::from_utf8(&b[..line_end]).ok()?;
        let size = usize::from_str_radix(size_txt.split(';').next()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if b.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

#[derive(Debug, Clone)]
enum Matcher {
    Status(Vec<(u16, u16)>),
    Rstatus(Regex),
    String(Vec<u8>),
    Rstring(Regex),
    Hdr {
        name: String,
        value: Option<String>,
    },
    /// A rule that could not be compiled never matches.
    Never,
}

impl Matcher {
    fn is_status(&self) -> bool {
        matches!(self, Matcher::Status(_) | Matcher::Rstatus(_))
    }
}

#[derive(Debug, Clone)]
struct Rule {
    negate: bool,
    m: Matcher,
}

/// `http-check expect` rules compiled once per configuration.
#[derive(Debug, Clone, Default)]
pub struct ExpectRules {
    rules: Vec<Rule>,
    disable_on_404: bool,
}

impl ExpectRules {
    pub fn compile(hc: &HttpCheck) -> ExpectRules {
        let rules = hc
            .expect
            .iter()
            .map(|e| {
                let m = match &e.matcher {
                    ExpectMatcher::Status(r) => Matcher::Status(r.clone()),
                    ExpectMatcher::Rstatus(re) => Regex::new(re)
                        .map(Matcher::Rstatus)
                        .unwrap_or(Matcher::Never),
                    ExpectMatcher::String(s) => Matcher::String(s.as_bytes().to_vec()),
                    ExpectMatcher::Rstring(re) => Regex::new(re)
                        .map(Matcher::Rstring)
                        .unwrap_or(Matcher::Never),
                    ExpectMatcher::Hdr(text) => parse_hdr_rule(text),
                };
                Rule {
                    negate: e.negate,
                    m,
                }
            })
            .collect();
        ExpectRules {
            rules,
            disable_on_404: hc.disable_on_404,
        }
    }
}

/// `name <n> [value <v>]` (the model keeps the text).
fn parse_hdr_rule(text: &str) -> Matcher {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut name = None;
    let mut value = None;
    let mut i = 0;
    while i + 1 < words.len() {
        match words[i] {
            "name" => name = Some(words[i + 1].to_ascii_lowercase()),
            "value" => value = Some(words[i + 1].to_string()),
            _ => {}
        }
        i += 2;
    }
    match name {
        Some(name) => Matcher::Hdr { name, value },
        None => Matcher::Never,
    }
}

/// The verdict on a response: status, code (for L7OK/L7OKC/L7STS) and the
/// `last_chk` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseVerdict {
    pub status: CheckStatus,
    pub code: Option<u16>,
    pub desc: String,
}

/// Judge a response. `server_stopped`: the server is DOWN (then a 404 is
/// not a soft-stop but a plain failure).
pub fn evaluate_response(
    rules: &ExpectRules,
    server_stopped: bool,
    resp: &ParsedResponse,
) -> ResponseVerdict {
    let code = resp.code;
    let v = |status, code: Option<u16>, desc: &str| ResponseVerdict {
        status,
        code,
        desc: desc.to_string(),
    };
    if rules.disable_on_404 && !server_stopped && code == 404 {
        return v(CheckStatus::L7OkC, Some(code), "");
    }
    if rules.rules.is_empty() {
        return if (200..400).contains(&code) {
            v(CheckStatus::L7Ok, Some(code), "")
        } else {
            v(CheckStatus::L7Sts, Some(code), &resp.reason)
        };
    }
    for r in &rules.rules {
        if matches(&r.m, resp) == r.negate {
            return if r.m.is_status() {
                v(CheckStatus::L7Sts, Some(code), &resp.reason)
            } else if r.negate {
                v(
                    CheckStatus::L7Rsp,
                    None,
                    "HTTP check matched unwanted content",
                )
            } else {
                v(CheckStatus::L7Rsp, None, "HTTP content check did not match")
            };
        }
    }
    v(CheckStatus::L7Ok, Some(code), "")
}

fn matches(m: &Matcher, resp: &ParsedResponse) -> bool {
    match m {
        Matcher::Status(ranges) => ranges
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&resp.code)),
        Matcher::Rstatus(re) => re.is_match(resp.code.to_string().as_bytes()),
        Matcher::String(s) => s.is_empty() || resp.body.windows(s.len()).any(|w| w == s.as_slice()),
        Matcher::Rstring(re) => re.is_match(&resp.body),
        Matcher::Hdr { name, value } => resp
            .headers
            .iter()
            .any(|(k, v)| k == name && value.as_ref().is_none_or(|want| v == want.as_bytes())),
        Matcher::Never => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_config::HttpExpect;

    fn done(b: &[u8]) -> ParsedResponse {
        match parse_response(b, true, false) {
            ReadState::Done(r) => r,
            other => panic!("not parsed: {other:?}"),
        }
    }

    fn rules(expect: Vec<HttpExpect>, d404: bool) -> ExpectRules {
        ExpectRules::compile(&HttpCheck {
            enabled: true,
            expect,
            disable_on_404: d404,
            ..HttpCheck::default()
        })
    }

    fn ex(negate: bool, matcher: ExpectMatcher) -> HttpExpect {
        HttpExpect { negate, matcher }
    }

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    const S503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
    const S404: &[u8] = b"HTTP/1.0 404 Not Found\r\n\r\ngone";
    const S302: &[u8] = b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn parse_states() {
        assert_eq!(parse_response(b"", false, false), ReadState::NeedMore);
        assert_eq!(parse_response(b"", true, false), ReadState::Invalid);
        assert_eq!(
            parse_response(b"GARBAGE\r\n\r\n", true, false),
            ReadState::Invalid
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Len", false, false),
            ReadState::NeedMore
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Len", true, false),
            ReadState::Invalid
        );
        assert_eq!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe",
                false,
                false
            ),
            ReadState::NeedMore
        );
        assert_eq!(done(OK).body, b"hello");
        // until close
        assert_eq!(
            parse_response(b"HTTP/1.0 200 OK\r\n\r\nab", false, false),
            ReadState::NeedMore
        );
        assert_eq!(done(b"HTTP/1.0 200 OK\r\n\r\nab").body, b"ab");
        // HEAD: no body
        assert!(matches!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, true),
            ReadState::Done(_)
        ));
        // chunked
        let c = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        match parse_response(c, false, false) {
            ReadState::Done(r) => assert_eq!(r.body, b"abcde"),
            o => panic!("{o:?}"),
        }
        assert_eq!(
            parse_response(&c[..c.len() - 7], false, false),
            ReadState::NeedMore
        );
    }

    #[test]
    fn default_rule() {
        let r = rules(vec![], false);
        assert_eq!(
            evaluate_response(&r, false, &done(OK)).status,
            CheckStatus::L7Ok
        );
        assert_eq!(
            evaluate_response(&r, false, &done(S302)).status,
            CheckStatus::L7Ok
        );
        let v = evaluate_response(&r, false, &done(S503));
        assert_eq!(
            v,
            ResponseVerdict {
                status: CheckStatus::L7Sts,
                code: Some(503),
                desc: "Service Unavailable".into()
            }
        );
    }

    #[test]
    fn disable_on_404() {
        let r = rules(
            vec![ex(false, ExpectMatcher::Status(vec![(200, 200)]))],
            true,
        );
        let v = evaluate_response(&r, false, &done(S404));
        assert_eq!(
            v,
            ResponseVerdict {
                status: CheckStatus::L7OkC,
                code: Some(404),
                desc: String::new()
            }
        );
        // a DOWN server answering 404 stays DOWN
        let v = evaluate_response(&r, true, &done(S404));
        assert_eq!(
            v,
            ResponseVerdict {
                status: CheckStatus::L7Sts,
                code: Some(404),
                desc: "Not Found".into()
            }
        );
        assert_eq!(
            evaluate_response(&r, false, &done(OK)).status,
            CheckStatus::L7Ok
        );
    }

    #[test]
    fn expect_rules() {
        let st = rules(
            vec![ex(false, ExpectMatcher::Status(vec![(200, 200)]))],
            false,
        );
        let v = evaluate_response(&st, false, &done(S302));
        assert_eq!(
            v,
            ResponseVerdict {
                status: CheckStatus::L7Sts,
                code: Some(302),
                desc: "Found".into()
            }
        );
        let rst = rules(vec![ex(false, ExpectMatcher::Rstatus("^5".into()))], false);
        let v = evaluate_response(&rst, false, &done(OK));
        assert_eq!(
            v,
            ResponseVerdict {
                status: CheckStatus::L7Sts,
                code: Some(200),
                desc: "OK".into()
            }
        );
        assert_eq!(
            evaluate_response(&rst, false, &done(S503)).status,
            CheckStatus::L7Ok
        );
        let s = rules(
            vec![ex(false, ExpectMatcher::String("nothere".into()))],
            false,
        );
        let v = evaluate_response(&s, false, &done(OK));
        assert_eq!(
            v,
            ResponseVerdict {
                status: CheckStatus::L7Rsp,
                code: None,
                desc: "HTTP content check did not match".into()
            }
        );
        let ns = rules(
            vec![ex(true, ExpectMatcher::Rstring("hel+o".into()))],
            false,
        );
        let v = evaluate_response(&ns, false, &done(OK));
        assert_eq!(v.desc, "HTTP check matched unwanted content");
        let ok = rules(vec![ex(false, ExpectMatcher::String("ell".into()))], false);
        assert_eq!(
            evaluate_response(&ok, false, &done(OK)).status,
            CheckStatus::L7Ok
        );
        let not503 = rules(
            vec![ex(true, ExpectMatcher::Status(vec![(500, 599)]))],
            false,
        );
        assert_eq!(
            evaluate_response(&not503, false, &done(S404)).status,
            CheckStatus::L7Ok
        );
        assert_eq!(
            evaluate_response(&not503, false, &done(S503)).status,
            CheckStatus::L7Sts
        );
        let hdr = rules(
            vec![ex(
                false,
                ExpectMatcher::Hdr("name content-length value 5".into()),
            )],
            false,
        );
        assert_eq!(
            evaluate_response(&hdr, false, &done(OK)).status,
            CheckStatus::L7Ok
        );
        assert_eq!(
            evaluate_response(&hdr, false, &done(S503)).status,
            CheckStatus::L7Rsp
        );
    }
}
