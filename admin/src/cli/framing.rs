//! Request framing, as HAProxy 2.6's `cli_io_handler` reads its input:
//! a request ends at LF or at an unescaped `;` (a `\` escapes the next
//! byte, even a LF), one CR before the end is dropped, a request with no
//! terminator is never run, and a line that does not fit in the buffer
//! (`tune.bufsize` - 1 bytes, terminator included) closes the session.
//! A line ending in `<<` starts a payload: the following lines, up to an
//! empty one, taken verbatim (no escapes, no `;`).

use super::words::{split, Request};

/// HAProxy's default `tune.bufsize`.
pub const DEFAULT_BUFSIZE: usize = 16384;

/// What the framer found in the buffered input.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// A complete request to run.
    Request(Request),
    /// A line ending in `<<` was read: payload lines follow.
    PayloadStarted,
    /// One payload line was read.
    PayloadLine,
    /// No complete line yet.
    NeedMore,
    /// The input can never form a valid line (too long, or it ended
    /// mid-line): close without running it.
    Close,
}

#[derive(Debug)]
pub struct Framer {
    bufsize: usize,
    /// While gathering a payload: the command line, a NUL, then the
    /// payload lines each followed by LF (HAProxy's `appctx->chunk`).
    payload: Option<Vec<u8>>,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new(DEFAULT_BUFSIZE)
    }
}

impl Framer {
    pub fn new(bufsize: usize) -> Framer {
        Framer {
            bufsize: bufsize.max(2),
            payload: None,
        }
    }

    pub fn in_payload(&self) -> bool {
        self.payload.is_some()
    }

    /// Take the next step from `input`, removing what it consumed. `eof`
    /// tells that no more bytes will come.
    pub fn next(&mut self, input: &mut Vec<u8>, eof: bool) -> Step {
        if input.is_empty() {
            return if eof { Step::Close } else { Step::NeedMore };
        }
        let used = self.payload.as_ref().map(|c| c.len()).unwrap_or(0);
        let max = self.bufsize.saturating_sub(1).saturating_sub(used);
        let window = &input[..input.len().min(max)];
        let end = if self.payload.is_some() {
            window.iter().position(|b| *b == b'\n')
        } else {
            find_delim(window)
        };
        // At the end of input, the last byte being an escaped LF still
        // ends the line: HAProxy takes what is left and checks only that
        // it ends in LF.
        let end = end.or_else(|| {
            (eof && window.len() == input.len() && window.last() == Some(&b'\n'))
                .then(|| window.len() - 1)
        });
        let Some(end) = end else {
            // No terminator: HAProxy waits unless the buffer is full or the
            // client is gone, and then closes without running the line.
            return if input.len() >= max || eof {
                Step::Close
            } else {
                Step::NeedMore
            };
        };
        let raw: Vec<u8> = input.drain(..=end).collect();
        let mut len = raw.len() - 1;
        if len > 0 && raw[len - 1] == b'\r' {
            len -= 1;
        }
        let line = &raw[..len];

        match self.payload.take() {
            Some(mut chunk) => {
                if line.is_empty() {
                    let cmd_len = chunk.iter().position(|b| *b == 0).unwrap_or(chunk.len());
                    let gathered = &chunk[(cmd_len + 1).min(chunk.len())..];
                    // HAProxy trims the last two LFs; with no payload line
                    // at all this leaves a lone "\n" as the payload.
                    let payload = if gathered.is_empty() {
                        b"\n".to_vec()
                    } else {
                        gathered[..gathered.len() - 1].to_vec()
                    };
                    chunk.truncate(cmd_len);
                    Step::Request(split(&chunk, Some(payload)))
                } else {
                    chunk.extend_from_slice(line);
                    chunk.push(b'\n');
                    self.payload = Some(chunk);
                    Step::PayloadLine
                }
            }
            None => {
                if line.ends_with(b"<<") {
                    let mut chunk = line.to_vec();
                    chunk.push(0);
                    self.payload = Some(chunk);
                    Step::PayloadStarted
                } else {
                    Step::Request(split(line, None))
                }
            }
        }
    }
}

