//! Serving one client connection: read request heads (with the request and
//! keep-alive timeouts), run each request, write its response, and keep the
//! connection alive as HTTP/1.1 allows. Generic over the I/O halves so TLS
//! can slot in later.

mod early;
mod respond;

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Buf;
use http::Method;
use switchyard_state::{ProxyIdx, Snapshot};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant as TokioInstant;

use crate::h1::{htx_head_size, parse_head, BodyPump, ClientRead, HeadError, Reader};
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

/// Serve a connection until it closes.
pub(crate) async fn serve<R, W>(
    shared: Arc<Shared>,
    conn: ConnInfo,
    rd: R,
    mut wr: W,
    accepted: Start,
) where
    R: ClientRead,
    W: AsyncWrite + Unpin + Send,
{
    let mut reader = Reader::new(rd);
    let mut first = true;
    let mut fe_cache = None;
    let mut stop = shared.shutdown.subscribe();
    loop {
        // Settings of the frontend for this request (a reload may change them).
        let (fe_idx, t_req, t_ka, t_client, head_max, dontlognull, fe_cfg) = {
            let snap = shared.store.load();
            let Some(idx) = frontend_idx(&snap, &conn.frontend, &mut fe_cache) else {
                return;
            };
            let Some(fe) = snap.proxy(idx) else { return };
            let to = fe.cfg.timeouts;
            let t_req = to.http_request.or(to.client);
            let t_ka = to.http_keep_alive.or(to.http_request).or(to.client);
            let bufsize = snap.config.global.bufsize;
            let head_max = bufsize.saturating_sub(1024).max(1024);
            (
                idx,
                t_req,
                t_ka,
                to.client,
                head_max,
                fe.cfg.options.dontlognull,
                fe.cfg.clone(),
            )
        };

        // ---- wait for the first byte of a request
        if reader.buf.is_empty() {
            reader.release();
            let idle_deadline = if first {
                t_req.map(|t| TokioInstant::from_std(accepted.at) + t)
            } else {
                t_ka.map(|t| TokioInstant::now() + t)
            };
            if shared.shutdown.is_stopping() && !first {
                return;
            }
            // (No await in a branch: the select's futures would stay in
            // every idle connection's state beside it.)
            let mut watch_stop = true;
            let got = loop {
                let step = tokio::select! {
                    r = reader.fill() => Some(Some(r)),
                    _ = sleep_opt(idle_deadline) => Some(None),
                    _ = stop.changed(), if watch_stop => None,
                };
                match step {
                    Some(got) => break got,
                    // Soft stop: idle keep-alive connections just close;
                    // a brand new connection still gets its request served.
                    None if !first => return,
                    None => watch_stop = false,
                }
            };
            match got {
                Some(Ok(0)) | Some(Err(_)) => {
                    if first && !dontlognull {
                        early_log(&shared, &conn, &fe_cfg, accepted, 400, *b"CR");
                    }
                    return;
                }
                Some(Ok(_)) => {}
                None => {
                    if first {
                        request_timeout(&shared, &conn, &fe_cfg, &mut wr, accepted).await;
                    }
                    return;
                }
            }
        }
        // The request starts with its first byte (`%tr`, `TR` and `Ta` count
        // from there); the first request's `timeout http-request` counts
        // from the accept.
        let start = Start::now();
        let req_clock = if first { accepted } else { start };

        // ---- read the rest of the head
        let head_deadline = t_req.map(|t| TokioInstant::from_std(req_clock.at) + t);
        let (head, head_len) = loop {
            match parse_head(&reader.buf, head_max) {
                Ok(Some(h)) => break h,
                Ok(None) => {}
                Err(HeadError::Invalid) | Err(HeadError::TooLarge) => {
                    bad_request(&shared, &conn, &fe_cfg, &mut wr, start).await;
                    return;
                }
            }
            let r = tokio::select! {
                r = reader.fill() => Some(r),
                _ = sleep_opt(head_deadline) => None,
            };
            match r {
                Some(Ok(0)) | Some(Err(_)) => {
                    if !dontlognull || !reader.buf.is_empty() {
                        early_log(&shared, &conn, &fe_cfg, req_clock, 400, *b"CR");
                    }
                    return;
                }
                Some(Ok(_)) => {}
                None => {
                    request_timeout(&shared, &conn, &fe_cfg, &mut wr, req_clock).await;
                    return;
                }
            }
        };
        let head_done = Instant::now();
        reader.buf.advance(head_len);
        first = false;

        // ---- run the request. Its ~17 KB state is boxed so that an idle
        // connection's task stays small, and written straight into the box
        // (not moved through the stack, a copy per request). Awaited in a
        // separate statement: a temporary of the awaited expression would
        // stay in this task's state.
        let txn = Box::write(
            Box::new_uninit(),
            exchange(
                &shared,
                &conn,
                &mut reader,
                &mut wr,
                Txn {
                    head,
                    fe_idx,
                    start,
                    head_done,
                    t_client,
                    fe_cfg,
                },
            ),
        );
        let txn = Box::into_pin(txn);
        let go_on = txn.await;
        if !go_on {
            return;
        }
    }
}

/// What one request needs from its connection loop.
struct Txn {
    head: crate::h1::ReqHead,
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
        let mut proc = pin!(request::process(cx, head, body));
        let mut demand = Some(demand);
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
    let out = {
        let mut ex = pin!(exchange);
        let mut pu = pin!(pump.run(reader, t_client));
        let mut pumped = false;
        let mut out = loop {
            tokio::select! {
                r = &mut ex => break r,
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

async fn sleep_opt(deadline: Option<TokioInstant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
