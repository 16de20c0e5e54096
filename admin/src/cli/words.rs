//! Splitting one request line into words, as HAProxy 2.6's
//! `cli_parse_request` does: blanks separate words, `\` escapes the next
//! byte, at most 64 words, a NUL byte ends the line, and a last word that
//! is exactly `<<` starts the payload.

/// HAProxy's MAX_CLI_ARGS.
pub const MAX_WORDS: usize = 64;

/// The words of a request and its payload, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub words: Vec<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
}

/// Split `line` (no trailing LF). `payload` is what follows the `<<` line
/// when the framer gathered one.
pub fn split(line: &[u8], payload: Option<Vec<u8>>) -> Request {
    // C strings: everything after a NUL is invisible to the parser.
    let line = match line.iter().position(|b| *b == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    let mut words = Vec::new();
    let mut p = 0usize;
    let mut payload_seen = false;
    while words.len() < MAX_WORDS && p < line.len() {
        while p < line.len() && (line[p] == b' ' || line[p] == b'\t') {
            p += 1;
        }
        if p >= line.len() {
            break;
        }
        if &line[p..] == b"<<" {
            payload_seen = true;
            break;
        }
        // Find the end of the word: the first unescaped blank.
        let start = p;
        while p < line.len() {
            match line[p] {
                b' ' | b'\t' => break,
                b'\\' => p += 2,
                _ => p += 1,
            }
        }
        let end = p.min(line.len());
        words.push(unescape(&line[start..end]));
        p = end + 1;
    }
    Request {
        words,
        payload: if payload_seen { payload } else { None },
    }
}

/// `\\` gives `\`, `\x` gives `x`.
fn unescape(w: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(w.len());
    let mut k = 0;
    while k < w.len() {
        if w[k] == b'\\' {
            if w.get(k + 1) == Some(&b'\\') {
                k += 1;
            } else {
                k += 1;
                continue;
            }
        }
        out.push(w[k]);
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(line: &str) -> Vec<String> {
        split(line.as_bytes(), None)
            .words
            .into_iter()
            .map(|w| String::from_utf8_lossy(&w).into_owned())
            .collect()
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("show cli level", &["show", "cli", "level"]),
            ("   show \t cli   level  ", &["show", "cli", "level"]),
            ("set map m k a\\ b", &["set", "map", "m", "k", "a b"]),
            ("a\\\\b", &["a\\b"]),
            ("a\\;b", &["a;b"]),
            ("trail\\", &["trail"]),
            ("", &[]),
            ("x\0 y", &["x"]),
        ];
        for (line, want) in cases {
            assert_eq!(
                ws(line),
                want.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "{line:?}"
            );
        }
    }

    #[test]
    fn payload_marker_only_when_last() {
        let r = split(b"add map m <<", Some(b"k v".to_vec()));
        assert_eq!(r.words.len(), 3);
        assert_eq!(r.payload.as_deref(), Some(&b"k v"[..]));
        let r = split(b"add map m << x", Some(b"k v".to_vec()));
        assert_eq!(r.words.len(), 5);
        assert!(r.payload.is_none());
    }

    #[test]
    fn at_most_64_words() {
        let line = vec!["w"; 100].join(" ");
        assert_eq!(split(line.as_bytes(), None).words.len(), MAX_WORDS);
    }
}