/// The first LF or `;` not escaped by a backslash.
fn find_delim(buf: &[u8]) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in buf.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' => escaped = true,
            b'\n' | b';' => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(step: &Step) -> Vec<String> {
        match step {
            Step::Request(r) => r
                .words
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect(),
            other => panic!("not a request: {other:?}"),
        }
    }

    fn run(input: &[u8], eof: bool) -> Vec<Step> {
        let mut f = Framer::default();
        let mut buf = input.to_vec();
        let mut out = Vec::new();
        loop {
            let s = f.next(&mut buf, eof);
            let stop = matches!(s, Step::NeedMore | Step::Close);
            out.push(s);
            if stop {
                return out;
            }
        }
    }

    #[test]
    fn lf_semicolon_crlf() {
        let s = run(b"a b;c\r\nd\n", true);
        assert_eq!(words(&s[0]), ["a", "b"]);
        assert_eq!(words(&s[1]), ["c"]);
        assert_eq!(words(&s[2]), ["d"]);
        assert_eq!(s[3], Step::Close);
    }

    #[test]
    fn escaped_semicolon_and_lf_do_not_end_the_line() {
        let s = run(b"set map m k a\\;b\n", true);
        assert_eq!(words(&s[0]), ["set", "map", "m", "k", "a;b"]);
        let s = run(b"show cli \\\nlevel\n", true);
        assert_eq!(words(&s[0]), ["show", "cli", "\nlevel"]);
    }

    #[test]
    fn an_escaped_lf_at_the_end_of_input_ends_the_line() {
        let s = run(b"get weight b/s \\\n", true);
        // The lone `\` is a word of its own, empty once unescaped (as in HAProxy).
        assert_eq!(words(&s[0]), ["get", "weight", "b/s", ""]);
        assert_eq!(run(b"get weight b/s \\\n", false), vec![Step::NeedMore]);
    }

    #[test]
    fn unterminated_line_is_never_run() {
        assert_eq!(run(b"show cli level", false), vec![Step::NeedMore]);
        assert_eq!(run(b"show cli level", true), vec![Step::Close]);
    }

    #[test]
    fn empty_lines_are_empty_requests() {
        let s = run(b";\n", true);
        assert_eq!(words(&s[0]), Vec::<String>::new());
        assert_eq!(words(&s[1]), Vec::<String>::new());
    }

    #[test]
    fn line_length_limit_is_bufsize_minus_one() {
        let mut ok = b"show cli level".to_vec();
        ok.resize(16382, b' ');
        ok.push(b'\n');
        assert!(matches!(run(&ok, true)[0], Step::Request(_)));
        let mut long = b"show cli level".to_vec();
        long.resize(16383, b' ');
        long.push(b'\n');
        assert_eq!(run(&long, true), vec![Step::Close]);
        // Too long even before the LF arrives.
        assert_eq!(run(&vec![b'x'; 20000], false), vec![Step::Close]);
    }

    #[test]
    fn payload() {
        let s = run(b"add map m <<\nk1 v1\nk2 v 2\n\nshow x\n", true);
        assert_eq!(s[0], Step::PayloadStarted);
        assert_eq!(s[1], Step::PayloadLine);
        assert_eq!(s[2], Step::PayloadLine);
        match &s[3] {
            Step::Request(r) => {
                assert_eq!(r.words.len(), 3);
                assert_eq!(r.payload.as_deref(), Some(&b"k1 v1\nk2 v 2"[..]));
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(words(&s[4]), ["show", "x"]);
    }

    #[test]
    fn payload_keeps_semicolons_and_empty_payload_is_a_lone_lf() {
        let s = run(b"add map m <<\na;b c\\d\n\n", true);
        match &s[2] {
            Step::Request(r) => assert_eq!(r.payload.as_deref(), Some(&b"a;b c\\d"[..])),
            o => panic!("{o:?}"),
        }
        let s = run(b"add map m <<\n\n", true);
        match &s[1] {
            Step::Request(r) => assert_eq!(r.payload.as_deref(), Some(&b"\n"[..])),
            o => panic!("{o:?}"),
        }
    }
}
