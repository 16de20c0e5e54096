//! The request as sent to a server: its head encoded once per attempt, with
//! the body framing hyper's client used to choose (what servers behind
//! switchyard have seen so far).

use std::io::Write as _;

use http::{HeaderMap, Method, Version};
use http_body::Body as _;

use crate::h1::{encode_body_frame, ReqBody, RespFraming};

/// The request as sent upstream, kept so attempts can resend it.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: Method,
    /// The target as the client sent it (absolute form included), as
    /// HAProxy 2.6 forwards it.
    pub(crate) target: &'a str,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    /// The server connection may stay open (no `httpclose` and the like).
    pub(crate) keep_alive: bool,
    /// The client's body was chunked: it goes on chunked, even once
    /// buffered for L7 retries, under the client's `Transfer-Encoding`,
    /// which `headers` keep in place and as spelt (HAProxy keeps both).
    pub(crate) chunked: bool,
    /// Where the server's interim responses go at once (the client sent
    /// `Expect: 100-continue`); `None` keeps them for the final response.
    pub(crate) interim: Option<&'a super::InterimTx>,
}

/// How the request body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendFraming {
    /// Nothing is sent after the head.
    NoBody,
    Length,
    Chunked,
}

impl Outgoing<'_> {
    /// Append the head for `body` to `out` and say how the body follows.
    /// The client's `content-length` is kept; a body of unknown length is
    /// chunked, except on GET/HEAD/CONNECT (sent without a body).
    pub(crate) fn encode_head(&self, out: &mut Vec<u8>, body: &ReqBody) -> SendFraming {
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.target.as_bytes());
        out.extend_from_slice(if self.version == Version::HTTP_10 {
            b" HTTP/1.0\r\n"
        } else {
            b" HTTP/1.1\r\n"
        });
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let framing = self.framing(body, out);
        if self.keep_alive
            && self.version == Version::HTTP_10
            && framing != SendFraming::Chunked
            && !crate::headers::has_token(&self.headers, &http::header::CONNECTION, "upgrade")
        {
            // An HTTP/1.0 request would close the server connection: like
            // HAProxy, ask to keep it (not for a chunked 1.0 request, nor
            // one asking for an upgrade, which HAProxy forwards as they are).
            out.extend_from_slice(b"connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        framing
    }

    fn framing(&self, body: &ReqBody, out: &mut Vec<u8>) -> SendFraming {
        if self.chunked {
            return SendFraming::Chunked;
        }
        if body.is_end_stream() {
            return SendFraming::NoBody;
        }
        if matches!(crate::h1::content_length(&self.headers), Ok(Some(_))) {
            return SendFraming::Length;
        }
        match body.size_hint().exact() {
            Some(n) => {
                let _ = write!(out, "content-length: {n}\r\n");
                SendFraming::Length
            }
            None if matches!(self.method, Method::GET | Method::HEAD | Method::CONNECT) => {
                SendFraming::NoBody
            }
            None => {
                out.extend_from_slice(b"transfer-encoding: chunked\r\n");
                SendFraming::Chunked
            }
        }
    }
}

/// A piece of body data in the request's framing.
pub(crate) fn frame(framing: SendFraming, data: &[u8], out: &mut Vec<u8>) {
    let f = match framing {
        SendFraming::NoBody => RespFraming::NoBody,
        SendFraming::Length => RespFraming::Length,
        SendFraming::Chunked => RespFraming::Chunked,
    };
    encode_body_frame(out, f, data);
}
