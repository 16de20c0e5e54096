//! Serving one client connection: read request heads (with the request and
//! keep-alive timeouts), run each request, write its response, and keep the
//! connection alive as HTTP/1.1 allows. Generic over the I/O halves so TLS
//! can slot in later.

mod early;
mod respond;

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Buf;
use http::Method;
use switchyard_state::{ProxyIdx, Snapshot};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant as TokioInstant, Sleep};

use crate::h1::{
    chunked_prefix_invalid, htx_head_size, parse_head, BodyPump, ClientRead, Framing, HeadError,
    Reader,
};
use crate::proxy::Shared;
use crate::request::{self, ConnInfo, ReqCtx};
use crate::timing::Start;
use early::{bad_request, early_log, request_timeout};
use respond::write_reply;

/// The most of an unwanted request body we read to keep a connection.
const DRAIN_MAX: u64 = 64 * 1024;

fn frontend_idx(
    snap: &Snapshot,
    name: &str,
    cache: &mut Option<(u64, ProxyIdx)>,
) -> Option<ProxyIdx> {
    if let Some((g, i)) = *cache {
        if g == snap.generation {
            return Some(i);
        }
    }
    let i = snap.proxy_idx(name)?;
    *cache = Some((snap.generation, i));
    Some(i)
}

/// Serve a connection until it closes. An `async` block rather than an
/// `async fn`: an `async fn` moves its arguments into locals and keeps
/// both slots in its state, which every idle connection would pay for.
#[allow(clippy::manual_async_fn)]
pub(crate) fn serve<R, W>(
    shared: Arc<Shared>,
    conn: ConnInfo,
    rd: R,
    mut wr: W,
    accepted: Start,
) -> impl Future<Output = ()> + Send
where
    R: ClientRead,
    W: AsyncWrite + Unpin + Send,
{
    async move {
        let mut reader = Reader::new(rd);
        let mut first = true;
        let mut fe_cache = None;
        loop {
            // ---- wait for the first byte of a request. Nothing of the
            // frontend's settings is held while waiting (they are read
            // again after): an idle connection holds only its timer.
            if reader.buf.is_empty() {
                reader.release();
                let Some((t_req, t_ka)) = idle_timeouts(&shared, &conn, &mut fe_cache) else {
                    return;
                };
                let idle_deadline = if first {
                    t_req.map(|t| TokioInstant::from_std(accepted.at) + t)
                } else {
                    t_ka.map(|t| TokioInstant::now() + t)
                };
                // A soft stop closes an idle keep-alive connection (its task
                // is woken by the stop, see `conn_task`); a brand new
                // connection still gets its request served.
                let timer = pin!(idle_deadline.map(tokio::time::sleep_until));
                let stopping = || !first && shared.shutdown.is_stopping();
                let got = fill_or(&mut reader, timer, stopping).await;
                match got {
                    Wait::Bytes(Ok(_)) if !reader.buf.is_empty() => {}
                    // A first request that never came is logged (or
                    // answered 408); a keep-alive connection just closes.
                    Wait::Bytes(_) if first => {
                        Box::pin(no_request(&shared, &conn, &mut wr, accepted, false)).await;
                        return;
                    }
                    Wait::Timeout if first => {
                        Box::pin(no_request(&shared, &conn, &mut wr, accepted, true)).await;
                        return;
                    }
                    Wait::Bytes(_) | Wait::Timeout => return,
                    Wait::Stop => return,
                }
            }
            // Settings of the frontend for this request (a reload may change them).
            let Some(fe) = settings(&shared, &conn, &mut fe_cache) else {
                return;
            };

            // ---- read the rest of the head and run the request. Its ~17 KB
            // state is boxed so that an idle connection's task stays small,
            // and written straight into the box (not moved through the
            // stack, a copy per request). Awaited in a separate statement: a
            // temporary of the awaited expression would stay in this task's
            // state.
            let req_first = first;
            first = false;
            let txn = Box::write(
                Box::new_uninit(),
                request(
                    &shared,
                    &conn,
                    &mut reader,
                    &mut wr,
                    fe,
                    req_first,
                    accepted,
                ),
            );
            let txn = Box::into_pin(txn);
            let go_on = txn.await;
            if !go_on {
                return;
            }
        }
    }
}

