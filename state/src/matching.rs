//! HAProxy's pattern matching methods (`-m str|beg|end|sub|dom|reg|ip|int`),
//! shared by ACLs and map lookups.

use std::net::IpAddr;

use switchyard_config::IpNet;

fn eq(a: &str, b: &str, icase: bool) -> bool {
    if icase {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

pub fn exact(input: &str, pat: &str, icase: bool) -> bool {
    eq(input, pat, icase)
}

pub fn beg(input: &str, pat: &str, icase: bool) -> bool {
    input.len() >= pat.len()
        && input.is_char_boundary(pat.len())
        && eq(&input[..pat.len()], pat, icase)
}

pub fn end(input: &str, pat: &str, icase: bool) -> bool {
    input.len() >= pat.len()
        && input.is_char_boundary(input.len() - pat.len())
        && eq(&input[input.len() - pat.len()..], pat, icase)
}

pub fn sub(input: &str, pat: &str, icase: bool) -> bool {
    if icase {
        input
            .to_ascii_lowercase()
            .contains(&pat.to_ascii_lowercase())
    } else {
        input.contains(pat)
    }
}

/// Domain match: the pattern must appear in the input delimited on both
/// sides by `.`, `/` or the ends of the string (HAProxy `pat_match_dom`).
pub fn dom(input: &str, pat: &str, icase: bool) -> bool {
    if pat.is_empty() {
        return false;
    }
    let (input, pat) = if icase {
        (input.to_ascii_lowercase(), pat.to_ascii_lowercase())
    } else {
        (input.to_string(), pat.to_string())
    };
    let delim = |c: u8| c == b'.' || c == b'/';
    let bytes = input.as_bytes();
    let mut start = 0;
    while let Some(pos) = input[start..].find(pat.as_str()) {
        let i = start + pos;
        let j = i + pat.len();
        let left_ok = i == 0 || delim(bytes[i - 1]);
        let right_ok = j == bytes.len() || delim(bytes[j]);
        if left_ok && right_ok {
            return true;
        }
        start = i + 1;
        if start >= input.len() || !input.is_char_boundary(start) {
            break;
        }
    }
    false
}

pub fn ip(input: &str, net: &IpNet) -> bool {
    input
        .parse::<IpAddr>()
        .map(|a| net.contains(a))
        .unwrap_or(false)
}

/// Integer match: `N` or a range `A:B` (either side may be empty).
pub fn int(input: &str, pat: &str) -> bool {
    let Ok(v) = input.trim().parse::<i64>() else {
        return false;
    };
    match pat.split_once(':') {
        Some((a, b)) => {
            let lo = if a.is_empty() {
                i64::MIN
            } else {
                a.parse().unwrap_or(i64::MAX)
            };
            let hi = if b.is_empty() {
                i64::MAX
            } else {
                b.parse().unwrap_or(i64::MIN)
            };
            v >= lo && v <= hi
        }
        None => pat.parse::<i64>().map(|p| p == v).unwrap_or(false),
    }
}

/// Parse `addr[/prefix]` into a network.
pub fn parse_net(s: &str) -> Option<IpNet> {
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = a.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match p {
        Some(p) => {
            // A dotted mask is allowed for IPv4.
            if let Ok(m) = p.parse::<std::net::Ipv4Addr>() {
                u32::from(m).count_ones() as u8
            } else {
                p.parse::<u8>().ok().filter(|v| *v <= max)?
            }
        }
        None => max,
    };
    Some(IpNet { addr, prefix })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert!(dom("www.example.com", "example.com", false));
        assert!(dom("example.com", "example.com", false));
        assert!(!dom("badexample.com", "example.com", false));
        assert!(dom("WWW.Example.com", "example.COM", true));
        assert!(dom("a.b/c", "b", false));
    }

    #[test]
    fn prefixes_and_ints() {
        assert!(beg("/api/v1", "/api", false));
        assert!(!beg("/ap", "/api", false));
        assert!(end("file.jpg", ".JPG", true));
        assert!(int("5", "1:10"));
        assert!(!int("11", "1:10"));
        assert!(int("7", "7"));
    }

    #[test]
    fn nets() {
        let n = parse_net("127.0.0.0/8").expect("net");
        assert!(ip("127.1.2.3", &n));
        assert!(!ip("10.0.0.1", &n));
    }
}
