//! Small response builders; none can fail, so the request path has no unwrap.

use super::PatternBody;
use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use std::convert::Infallible;

/// Body type of every echo response.
pub type EchoBody = BoxBody<Bytes, Infallible>;

fn with_type(status: StatusCode, body: EchoBody, content_type: &'static str) -> Response<EchoBody> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A plain-text response.
pub fn text(status: StatusCode, text: impl Into<Bytes>) -> Response<EchoBody> {
    with_type(status, Full::new(text.into()).boxed(), "text/plain")
}

/// A JSON response.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<EchoBody> {
    let body = Bytes::from(value.to_string());
    with_type(status, Full::new(body).boxed(), "application/json")
}

/// `len` bytes streamed from [`PatternBody`].
pub fn pattern(len: u64) -> Response<EchoBody> {
    with_type(
        StatusCode::OK,
        PatternBody::new(len).boxed(),
        "application/octet-stream",
    )
}