/// A frontend's settings for one request.
struct Settings {
    idx: ProxyIdx,
    t_req: Option<Duration>,
    t_client: Option<Duration>,
    head_max: usize,
    dontlognull: bool,
    cfg: Arc<switchyard_config::Proxy>,
}

fn settings(
    shared: &Shared,
    conn: &ConnInfo,
    fe_cache: &mut Option<(u64, ProxyIdx)>,
) -> Option<Settings> {
    let snap = shared.store.load();
    let idx = frontend_idx(&snap, &conn.frontend, fe_cache)?;
    let fe = snap.proxy(idx)?;
    let to = fe.cfg.timeouts;
    let bufsize = snap.config.global.bufsize;
    Some(Settings {
        idx,
        t_req: http_request_timeout(&to),
        t_client: to.client,
        head_max: bufsize.saturating_sub(1024).max(1024),
        dontlognull: fe.cfg.options.dontlognull,
        cfg: fe.cfg.clone(),
    })
}

/// A connection closed, or timed out, before its first request: logged as
/// `CR` (unless `dontlognull`), or answered 408 on the timeout.
async fn no_request<W: AsyncWrite + Unpin + Send>(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    wr: &mut W,
    accepted: Start,
    timed_out: bool,
) {
    let Some(fe) = settings(shared, conn, &mut None) else {
        return;
    };
    if timed_out {
        request_timeout(shared, conn, &fe.cfg, wr, accepted).await;
    } else if !fe.dontlognull {
        early_log(shared, conn, &fe.cfg, accepted, 400, *b"CR");
    }
}

/// The frontend's `timeout http-request` and `http-keep-alive`, as they
/// apply to waiting for a request.
fn idle_timeouts(
    shared: &Shared,
    conn: &ConnInfo,
    fe_cache: &mut Option<(u64, ProxyIdx)>,
) -> Option<(Option<Duration>, Option<Duration>)> {
    let snap = shared.store.load();
    let fe = snap.proxy(frontend_idx(&snap, &conn.frontend, fe_cache)?)?;
    let to = fe.cfg.timeouts;
    let t_req = http_request_timeout(&to);
    Some((t_req, to.http_keep_alive.or(t_req)))
}

/// `timeout http-request`, which falls back to `timeout client`.
fn http_request_timeout(to: &switchyard_config::Timeouts) -> Option<Duration> {
    to.http_request.or(to.client)
}

/// Read the rest of a request head (its first bytes are in `reader`), run
/// the request and write its response; whether the connection may carry
/// another request.
async fn request<R, W>(
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

    let head_deadline = fe.t_req.map(|t| TokioInstant::from_std(req_clock.at) + t);
    let mut timer = pin!(head_deadline.map(tokio::time::sleep_until));
    let (head, head_len) = loop {
        match parse_head(&reader.buf, fe.head_max) {
            Ok(Some(h)) => break h,
            Ok(None) => {}
            Err(e) => {
                let status = if e == HeadError::Unprocessable {
                    422
                } else {
                    400
                };
                bad_request(shared, conn, &fe.cfg, wr, start, status).await;
                return false;
            }
        }
        match fill_or(reader, timer.as_mut(), || false).await {
            Wait::Bytes(Ok(0)) | Wait::Bytes(Err(_)) => {
                if !fe.dontlognull || !reader.buf.is_empty() {
                    early_log(shared, conn, &fe.cfg, req_clock, 400, *b"CR");
                }
                return false;
            }
            Wait::Bytes(Ok(_)) => {}
            Wait::Timeout | Wait::Stop => {
                request_timeout(shared, conn, &fe.cfg, wr, req_clock).await;
                return false;
            }
        }
    };
    let head_done = Instant::now();
    reader.buf.advance(head_len);
    if head.framing == Framing::Chunked && chunked_prefix_invalid(&reader.buf) {
        bad_request(shared, conn, &fe.cfg, wr, start, 400).await;
        return false;
    }
    exchange(
        shared,
        conn,
        reader,
        wr,
        Txn {
            head,
            fe_idx: fe.idx,
            start,
            head_done,
            t_client: fe.t_client,
            fe_cfg: fe.cfg,
        },
    )
    .await
}

