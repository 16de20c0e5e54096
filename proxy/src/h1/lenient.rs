//! What HAProxy 2.6 takes in a request head and httparse refuses, repaired
//! on a copy after a failed parse (rare input, so off the common path):
//! obs-fold continuation lines, unfolded with the CR and LF each becoming
//! a space (what HAProxy forwards); a version `HTTP/x.y` other than 1.0 and
//! 1.1, taken as HTTP/1.1; and runs of spaces in the request line.

use super::head::{parse_strict, HeadError, ReqHead};

type Parsed = Result<Option<(Box<ReqHead>, usize)>, HeadError>;

pub(super) fn reparse(buf: &[u8], max_len: usize) -> Parsed {
    // An HTTP/2 connection preface is not an HTTP/1 request in another
    // version: no HTTP/2 here, so it is refused.
    if buf.starts_with(b"PRI * HTTP/2.0") {
        return Err(HeadError::Invalid);
    }
    let Some(line_end) = memchr::memchr(b'\n', buf) else {
        return Err(HeadError::Invalid);
    };
    let Some(end) = memchr::memmem::find(buf, b"\r\n\r\n").map(|i| i + 4) else {
        // httparse stops at a fold before the head is complete: wait for
        // the rest when a repair may apply.
        return if buf.len() >= max_len {
            Err(HeadError::TooLarge)
        } else if folded(&buf[line_end..]) || fix_version(&mut buf[..line_end].to_vec()) {
            Ok(None)
        } else {
            Err(HeadError::Invalid)
        };
    };
    if end > max_len {
        return Err(HeadError::TooLarge);
    }
    let mut head = buf[..end].to_vec();
    fix_version(&mut head[..line_end]);
    unfold(&mut head[line_end..]);
    let mut cfg = httparse::ParserConfig::default();
    cfg.allow_multiple_spaces_in_request_line_delimiters(true);
    match parse_strict(&head, max_len, Some(&cfg)) {
        Ok(None) => Err(HeadError::Invalid),
        r => r,
    }
}

/// Whether `b` has a CRLF followed by a space or tab (a folded line).
fn folded(b: &[u8]) -> bool {
    b.windows(3)
        .any(|w| w[0] == b'\r' && w[1] == b'\n' && (w[2] == b' ' || w[2] == b'\t'))
}

fn unfold(b: &mut [u8]) {
    for i in 0..b.len().saturating_sub(2) {
        if b[i] == b'\r' && b[i + 1] == b'\n' && (b[i + 2] == b' ' || b[i + 2] == b'\t') {
            b[i] = b' ';
            b[i + 1] = b' ';
        }
    }
}

/// Rewrite a request line's `HTTP/x.y` (x ≥ 1, not 1.0 or 1.1) to
/// `HTTP/1.1`; whether it did.
fn fix_version(line: &mut [u8]) -> bool {
    let l = line.strip_suffix(b"\r").map_or(line.len(), <[u8]>::len);
    if l < 9 {
        return false;
    }
    let v = &mut line[l - 8..l];
    let shaped = v.starts_with(b"HTTP/")
        && v[5].is_ascii_digit()
        && v[6] == b'.'
        && v[7].is_ascii_digit()
        && v[5] != b'0';
    if !shaped || &v[5..] == b"1.0" || &v[5..] == b"1.1" {
        return false;
    }
    v[5..].copy_from_slice(b"1.1");
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Parsed {
        super::super::head::parse_head(s.as_bytes(), 16384)
    }

    #[test]
    fn folds_are_unfolded() {
        let text = "GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  more\r\n\r\nGET";
        let (h, n) = parse(text).unwrap().unwrap();
        assert_eq!(n, text.len() - 3);
        assert_eq!(h.headers.get("x-a").unwrap(), "1    more");
        // A fold seen before the head is complete waits for the rest.
        assert!(parse("GET / HTTP/1.1\r\nx-a: 1\r\n  more\r\n")
            .unwrap()
            .is_none());
    }

    #[test]
    fn versions_and_spaces() {
        let h = parse("GET / HTTP/1.2\r\nhost: x\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(h.version, http::Version::HTTP_11);
        let h = parse("GET / HTTP/2.0\r\nhost: x\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(h.version, http::Version::HTTP_11);
        assert!(parse("GET / HTTP/0.9\r\nhost: x\r\n\r\n").is_err());
        assert!(parse("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").is_err());
        let h = parse("GET  /a HTTP/1.1\r\nhost: x\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(h.target, "/a");
        assert!(parse("GARBAGE\r\n\r\n").is_err());
    }

    /// Mutated heads (bytes flipped, dropped, inserted, folds and odd
    /// versions spliced in) must give a head, a wait or an error: never a
    /// panic, and a head's length never beyond the input.
    #[test]
    fn mutated_heads_never_panic() {
        use rand::{Rng, SeedableRng};
        let seeds: &[&[u8]] = &[
            b"GET /a?q=1 HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  fold\r\n\r\n",
            b"POST http://h/a HTTP/1.2\r\nhost: h\r\ncontent-length: 3, 3\r\n\r\nabc",
            b"PUT  /b  HTTP/2.0\r\nhost: x\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
            b"GET /ws HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n",
        ];
        let pieces: &[&[u8]] = &[
            b"\r\n ",
            b"\r\n\t",
            b"HTTP/9.9",
            b"\r\n\r\n",
            b"#",
            b"\xff",
            b" ",
            b":",
        ];
        // scripts/long.sh runs many more, seeded by the time; the default
        // run is fixed and quick.
        let (iters, seed) = switchyard_testkit::fuzz_iters_and_seed(20_000, 7);
        eprintln!("mutated heads: {iters} from seed {seed}");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for i in 0..iters {
            let mut b = seeds[i % seeds.len()].to_vec();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..=b.len());
                match rng.gen_range(0..4) {
                    0 if at < b.len() => b[at] = rng.gen(),
                    1 if at < b.len() => {
                        b.remove(at);
                    }
                    2 => b.insert(at, rng.gen()),
                    _ => {
                        let p = pieces[rng.gen_range(0..pieces.len())];
                        b.splice(at..at, p.iter().copied());
                    }
                }
            }
            if let Ok(Some((_, n))) = super::super::head::parse_head(&b, 16384) {
                assert!(n <= b.len());
            }
        }
    }
}
