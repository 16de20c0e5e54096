//! One request/response exchange on an upstream connection.

use std::time::Duration;

use http::Request;
use hyper::body::Incoming;

use crate::error::Cause;
use crate::h1::{BodyError, ReqBody};
use crate::upstream::Sender;

/// What one exchange attempt produced.
pub(super) enum Attempt {
    Ok(http::Response<Incoming>, Sender),
    /// Nothing was sent: the request (and its body) come back.
    NotSent(ReqBody),
    Failed(Cause),
}

/// Send one request on `sender` and wait for the response head.
pub(super) async fn exchange(
    mut sender: Sender,
    req: Request<ReqBody>,
    t_server: Option<Duration>,
) -> Attempt {
    if sender.ready().await.is_err() {
        return Attempt::NotSent(req.into_body());
    }
    let fut = sender.try_send_request(req);
    let res = match t_server {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r,
            Err(_) => return Attempt::Failed(Cause::UpstreamTimeout),
        },
        None => fut.await,
    };
    match res {
        Ok(resp) => Attempt::Ok(resp, sender),
        Err(mut e) => {
            if let Some(req) = e.take_message() {
                return Attempt::NotSent(req.into_body());
            }
            Attempt::Failed(classify(e.error()))
        }
    }
}

/// Which side failed, from hyper's client error.
fn classify(e: &hyper::Error) -> Cause {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(b) = s.downcast_ref::<BodyError>() {
            return if *b == BodyError::Timeout {
                Cause::ClientTimeout
            } else {
                Cause::ClientAborted
            };
        }
        src = s.source();
    }
    if e.is_parse() || e.is_parse_status() {
        Cause::UpstreamInvalid
    } else if e.is_timeout() {
        Cause::UpstreamTimeout
    } else {
        Cause::UpstreamClosed
    }
}
