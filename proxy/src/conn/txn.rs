//! One request on a client connection: the rest of its head, the request
//! itself (its body streamed concurrently) and its response. One async fn
//! rather than a chain of them: each async layer keeps its arguments twice
//! (as passed and as locals), and every byte written there is a cold cache
//! line of the request's boxed state.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Buf;
use http::Method;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant as TokioInstant;

use super::early::{bad_request, early_log, request_timeout};
use super::respond::write_reply;
use super::{fill_or, Settings, Wait, DRAIN_MAX};
use crate::h1::{
    chunked_prefix_invalid, htx_head_size, parse_head, BodyPump, ClientRead, Framing, HeadError,
    Reader, ReqHead,
};
use crate::proxy::Shared;
use crate::request::{self, ConnInfo, ReqCtx};
use crate::timing::Start;
use crate::upstream::interim;

/// Read the rest of a request head (its first bytes are in `reader`), run
/// the request and write its response; whether the connection may carry
/// another request.
pub(super) async fn request<R, W>(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    reader: &mut Reader<R>,
    wr: &mut W,
    fe: Settings,
    first: bool,
    accepted: Start,
) -> bool
where
    R: ClientRead,
    W: AsyncWrite + Unpin + Send,
{
    // The request starts with its first byte (`%tr`, `TR` and `Ta` count
    // from there); the first request's `timeout http-request` counts
    // from the accept.
    let start = Start::now();
    let req_clock = if first { accepted } else { start };

    // Usually the whole head came with its first bytes: no timer then.
    let parsed = match parse_head(&reader.buf, fe.head_max) {
        Ok(Some((h, n))) => Head::Complete(h, n),
        Ok(None) => rest_of_head(shared, conn, reader, wr, &fe, req_clock).await,
        Err(e) => Head::Bad(e),
    };
    let (head, head_len) = match parsed {
        Head::Complete(h, n) => (h, n),
        Head::Bad(e) => {
            bad_request(shared, conn, &fe.cfg, wr, start, e.status()).await;
            return false;
        }
        Head::Ended => return false,
    };
    let head_done = switchyard_state::clock::now();
    reader.buf.advance(head_len);
    if head.framing == Framing::Chunked && chunked_prefix_invalid(&reader.buf) {
        bad_request(shared, conn, &fe.cfg, wr, start, 400).await;
        return false;
    }

    // ---- run the request, streaming its body concurrently
    let t_client = fe.t_client;
    let client_version = head.version;
    let client_keep_alive = head.keep_alive;
    let is_head = head.method == Method::HEAD;
    let expect = head.expect_continue;
    let req_htx = htx_head_size(
        [head.method.as_str(), &head.target, "HTTP/1.1"],
        &head.headers,
    );
    let (mut pump, body, demand) = BodyPump::new(head.framing);
    let mut cx = ReqCtx::new(shared, conn, fe.idx, start, head_done);
    // The server answers `Expect: 100-continue`: its interim responses
    // reach the client as they come (a channel only for such requests).
    let mut interim_rx = (expect && demand.is_some()).then(|| cx.relay_interim());
    let exchange = async {
        let mut proc = pin!(request::process(&cx, head, body));
        let mut demand = demand;
        let reply = loop {
            tokio::select! {
                biased;
                b = interim::next(&mut interim_rx) => {
                    let _ = wr.write_all(&b).await;
                }
                r = &mut proc => break r,
                d = async {
                    match demand.as_mut() {
                        Some(d) => d.await,
                        None => std::future::pending().await,
                    }
                }, if demand.is_some() => {
                    demand = None;
                    // Fired only by a built-in service reading the body
                    // (HAProxy's applets answer the expectation).
                    if d.is_ok() && expect {
                        let _ = wr.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
                    }
                }
            }
        };
        for b in interim::rest(&mut interim_rx) {
            let _ = wr.write_all(&b).await;
        }
        let mut reply = reply;
        let upgrade = reply.upgrade.take();
        let stopping = shared.shutdown.is_stopping();
        let (w, reply_close, end, lease) = write_reply(
            wr,
            reply,
            is_head,
            client_version,
            client_keep_alive,
            stopping,
            t_client,
        )
        .await;
        (w, reply_close, end, lease, upgrade)
    };
    // A request without a body has nothing to pump: its future is never
    // built (it would be 600 more bytes of the request's state to touch).
    let out = {
        let mut ex = pin!(exchange);
        if pump.is_done() {
            ex.await
        } else {
            let mut pu = pin!(pump.run(reader, t_client));
            let mut pumped = false;
            let mut out = loop {
                tokio::select! {
                    r = ex.as_mut() => break r,
                    _ = &mut pu, if !pumped => pumped = true,
                }
            };
            if !pumped {
                // The server answered before taking the whole body: that
                // connection cannot be reused; closing it ends the body
                // stream, and the pump then stops at once (or the client
                // finishes sending).
                if let Some(l) = out.3.take() {
                    l.finish(false);
                }
                out.2.ended = Some(switchyard_state::clock::now());
                let grace = t_client
                    .unwrap_or(Duration::from_secs(5))
                    .min(Duration::from_secs(5));
                let _ = crate::timing::timeout(grace, &mut pu).await;
            }
            out
        }
    };
    let (mut written, reply_close, end, lease, upgrade) = out;
    if let Some(up) = upgrade.filter(|_| written.complete) {
        // Switching protocols: relay raw bytes until either side ends.
        let idle = lease.as_ref().and_then(|l| l.t_tunnel);
        let kill = lease.as_ref().and_then(|l| l.kill.as_ref());
        let moved = crate::tunnel::relay(reader, wr, up, idle, kill).await;
        written.bytes += moved.to_client;
        if let Some(l) = lease {
            l.finish(false);
        }
        end.finish(shared, written.bytes, req_htx + moved.to_server, moved.term);
        return false;
    }
    if let Some(l) = lease {
        l.finish(written.complete);
    }
    // A stream killed by `shutdown sessions server` or its server going
    // down ends its client connection too, as HAProxy's does.
    let killed = matches!(end.log.term[0], b'K' | b'D' | b'U')
        || matches!(written.term, Some([b'K' | b'D' | b'U', _]));
    if killed {
        end.finish(shared, written.bytes, req_htx + pump.decoded, written.term);
        let _ = wr.shutdown().await;
        return false;
    }
    let mut body_done = pump.is_done();
    // The body is drained even when the client was never told to go on
    // (a final answer to `Expect: 100-continue`): HAProxy waits for it too.
    if !body_done && written.complete && !reply_close {
        body_done = pump.drain(reader, DRAIN_MAX, t_client).await;
    }
    let bin = req_htx + pump.decoded;
    end.finish(shared, written.bytes, bin, written.term);

    let conn_close = fe.cfg.options.conn_mode == switchyard_config::HttpConnMode::Close;
    if reply_close
        || written.must_close
        || !written.complete
        || !client_keep_alive
        || !body_done
        || conn_close
        || shared.shutdown.is_stopping()
    {
        let _ = wr.shutdown().await;
        return false;
    }
    true
}

