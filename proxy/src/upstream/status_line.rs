//! What HAProxy 2.6 takes in a server's status line and httparse refuses,
//! repaired on a copy after a failed parse (rare input, off the common
//! path): a version `HTTP/x.y` above 1.1 (forwarded as 1.1), runs of
//! spaces before the status, and a status of more than three digits.
//!
//! Left as errors (HAProxy forwards them, oddly): version 0.x (kept as
//! written), statuses under 100, with a leading zero, or above 65535
//! (HAProxy keeps the low 16 bits as the status and the digits as
//! written).

/// A status line httparse can read once the copy's version and status are
/// rewritten in place (same length, so header offsets stay those of the
/// original bytes).
pub(super) struct Repaired {
    pub(super) copy: Vec<u8>,
    pub(super) status: u16,
    /// The reason phrase's range in the original bytes.
    pub(super) reason: (usize, usize),
    pub(super) http10: bool,
}

pub(super) enum Repair {
    /// The line is not complete yet, and may be repairable.
    Wait,
    Done(Repaired),
    /// Not something HAProxy takes either.
    No,
}

pub(super) fn repair(buf: &[u8]) -> Repair {
    let Some(rest) = buf.strip_prefix(b"HTTP/") else {
        return if b"HTTP/".starts_with(buf) {
            Repair::Wait
        } else {
            Repair::No
        };
    };
    let Some(lf) = memchr::memchr(b'\n', buf) else {
        // httparse refused the version or status already; wait for the
        // line only while it still looks like one.
        let ok = rest
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b' '));
        return if ok && buf.len() < 64 {
            Repair::Wait
        } else {
            Repair::No
        };
    };
    let line_end = if lf > 0 && buf[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    let line = &buf[..line_end];
    // "HTTP/" DIGIT "." DIGIT SP+ status [SP reason]
    let (major, minor) = match line.get(5..9) {
        Some([a, b'.', b, b' ']) if a.is_ascii_digit() && b.is_ascii_digit() => {
            (a - b'0', b - b'0')
        }
        _ => return Repair::No,
    };
    if major == 0 {
        return Repair::No;
    }
    let code_start = 9 + line[9..].iter().take_while(|b| **b == b' ').count();
    let code_len = line[code_start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let code_end = code_start + code_len;
    let reason = match line.get(code_end) {
        None => (code_end, code_end),
        Some(b' ') => (code_end + 1, line_end),
        Some(_) => return Repair::No,
    };
    let digits = &line[code_start..code_end];
    if digits.len() < 3 || digits.len() > 5 || digits[0] == b'0' {
        return Repair::No;
    }
    let value = digits
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let Ok(status) = u16::try_from(value) else {
        return Repair::No;
    };
    // The copy's line is one httparse reads, as long as the original
    // (at least "HTTP/1.1 200"): its status and reason are not used.
    let mut copy = buf.to_vec();
    copy[..12].copy_from_slice(b"HTTP/1.1 200");
    if line_end > 12 {
        copy[12] = b' ';
        copy[13..line_end].fill(b'x');
    }
    Repair::Done(Repaired {
        copy,
        status,
        reason,
        http10: major == 1 && minor == 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(s: &str) -> Option<(u16, String, bool)> {
        match repair(s.as_bytes()) {
            Repair::Done(r) => Some((r.status, s[r.reason.0..r.reason.1].to_string(), r.http10)),
            _ => None,
        }
    }

    #[test]
    fn versions_and_long_statuses_as_haproxy_takes_them() {
        assert_eq!(
            done("HTTP/1.2 200 OK\r\n\r\n"),
            Some((200, "OK".into(), false))
        );
        assert_eq!(
            done("HTTP/2.0 204 No\r\n\r\n"),
            Some((204, "No".into(), false))
        );
        assert_eq!(
            done("HTTP/1.1  200 OK\r\n\r\n"),
            Some((200, "OK".into(), false))
        );
        assert_eq!(
            done("HTTP/1.1 2000 OK\r\n\r\n"),
            Some((2000, "OK".into(), false))
        );
        assert_eq!(
            done("HTTP/1.1 65535\r\n\r\n"),
            Some((65535, String::new(), false))
        );
        assert_eq!(
            done("HTTP/1.0 1000 A B\r\n"),
            Some((1000, "A B".into(), true))
        );
    }

    #[test]
    fn what_stays_an_error() {
        for s in [
            "HTTP/1.10 200 OK\r\n",
            "http/1.1 200 OK\r\n",
            "HTTP/1.1 20 OK\r\n",
            "HTTP/1.1 0200 OK\r\n",
            "HTTP/1.1 65536 OK\r\n",
            "HTTP/1.1 20x OK\r\n",
            "HTTP/1.1 123456 OK\r\n",
            "ICY 200 OK\r\n",
            "HTTP/0.9 200 OK\r\n",
        ] {
            assert!(matches!(repair(s.as_bytes()), Repair::No), "{s:?}");
        }
        assert!(matches!(repair(b"HTTP/1.2 20"), Repair::Wait));
        assert!(matches!(repair(b"HTT"), Repair::Wait));
    }

    #[test]
    fn the_copy_keeps_every_offset() {
        let s = b"HTTP/1.1 2000 OK\r\nx-a: 1\r\n\r\n";
        let Repair::Done(r) = repair(s) else {
            panic!("not repaired")
        };
        assert_eq!(r.copy.len(), s.len());
        assert_eq!(&r.copy[..18], b"HTTP/1.1 200 xxx\r\n");
        assert_eq!(&r.copy[18..], &s[18..]);
    }
}
