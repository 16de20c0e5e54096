//! Incremental decoder for `Transfer-Encoding: chunked` bodies.

/// A malformed chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkError(pub String);

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad chunked body: {}", self.0)
    }
}

impl std::error::Error for ChunkError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Data(u64),
    DataEnd,
    Trailer,
    Done,
}

/// Decodes a chunked body fed in pieces of any size.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder { state: State::Size }
    }
}

fn line(input: &[u8]) -> Option<(&[u8], usize)> {
    let end = input.iter().position(|b| *b == b'\n')?;
    let text = input[..end].strip_suffix(b"\r").unwrap_or(&input[..end]);
    Some((text, end + 1))
}

impl ChunkedDecoder {
    /// True once the last chunk and trailers were read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes as much of `input` as possible, appending body bytes to `out`; returns how
    /// many input bytes were used. Bytes after the end of the body are left unused.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, ChunkError> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                State::Done => return Ok(pos),
                State::Size => {
                    let Some((text, used)) = line(rest) else {
                        return Ok(pos);
                    };
                    let text = String::from_utf8_lossy(text);
                    let hex = text.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(hex, 16)
                        .map_err(|_| ChunkError(format!("chunk size {hex:?}")))?;
                    pos += used;
                    self.state = if size == 0 {
                        State::Trailer
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(left) => {
                    if rest.is_empty() {
                        return Ok(pos);
                    }
                    let n = (rest.len() as u64).min(left) as usize;
                    out.extend_from_slice(&rest[..n]);
                    pos += n;
                    self.state = if n as u64 == left {
                        State::DataEnd
                    } else {
                        State::Data(left - n as u64)
                    };
                }
                State::DataEnd => {
                    let Some((text, used)) = line(rest) else {
                        return Ok(pos);
                    };
                    if !text.is_empty() {
                        return Err(ChunkError("missing CRLF after chunk data".into()));
                    }
                    pos += used;
                    self.state = State::Size;
                }
                State::Trailer => {
                    let Some((text, used)) = line(rest) else {
                        return Ok(pos);
                    };
                    pos += used;
                    if text.is_empty() {
                        self.state = State::Done;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_in_any_split() {
        let wire = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for split in 0..wire.len() {
            let mut d = ChunkedDecoder::default();
            let mut out = Vec::new();
            let mut buf = wire[..split].to_vec();
            let used = d.feed(&buf, &mut out).unwrap_or(0);
            buf.drain(..used);
            buf.extend_from_slice(&wire[split..]);
            let used = d.feed(&buf, &mut out).unwrap_or(0);
            assert!(d.is_done(), "split {split}");
            assert_eq!(out, b"hello world");
            assert_eq!(&buf[used..], b"NEXT");
        }
    }

    #[test]
    fn rejects_bad_size() {
        let mut d = ChunkedDecoder::default();
        assert!(d.feed(b"zz\r\n", &mut Vec::new()).is_err());
    }
}
