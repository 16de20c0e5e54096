//! Hash keys and functions for the hash-based algorithms (HAProxy's
//! map-based `sdbm` hashing, `full_hash` for source addresses).

use std::net::IpAddr;

/// Bob Jenkins' 32-bit integer mix, as HAProxy's `full_hash`.
pub(crate) fn full_hash(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a
}

/// HAProxy's default string hash (`sdbm`).
pub(crate) fn sdbm(s: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in s {
        h = u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h);
    }
    h
}

/// The source-address hash: 32-bit words XORed, then mixed.
pub(crate) fn source(ip: IpAddr) -> u32 {
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let bytes: Vec<u8> = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let mut h = 0u32;
    for w in bytes.chunks_exact(4) {
        h ^= u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
    }
    full_hash(h)
}

/// The part of the URI `balance uri` hashes: up to `?` unless `whole`, at
/// most `len` bytes, at most `depth` directories.
pub(crate) fn uri_key(uri: &str, len: Option<usize>, depth: Option<usize>, whole: bool) -> &str {
    let mut s = uri;
    if let Some(l) = len.filter(|l| *l > 0) {
        let mut end = l.min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s = &s[..end];
    }
    let mut slashes = 0usize;
    for (i, c) in s.char_indices() {
        if c == '/' {
            slashes += 1;
            if let Some(d) = depth.filter(|d| *d > 0) {
                if slashes == d + 1 {
                    return &s[..i];
                }
            }
        } else if c == '?' && !whole {
            return &s[..i];
        }
    }
    s
}

/// The value of query parameter `name` in `uri`, if present.
pub(crate) fn url_param<'a>(uri: &'a str, name: &str) -> Option<&'a str> {
    let (_, q) = uri.split_once('?')?;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_keys() {
        assert_eq!(uri_key("/a/b/c?x=1", None, None, false), "/a/b/c");
        assert_eq!(uri_key("/a/b/c?x=1", None, None, true), "/a/b/c?x=1");
        assert_eq!(uri_key("/a/b/c", None, Some(2), false), "/a/b");
        assert_eq!(uri_key("/abcdef", Some(3), None, false), "/ab");
        assert_eq!(url_param("/p?a=1&user=bob&c", "user"), Some("bob"));
        assert_eq!(url_param("/p?a=1", "user"), None);
        assert_ne!(sdbm(b"/a"), sdbm(b"/b"));
    }
}
