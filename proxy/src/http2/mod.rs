//! HTTP/2 from clients: ALPN `h2` on a TLS bind, `bind ... proto h2`, and
//! a prior-knowledge preface as the first bytes on an HTTP/1 bind (HAProxy's
//! H1 mux upgrades the same way). Each stream is one request through the
//! same [`crate::request::process`] as HTTP/1 (rules, routing, retries,
//! queueing, logs and counters alike); servers stay HTTP/1.1.
//!
//! Built on the `h2` crate (the codec under hyper) rather than hyper's
//! server: every stream must run our own pipeline with the connection's
//! state at hand, answer with exactly the reply's headers (hyper adds a
//! `date`), and the connection needs a GOAWAY on a soft stop, `timeout
//! client` as its idle timeout and HAProxy's byte counts per stream, all of
//! which the codec's own handles give directly. A connection's streams run
//! in its task, so a hard stop ends them with it, as HAProxy ends a
//! connection's streams; `shutdown sessions` resets only the streams of
//! that server.

mod conn;
mod io;
mod request;
mod respond;
mod stream;

pub(crate) use conn::serve;
pub(crate) use io::Prefixed;

/// What an HTTP/2 client sends first (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How the first bytes of a connection compare with the HTTP/2 preface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preface {
    /// The whole preface is there.
    Full,
    /// So far the bytes match: more are needed to tell.
    Partial,
    /// Not HTTP/2.
    No,
}

pub(crate) fn preface(buf: &[u8]) -> Preface {
    let n = buf.len().min(PREFACE.len());
    if buf[..n] != PREFACE[..n] {
        Preface::No
    } else if n == PREFACE.len() {
        Preface::Full
    } else {
        Preface::Partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preface_is_told_apart() {
        assert_eq!(
            preface(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0"),
            Preface::Full
        );
        assert_eq!(preface(b"PRI * HTTP/2.0\r\n"), Preface::Partial);
        assert_eq!(preface(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"), Preface::No);
        assert_eq!(preface(b"GET / HTTP/1.1\r\n"), Preface::No);
    }
}
