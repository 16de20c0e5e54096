//! One request/response exchange on an upstream connection.

use std::time::Duration;

use http::Request;
use hyper::body::Incoming;

use switchyard_state::ObserveEvent;

use crate::error::Cause;
use crate::h1::{BodyError, ReqBody};
use crate::upstream::Sender;

/// What one exchange attempt produced.
pub(super) enum Attempt {
    Ok(http::Response<Incoming>, Sender),
    /// Nothing was sent: the request (and its body) come back.
    NotSent(ReqBody),
    /// Failed, with what passive health (`observe`) should count, if
    /// anything: the client's own failures count nothing.
    Failed(Cause, Option<ObserveEvent>),
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
            Err(_) => {
                return Attempt::Failed(Cause::UpstreamTimeout, Some(ObserveEvent::HttpReadTimeout))
            }
        },
        None => fut.await,
    };
    match res {
        Ok(resp) => Attempt::Ok(resp, sender),
        Err(mut e) => {
            if let Some(req) = e.take_message() {
                return Attempt::NotSent(req.into_body());
            }
            let (cause, ev) = classify(e.error());
            Attempt::Failed(cause, ev)
        }
    }
}

/// Which side failed, from hyper's client error, and the passive-health
/// event HAProxy's `http_wait_for_response` reports for it.
fn classify(e: &hyper::Error) -> (Cause, Option<ObserveEvent>) {
    let mut io = false;
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(b) = s.downcast_ref::<BodyError>() {
            let cause = if *b == BodyError::Timeout {
                Cause::ClientTimeout
            } else {
                Cause::ClientAborted
            };
            return (cause, None);
        }
        io |= s.is::<std::io::Error>();
        src = s.source();
    }
    if e.is_parse() || e.is_parse_status() {
        (Cause::UpstreamInvalid, Some(ObserveEvent::HttpRsp))
    } else if e.is_timeout() {
        (Cause::UpstreamTimeout, Some(ObserveEvent::HttpReadTimeout))
    } else if io {
        // A reset or another socket error while reading.
        (Cause::UpstreamClosed, Some(ObserveEvent::HttpReadError))
    } else {
        (Cause::UpstreamClosed, Some(ObserveEvent::HttpBrokenPipe))
    }
}
