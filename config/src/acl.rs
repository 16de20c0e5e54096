//! ACL expressions: `<criterion> [-i] [-m meth] [-f file] [--] <patterns>`,
//! used by `acl <name> ...` lines and inline `{ ... }` conditions.

use crate::ctx::Ctx;
use crate::maps::read_pattern_file;
use crate::model::{AclMatch, AclTest, Converter, Fetch, Location};
use crate::sample::parse_sample_word;
use crate::units::parse_i64;

/// ACL keywords that imply a fetch and a matching method (`path_beg`).
fn acl_keyword(kw: &str) -> Option<(&'static str, AclMatch)> {
    let (base, suffix) = match kw.rsplit_once('_') {
        Some((b, s)) if ["beg", "end", "sub", "reg", "dom", "dir", "len", "cnt"].contains(&s) => {
            (b, Some(s))
        }
        _ => (kw, None),
    };
    let fetch = match base {
        "path" => "path",
        "url" => "url",
        "base" => "base",
        "hdr" => "req.hdr",
        "urlp" => "urlp",
        "cook" => "req.cook",
        _ => return None,
    };
    let m = match suffix {
        None => AclMatch::Exact,
        Some("beg") => AclMatch::Beg,
        Some("end") => AclMatch::End,
        Some("sub") => AclMatch::Sub,
        Some("reg") => AclMatch::Reg,
        Some("dom") => AclMatch::Dom,
        Some("dir") => AclMatch::Reg, // see `dir_regex`
        Some("len") => AclMatch::Len,
        _ => return None,
    };
    Some((fetch, m))
}

fn match_by_name(name: &str) -> Option<AclMatch> {
    Some(match name {
        "found" => AclMatch::Found,
        "bool" => AclMatch::Bool,
        "int" => AclMatch::Int,
        "ip" => AclMatch::Ip,
        "len" => AclMatch::Len,
        "str" => AclMatch::Exact,
        "beg" => AclMatch::Beg,
        "sub" => AclMatch::Sub,
        "dir" => AclMatch::Reg,
        "dom" => AclMatch::Dom,
        "end" => AclMatch::End,
        "reg" => AclMatch::Reg,
        _ => return None,
    })
}

/// The matching method a fetch gets when neither its keyword nor `-m` says.
fn default_match(fetch: &Fetch, converters: &[Converter]) -> AclMatch {
    if !converters.is_empty() {
        return AclMatch::Exact;
    }
    match fetch {
        Fetch::Src => AclMatch::Ip,
        Fetch::DstPort => AclMatch::Int,
        Fetch::SslFc | Fetch::SslCUsed | Fetch::True | Fetch::False => AclMatch::Bool,
        Fetch::SslCVerify => AclMatch::Int,
        _ => AclMatch::Exact,
    }
}

fn check_int_patterns(patterns: &[String]) -> Result<(), String> {
    let mut it = patterns.iter().peekable();
    while let Some(p) = it.next() {
        if ["eq", "ge", "gt", "le", "lt"].contains(&p.as_str()) {
            match it.next() {
                Some(v) if parse_i64(v).is_some() => continue,
                Some(v) => {
                    return Err(format!(
                        "'{v}' is neither a number nor a supported operator"
                    ))
                }
                None => return Err(format!("'{p}' must be followed by a number")),
            }
        }
        let ok = match p.split_once(':') {
            Some((a, b)) => {
                (a.is_empty() || parse_i64(a).is_some())
                    && (b.is_empty() || parse_i64(b).is_some())
                    && p != ":"
            }
            None => parse_i64(p).is_some(),
        };
        if !ok {
            return Err(format!(
                "'{p}' is neither a number nor a supported operator"
            ));
        }
    }
    Ok(())
}

fn valid_ip_pattern(p: &str) -> bool {
    let (addr, mask) = match p.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (p, None),
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => match mask {
            None => true,
            Some(m) => {
                m.parse::<u8>().is_ok_and(|n| n <= 32) || m.parse::<std::net::Ipv4Addr>().is_ok()
            }
        },
        Ok(std::net::IpAddr::V6(_)) => mask.is_none_or(|m| m.parse::<u8>().is_ok_and(|n| n <= 128)),
        Err(_) => false,
    }
}