/// How reading a request head ended.
enum Head {
    Complete(Box<ReqHead>, usize),
    /// Malformed: the caller answers 400 (or 422).
    Bad(HeadError),
    /// The client went away or timed out; already logged or answered.
    Ended,
}

/// Wait (under `timeout http-request`) for the rest of a head that came in
/// pieces.
async fn rest_of_head<R, W>(
    shared: &Shared,
    conn: &ConnInfo,
    reader: &mut Reader<R>,
    wr: &mut W,
    fe: &Settings,
    req_clock: Start,
) -> Head
where
    R: ClientRead,
    W: AsyncWrite + Unpin + Send,
{
    let head_deadline = fe.t_req.map(|t| TokioInstant::from_std(req_clock.at) + t);
    let mut timer = pin!(head_deadline.map(tokio::time::sleep_until));
    loop {
        match fill_or(reader, timer.as_mut(), || false).await {
            Wait::Bytes(Ok(0)) | Wait::Bytes(Err(_)) => {
                if !fe.dontlognull || !reader.buf.is_empty() {
                    early_log(shared, conn, &fe.cfg, req_clock, 400, *b"CR");
                }
                return Head::Ended;
            }
            Wait::Bytes(Ok(_)) => {}
            Wait::Timeout | Wait::Stop => {
                request_timeout(shared, conn, &fe.cfg, wr, req_clock).await;
                return Head::Ended;
            }
        }
        match parse_head(&reader.buf, fe.head_max) {
            Ok(Some((h, n))) => return Head::Complete(h, n),
            Ok(None) => {}
            Err(e) => return Head::Bad(e),
        }
    }
}