/// Read more of a request into `reader`, unless `timer` fires first or
/// `stop()` says to give up. Polled by hand rather than a select over
/// futures: waiting holds only the timer, which every idle keep-alive
/// connection pays for.
fn fill_or<'a, R: ClientRead>(
    reader: &'a mut Reader<R>,
    mut timer: Pin<&'a mut Option<Sleep>>,
    stop: impl Fn() -> bool + 'a,
) -> impl Future<Output = Wait> + 'a {
    poll_fn(move |cx| {
        if let Poll::Ready(r) = reader.poll_fill(cx) {
            return Poll::Ready(Wait::Bytes(r));
        }
        if stop() {
            return Poll::Ready(Wait::Stop);
        }
        match timer.as_mut().as_pin_mut().map(|t| t.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Wait::Timeout),
            _ => Poll::Pending,
        }
    })
}

/// What one request needs from its connection loop.
struct Txn {
    /// Boxed: it is handed down through every layer of the request, and
    /// a 256-byte move at each would write cold lines of the request future.
    head: Box<crate::h1::ReqHead>,
    fe_idx: ProxyIdx,
    start: Start,
    head_done: Instant,
    t_client: Option<Duration>,
    fe_cfg: Arc<switchyard_config::Proxy>,
}

/// Run one request and write its response; whether the connection may
/// carry another request.
async fn exchange<R, W>(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    reader: &mut Reader<R>,
    wr: &mut W,
    txn: Txn,
) -> bool
where
    R: ClientRead,
    W: AsyncWrite + Unpin + Send,
{
    let Txn {
        head,
        fe_idx,
        start,
        head_done,
        t_client,
        fe_cfg,
    } = txn;
    // ---- run the request, streaming its body concurrently
    let client_version = head.version;
    let client_keep_alive = head.keep_alive;
    let is_head = head.method == Method::HEAD;
    let expect = head.expect_continue;
    let req_htx = htx_head_size(
        [head.method.as_str(), &head.target, "HTTP/1.1"],
        &head.headers,
    );
    let (mut pump, body, demand) = BodyPump::new(head.framing);
    let snap = shared.store.load_full();
    let actconn = shared.limits.actconn();
    let cx = ReqCtx {
        shared,
        conn,
        snap,
        fe_idx,
        start,
        head_done,
        actconn,
    };
    let exchange = async {
        let mut sent_continue = false;
        let mut proc = pin!(request::process(&cx, head, body));
        let mut demand = demand;
        let reply = loop {
            tokio::select! {
                r = &mut proc => break r,
                d = async {
                    match demand.as_mut() {
                        Some(d) => d.await,
                        None => std::future::pending().await,
                    }
                }, if demand.is_some() => {
                    demand = None;
                    if d.is_ok() && expect {
                        sent_continue = wr.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.is_ok();
                    }
                }
            }
        };
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
        (w, reply_close, end, lease, sent_continue, upgrade)
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
                let grace = t_client
                    .unwrap_or(Duration::from_secs(5))
                    .min(Duration::from_secs(5));
                let _ = tokio::time::timeout(grace, &mut pu).await;
            }
            out
        }
    };
    let (mut written, reply_close, end, lease, sent_continue, upgrade) = out;
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
    if !body_done && written.complete && !reply_close && (!expect || sent_continue) {
        body_done = pump.drain(reader, DRAIN_MAX, t_client).await;
    }
    let bin = req_htx + pump.decoded;
    end.finish(shared, written.bytes, bin, written.term);

    let conn_close = fe_cfg.options.conn_mode == switchyard_config::HttpConnMode::Close;
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

/// How a wait for request bytes ended.
enum Wait {
    Bytes(std::io::Result<usize>),
    Timeout,
    Stop,
}