fn check_patterns(kind: AclMatch, ignore_case: bool, patterns: &[String]) -> Result<(), String> {
    match kind {
        AclMatch::Int | AclMatch::Len => check_int_patterns(patterns),
        AclMatch::Ip => match patterns.iter().find(|p| !valid_ip_pattern(p)) {
            Some(p) => Err(format!("'{p}' is not a valid IPv4 or IPv6 address")),
            None => Ok(()),
        },
        AclMatch::Reg => {
            for p in patterns {
                regex::RegexBuilder::new(p)
                    .case_insensitive(ignore_case)
                    .build()
                    .map_err(|e| {
                        let first = e.to_string();
                        let short = first.lines().last().unwrap_or("invalid").trim().to_string();
                        format!("regex '{p}' is invalid (error={short})")
                    })?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Parse `words` (criterion first). Warnings go to `ctx`; the error is
/// HAProxy's text without the `error detected while parsing ACL` prefix.
pub(crate) fn parse_acl_test(
    ctx: &mut Ctx,
    loc: &Location,
    words: &[String],
) -> Result<AclTest, String> {
    let Some(criterion) = words.first().filter(|w| !w.is_empty()) else {
        return Err("missing fetch method in ACL expression ''".to_string());
    };
    let kw_end = criterion.find(['(', ',']).unwrap_or(criterion.len());
    let kw = &criterion[..kw_end];
    let mut dir = kw.ends_with("_dir") && acl_keyword(kw).is_some();
    let (expr, mut kind) = match acl_keyword(kw) {
        Some((fetch_name, m)) if kw != fetch_name => {
            // Rewrite `path_beg(...)` to its fetch so the sample parser can read it.
            let rewritten = format!("{fetch_name}{}", &criterion[kw_end..]);
            let e = parse_sample_word(ctx, loc, &rewritten)
                .map_err(|e| format!("ACL keyword '{kw}' : {e}"))?;
            (e, Some(m))
        }
        _ => {
            let e = parse_sample_word(ctx, loc, criterion).map_err(|e| {
                if e.starts_with("unknown fetch method") {
                    format!("{e} in ACL expression '{criterion}'")
                } else {
                    e
                }
            })?;
            (e, None)
        }
    };

    let mut ignore_case = false;
    let mut pattern_files = Vec::new();
    let mut patterns = Vec::new();
    let mut flags_seen = false;
    let mut i = 1;
    while let Some(w) = words.get(i).filter(|w| w.starts_with('-')) {
        flags_seen = true;
        match w.as_str() {
            "-i" => ignore_case = true,
            "-n" | "-M" => {}
            "-u" => {
                let v = words.get(i + 1).map(String::as_str).unwrap_or("");
                if parse_i64(v).is_none() {
                    return Err("the argument of -u must be an integer".to_string());
                }
                i += 1;
            }
            "-m" => {
                if !pattern_files.is_empty() {
                    return Err(
                        "'-m' must only be specified before patterns and files in parsing ACL expression".to_string(),
                    );
                }
                let name = words.get(i + 1).map(String::as_str).unwrap_or("");
                kind = Some(match_by_name(name).ok_or_else(|| {
                    format!("unknown matching method '{name}' when parsing ACL expression")
                })?);
                dir = name == "dir";
                i += 1;
            }
            "-f" => {
                let file = words.get(i + 1).map(String::as_str).unwrap_or("");
                let paths = ctx.paths.clone();
                patterns.extend(read_pattern_file(file, &paths)?);
                pattern_files.push(file.to_string());
                i += 1;
            }
            "--" => {
                i += 1;
                break;
            }
            other => {
                return Err(format!(
                    "'{other}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
                ));
            }
        }
        i += 1;
    }
    let match_kind = kind.unwrap_or_else(|| default_match(&expr.fetch, &expr.converters));
    patterns.extend(words.iter().skip(i).cloned());
    if dir {
        patterns = patterns.iter().map(|p| dir_regex(p)).collect();
    }
    check_patterns(match_kind, ignore_case, &patterns)?;
    if patterns.is_empty() && !flags_seen && !matches!(match_kind, AclMatch::Found | AclMatch::Bool)
    {
        ctx.warn(
            loc,
            format!(
                "parsing acl keyword '{kw}' :\n  no pattern to match against were provided, so this ACL will never match.\n  \
                 If this is what you intended, please add '--' to get rid of this warning.\n  \
                 If you intended to match only for existence, please use '-m found'.\n  \
                 If you wanted to force an int to match as a bool, please use '-m bool'."
            ),
        );
    }
    Ok(AclTest {
        fetch: expr.fetch,
        match_kind,
        ignore_case,
        patterns,
        pattern_files,
        converters: expr.converters,
    })
}

/// `-m dir`: a `/`-delimited segment equals the pattern. The model has no
/// such method, so it becomes the equivalent regex.
fn dir_regex(p: &str) -> String {
    format!("(?:^|/){}(?:/|$)", regex::escape(p))
}

fn test(fetch: Fetch, match_kind: AclMatch, patterns: &[&str]) -> AclTest {
    AclTest {
        fetch,
        match_kind,
        ignore_case: false,
        patterns: patterns.iter().map(|s| s.to_string()).collect(),
        pattern_files: Vec::new(),
        converters: Vec::new(),
    }
}

/// HAProxy's predefined ACLs (`TRUE`, `METH_GET`, ...), as inline tests.
pub(crate) fn default_acl(name: &str) -> Result<Option<AclTest>, String> {
    Ok(Some(match name {
        "TRUE" => test(Fetch::True, AclMatch::Bool, &[]),
        "FALSE" => test(Fetch::False, AclMatch::Bool, &[]),
        "LOCALHOST" => test(Fetch::Src, AclMatch::Ip, &["127.0.0.1/8", "::1"]),
        // Every request is HTTP in an HTTP proxy.
        "HTTP" => test(Fetch::True, AclMatch::Bool, &[]),
        "METH_CONNECT" => test(Fetch::Method, AclMatch::Exact, &["CONNECT"]),
        "METH_DELETE" => test(Fetch::Method, AclMatch::Exact, &["DELETE"]),
        "METH_GET" => test(Fetch::Method, AclMatch::Exact, &["GET", "HEAD"]),
        "METH_HEAD" => test(Fetch::Method, AclMatch::Exact, &["HEAD"]),
        "METH_OPTIONS" => test(Fetch::Method, AclMatch::Exact, &["OPTIONS"]),
        "METH_POST" => test(Fetch::Method, AclMatch::Exact, &["POST"]),
        "METH_PUT" => test(Fetch::Method, AclMatch::Exact, &["PUT"]),
        "METH_TRACE" => test(Fetch::Method, AclMatch::Exact, &["TRACE"]),
        "HTTP_URL_ABS" => test(Fetch::Url, AclMatch::Reg, &["^[^/:]*://"]),
        "HTTP_URL_SLASH" => test(Fetch::Url, AclMatch::Beg, &["/"]),
        "HTTP_URL_STAR" => test(Fetch::Url, AclMatch::Exact, &["*"]),
        "HTTP_1.0" | "HTTP_1.1" | "HTTP_2.0" | "HTTP_CONTENT" | "RDP_COOKIE" | "REQ_CONTENT"
        | "WAIT_END" => {
            return Err(format!(
                "predefined ACL '{name}' is not supported by switchyard"
            ));
        }
        _ => return Ok(None),
    }))
}

/// HAProxy's `invalid_char`: names may use letters, digits, `.:_-`.
pub(crate) fn invalid_name_char(name: &str) -> Option<char> {
    name.chars().find(|c| !name_char_ok(*c))
}

/// HAProxy's `invalid_prefix_char` (a `server-template` prefix): the
/// first character not allowed in a name, or a ':'.
pub(crate) fn invalid_prefix_char(prefix: &str) -> Option<char> {
    prefix.chars().find(|c| !name_char_ok(*c) || *c == ':')
}

fn name_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<AclTest, String> {
        let w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        parse_acl_test(&mut Ctx::default(), &Location::default(), &w)
    }

    #[test]
    fn keywords() {
        let t = parse(&["path_beg", "-i", "/api", "/v2"]).expect("ok");
        assert_eq!(
            (t.fetch, t.match_kind, t.ignore_case),
            (Fetch::Path, AclMatch::Beg, true)
        );
        assert_eq!(t.patterns, vec!["/api", "/v2"]);
        let t = parse(&["hdr_dom(host)", "example.com"]).expect("ok");
        assert_eq!(
            (t.fetch, t.match_kind),
            (
                Fetch::ReqHdr {
                    name: "host".into(),
                    occ: None
                },
                AclMatch::Dom
            )
        );
        let t = parse(&["req.hdr(host)", "-m", "beg", "a"]).expect("ok");
        assert_eq!(t.match_kind, AclMatch::Beg);
        let t = parse(&["src", "127.0.0.1", "10.0.0.0/8", "::1"]).expect("ok");
        assert_eq!(t.match_kind, AclMatch::Ip);
        let t = parse(&["method", "GET"]).expect("ok");
        assert_eq!((t.fetch, t.match_kind), (Fetch::Method, AclMatch::Exact));
        let t = parse(&["hdr(host)", "-m", "found"]).expect("ok");
        assert_eq!(t.match_kind, AclMatch::Found);
        let t = parse(&["req.hdr(host),lower", "x"]).expect("ok");
        assert_eq!(t.converters, vec![Converter::Lower]);
        let t = parse(&["path_reg", "^/a(b|c)$"]).expect("ok");
        assert_eq!(t.match_kind, AclMatch::Reg);
        let t = parse(&["dst_port", "lt", "1024"]).expect("ok");
        assert_eq!(t.match_kind, AclMatch::Int);
        let t = parse(&["path_dir", "static"]).expect("ok");
        assert_eq!(t.match_kind, AclMatch::Reg);
        assert_eq!(t.patterns, vec!["(?:^|/)static(?:/|$)".to_string()]);
        let t = parse(&["path", "-m", "dir", "a.b"]).expect("ok");
        assert_eq!(t.patterns, vec![r"(?:^|/)a\.b(?:/|$)".to_string()]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse(&[]).err(),
            Some("missing fetch method in ACL expression ''".into())
        );
        assert_eq!(
            parse(&["foo_bar", "x"]).err(),
            Some("unknown fetch method 'foo_bar' in ACL expression 'foo_bar'".into())
        );
        assert!(parse(&["path", "-m", "foo", "x"]).is_err());
        assert!(parse(&["path_reg", "("]).is_err());
        assert!(parse(&["src", "notanip"]).is_err());
        assert!(parse(&["path", "-z"]).is_err());
        assert!(parse(&["dst_port", "abc"]).is_err());
    }
}
