//! One HTTP/2 stream: its head turned into the HTTP/1 pipeline's, its body
//! streamed to the server (the client's window reopened only as the server
//! side takes the data), the request run through [`request::process`] and
//! its reply sent back; then the same bookkeeping as an HTTP/1 request.

use std::pin::pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::server::SendResponse;
use h2::RecvStream;
use http::{Method, Request};

use super::respond;
use crate::conn::Settings;
use crate::h1::{htx_head_size, BodyError, BodySender, ReqBody};
use crate::proxy::Shared;
use crate::request::{self, ConnInfo, ReqCtx};
use crate::timing::Start;
use crate::upstream::interim;

/// Serve one stream.
pub(super) async fn run(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    fe: Settings,
    req: Request<RecvStream>,
    mut tx: SendResponse<Bytes>,
) {
    let start = Start::now();
    let head_done = Instant::now();
    let (parts, recv) = req.into_parts();
    let Some(head) = super::request::head(parts) else {
        super::conn::bad_stream(shared, conn, &fe, &mut tx, start).await;
        return;
    };
    let is_head = head.method == Method::HEAD;
    let req_htx = htx_head_size(
        [head.method.as_str(), &head.target, "HTTP/2.0"],
        &head.headers,
    );
    let (body, mut pump) = if recv.is_end_stream() {
        (ReqBody::Empty, None)
    } else {
        let len = match head.framing {
            crate::h1::Framing::Length(n) => Some(n),
            _ => None,
        };
        let (sender, body) = ReqBody::channel(len);
        (body, Some(Pump::new(recv, sender)))
    };
    let t_client = fe.t_client;
    let mut cx = ReqCtx::new(shared, conn, fe.idx, start, head_done);
    // The server answers `Expect: 100-continue`: its interim responses
    // go to the client as they come.
    let mut interim_rx = (head.expect_continue && pump.is_some()).then(|| cx.relay_interim());
    let exchange = async {
        let mut gone = false;
        let reply = {
            let mut proc = pin!(request::process(&cx, head, body));
            loop {
                tokio::select! {
                    biased;
                    b = interim::next(&mut interim_rx) => respond::interim(&mut tx, &b),
                    r = &mut proc => break r,
                    // A reset stream: the exchange sees the flag when
                    // polled next, drops the server connection and logs.
                    _ = std::future::poll_fn(|c| tx.poll_reset(c)), if !gone => {
                        gone = true;
                        cx.gone.store(true, Relaxed);
                    }
                }
            }
        };
        for b in interim::rest(&mut interim_rx) {
            respond::interim(&mut tx, &b);
        }
        respond::write(&mut tx, reply, is_head, t_client).await
    };
    let (written, end, lease, body_done, decoded) = match pump.as_mut() {
        None => {
            let (w, e, l) = exchange.await;
            (w, e, l, true, 0)
        }
        Some(p) => {
            let (w, e, l) = {
                let mut ex = pin!(exchange);
                let mut pu = pin!(p.run(t_client));
                let mut pumped = false;
                loop {
                    tokio::select! {
                        r = ex.as_mut() => break r,
                        _ = &mut pu, if !pumped => pumped = true,
                    }
                }
            };
            (w, e, l, p.complete, p.decoded)
        }
    };
    // A server that answered before taking the whole body cannot take
    // another request on that connection; the rest of the client's body is
    // refused by dropping the stream (the codec resets it).
    if let Some(l) = lease {
        l.finish(written.complete && body_done);
    }
    end.finish(shared, written.bytes, req_htx + decoded, written.term);
}

/// Moves a stream's DATA frames to the request body.
struct Pump {
    recv: RecvStream,
    tx: Option<BodySender>,
    /// Body bytes received so far.
    decoded: u64,
    /// The client sent the whole body.
    complete: bool,
}

impl Pump {
    fn new(recv: RecvStream, tx: BodySender) -> Pump {
        Pump {
            recv,
            tx: Some(tx),
            decoded: 0,
            complete: false,
        }
    }

    /// Until the body ends, the server side stops wanting it or the client
    /// fails (`t` is `timeout client`).
    async fn run(&mut self, t: Option<Duration>) {
        loop {
            let Some(tx) = self.tx.as_ref() else { return };
            let next = tokio::select! {
                biased;
                _ = tx.closed() => return,
                d = with_timeout(t, self.recv.data()) => d,
            };
            match next {
                Ok(Some(Ok(data))) => {
                    let n = data.len();
                    self.decoded += n as u64;
                    if tx.send(Ok(data)).await.is_err() {
                        return;
                    }
                    // The window reopens as the server side takes the data.
                    let _ = self.recv.flow_control().release_capacity(n);
                }
                Ok(None) => {
                    self.complete = true;
                    self.tx = None;
                    return;
                }
                Ok(Some(Err(_))) => return self.fail(BodyError::Closed),
                Err(()) => return self.fail(BodyError::Timeout),
            }
        }
    }
}

impl Pump {
    /// The client failed: the server side sees the error, then the end.
    fn fail(&mut self, e: BodyError) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.try_send(Err(e));
        }
    }
}

async fn with_timeout<T>(
    t: Option<Duration>,
    f: impl std::future::Future<Output = T>,
) -> Result<T, ()> {
    match t {
        Some(d) => tokio::time::timeout(d, f).await.map_err(|_| ()),
        None => Ok(f.await),
    }
}
