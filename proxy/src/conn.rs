//! Serving one client connection: read request heads (with the request and
//! keep-alive timeouts), run each request, write its response, and keep the
//! connection alive as HTTP/1.1 allows. Generic over the I/O halves so TLS
//! can slot in later.

use std::pin::pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{Method, Version};
use http_body_util::BodyExt;
use switchyard_config::LogLevel;
use switchyard_state::{ProxyIdx, Snapshot};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant as TokioInstant;

use crate::h1::{
    encode_head, htx_head_size, htx_size_raw, parse_head, write_body_frame, BodyPump, HeadError,
    Reader, RespFraming,
};
use crate::log::{LogRecord, Times};
use crate::pages;
use crate::proxy::Shared;
use crate::request::{self, ConnInfo, Reply, ReqCtx, RespBody};
use crate::timing::Start;

/// The most of an unwanted request body we read to keep a connection.
const DRAIN_MAX: u64 = 64 * 1024;

/// How a response transfer ended.
struct Written {
    bytes: u64,
    /// The whole response reached the client.
    complete: bool,
    /// Termination code when it did not.
    term: Option<[u8; 2]>,
    /// The framing forces a close (close-delimited body).
    must_close: bool,
}

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
    R: AsyncRead + Unpin + Send,
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
            let idle_deadline = if first {
                t_req.map(|t| TokioInstant::from_std(accepted.at) + t)
            } else {
                t_ka.map(|t| TokioInstant::now() + t)
            };
            if *stop.borrow_and_update() != 0 && !first {
                return;
            }
            let got = tokio::select! {
                r = reader.fill() => Some(r),
                _ = sleep_opt(idle_deadline) => None,
                _ = stop.changed() => {
                    // Soft stop: idle keep-alive connections just close.
                    if !first { return; }
                    // A brand new connection still gets its request served.
                    Some(reader.fill().await)
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
            shared: &shared,
            conn: &conn,
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
                &mut wr,
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
            let mut pu = pin!(pump.run(&mut reader, t_client));
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
            let moved = crate::tunnel::relay(&mut reader, &mut wr, up, idle).await;
            written.bytes += moved.to_client;
            if let Some(l) = lease {
                l.finish(false);
            }
            end.finish(&shared, written.bytes, req_htx + moved.to_server, None);
            return;
        }
        if let Some(l) = lease {
            l.finish(written.complete);
        }
        let mut body_done = pump.is_done();
        if !body_done && written.complete && !reply_close && (!expect || sent_continue) {
            body_done = pump.drain(&mut reader, DRAIN_MAX, t_client).await;
        }
        let bin = req_htx + pump.decoded;
        end.finish(&shared, written.bytes, bin, written.term);

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
            return;
        }
    }
}

async fn sleep_opt(deadline: Option<TokioInstant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Log a request that never got a head (`<BADREQ>`).
fn early_log(
    shared: &Shared,
    conn: &ConnInfo,
    fe: &Arc<switchyard_config::Proxy>,
    start: Start,
    status: i32,
    term: [u8; 2],
) {
    let mut log = LogRecord::new(Some(fe.clone()), conn.frontend.clone(), start.date);
    log.client = conn.client;
    log.frontend_addr = conn.local;
    log.tls = conn.tls;
    log.times = Times {
        tr: -1,
        tw: -1,
        tc: -1,
        tresp: -1,
        ta: start.elapsed(),
    };
    log.status = status;
    log.term = [term[0], term[1], b'-', b'-'];
    log.actconn = shared.limits.actconn();
    log.feconn = fe_live(shared, conn).map(|l| l.fe.scur.load(Relaxed)).unwrap_or(0);
    log.level = LogLevel::Info;
    shared.logger.record(log);
}

fn fe_live(shared: &Shared, conn: &ConnInfo) -> Option<Arc<switchyard_state::ProxyLive>> {
    let snap = shared.store.load();
    let idx = snap.proxy_idx(&conn.frontend)?;
    snap.proxy(idx).map(|p| p.live.clone())
}

/// `timeout http-request` expired: HAProxy's 408 page, then close.
async fn request_timeout<W: AsyncWrite + Unpin>(
    shared: &Shared,
    conn: &ConnInfo,
    fe: &Arc<switchyard_config::Proxy>,
    wr: &mut W,
    start: Start,
) {
    let _ = wr.write_all(&pages::early_page(408)).await;
    let _ = wr.shutdown().await;
    if let Some(l) = fe_live(shared, conn) {
        l.fe.ereq.fetch_add(1, Relaxed);
        l.fe.count_status(408);
    }
    early_log(shared, conn, fe, start, 408, *b"cR");
}

/// A malformed request: HAProxy's 400 page, then close.
async fn bad_request<W: AsyncWrite + Unpin>(
    shared: &Shared,
    conn: &ConnInfo,
    fe: &Arc<switchyard_config::Proxy>,
    wr: &mut W,
    start: Start,
) {
    let _ = wr.write_all(&pages::early_page(400)).await;
    let _ = wr.shutdown().await;
    if let Some(l) = fe_live(shared, conn) {
        l.fe.ereq.fetch_add(1, Relaxed);
        l.fe.count_status(400);
    }
    early_log(shared, conn, fe, start, 400, *b"PR");
}

/// Insert `connection: close` at the end of a pre-encoded response head.
fn with_close(raw: &Bytes) -> Bytes {
    match raw.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => {
            let mut v = Vec::with_capacity(raw.len() + 19);
            v.extend_from_slice(&raw[..i + 2]);
            v.extend_from_slice(b"connection: close\r\n");
            v.extend_from_slice(&raw[i + 2..]);
            Bytes::from(v)
        }
        None => raw.clone(),
    }
}

type WriteOut = (
    Written,
    bool,
    request::TxnEnd,
    Option<crate::upstream::Lease>,
);

/// Write a reply to the client and account for it.
async fn write_reply<W: AsyncWrite + Unpin>(
    wr: &mut W,
    reply: Reply,
    is_head: bool,
    client_version: Version,
    client_keep_alive: bool,
    stopping: bool,
    t_client: Option<Duration>,
) -> WriteOut {
    let Reply {
        status,
        reason,
        mut headers,
        body,
        raw,
        close,
        lease,
        htx_head: server_htx,
        upgrade: _,
        end,
    } = reply;
    let closing = close || stopping || !client_keep_alive;
    let mut w = Written {
        bytes: 0,
        complete: true,
        term: None,
        must_close: false,
    };

    if let Some(raw) = raw {
        let raw_htx = raw.clone();
        let bytes = if closing && client_version == Version::HTTP_11 {
            with_close(&raw)
        } else {
            raw
        };
        let htx = htx_size_raw(&raw_htx);
        match timed(t_client, wr.write_all(&bytes)).await {
            Ok(()) => w.bytes = htx,
            Err(t) => {
                w.complete = false;
                w.term = Some(t);
            }
        }
        let _ = wr.flush().await;
        return (w, closing, end, lease);
    }
    if status == 0 {
        // No response at all (the client is gone).
        w.complete = false;
        return (w, true, end, lease);
    }

    // Framing.
    let no_body_status = (100..200).contains(&status) || status == 204;
    if no_body_status {
        headers.remove(CONTENT_LENGTH);
    }
    let mut add_te = false;
    let framing = if no_body_status || is_head || status == 304 {
        RespFraming::NoBody
    } else {
        match &body {
            RespBody::Empty => {
                if !headers.contains_key(CONTENT_LENGTH) {
                    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
                }
                RespFraming::Length
            }
            RespBody::Full(b) => {
                if !headers.contains_key(CONTENT_LENGTH) {
                    headers.insert(CONTENT_LENGTH, HeaderValue::from(b.len()));
                }
                RespFraming::Length
            }
            RespBody::Upstream(_) => {
                if headers.contains_key(CONTENT_LENGTH) {
                    RespFraming::Length
                } else if headers.contains_key(TRANSFER_ENCODING) {
                    // A service asked for chunked itself.
                    RespFraming::Chunked
                } else if client_version == Version::HTTP_11 {
                    add_te = true;
                    RespFraming::Chunked
                } else {
                    RespFraming::Close
                }
            }
        }
    };
    let closing = status != 101 && (closing || framing == RespFraming::Close);
    // What HAProxy counts (`%B`, bytes out) is the message as its HTX holds
    // it: the framing headers the H1 layer adds are not part of it.
    let htx_head = server_htx.unwrap_or_else(|| htx_head_size(["HTTP/1.1", &status.to_string(), &reason], &headers));
    if add_te {
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
    }
    if status == 101 {
        // The server's `connection: upgrade` stays as it is.
    } else if closing {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    } else if client_version == Version::HTTP_10 {
        headers.insert(CONNECTION, HeaderValue::from_static("keep-alive"));
    }
    let mut head = Vec::with_capacity(256);
    encode_head(&mut head, status, &reason, &headers);
    if let Err(t) = timed(t_client, wr.write_all(&head)).await {
        w.complete = false;
        w.term = Some(t);
        return (w, true, end, lease);
    }
    w.bytes += htx_head;

    match body {
        RespBody::Empty => {}
        RespBody::Full(b) => {
            if framing != RespFraming::NoBody {
                match timed(t_client, write_body_frame(wr, framing, &b)).await {
                    Ok(_) => w.bytes += b.len() as u64,
                    Err(t) => {
                        w.complete = false;
                        w.term = Some(t);
                    }
                }
            }
        }
        RespBody::Upstream(mut inc) => {
            let t_server = lease.as_ref().and_then(|l| l.t_server);
            loop {
                let frame = match t_server {
                    Some(t) => match tokio::time::timeout(t, inc.frame()).await {
                        Ok(f) => f,
                        Err(_) => {
                            w.complete = false;
                            w.term = Some(*b"sD");
                            break;
                        }
                    },
                    None => inc.frame().await,
                };
                match frame {
                    None => {
                        if framing == RespFraming::Chunked {
                            match timed(t_client, wr.write_all(b"0\r\n\r\n")).await {
                                Ok(()) => {}
                                Err(t) => {
                                    w.complete = false;
                                    w.term = Some(t);
                                }
                            }
                        }
                        break;
                    }
                    Some(Err(_)) => {
                        w.complete = false;
                        w.term = Some(*b"SD");
                        break;
                    }
                    Some(Ok(f)) => {
                        let Ok(data) = f.into_data() else { continue };
                        match timed(t_client, write_body_frame(wr, framing, &data)).await {
                            Ok(_) => w.bytes += data.len() as u64,
                            Err(t) => {
                                w.complete = false;
                                w.term = Some(t);
                                break;
                            }
                        }
                    }
                }
            }
        }
    }
    if w.complete && wr.flush().await.is_err() {
        w.complete = false;
        w.term = Some(*b"CD");
    }
    w.must_close = framing == RespFraming::Close;
    let close = closing || !w.complete;
    (w, close, end, lease)
}

/// Run a client write with `timeout client`; on failure the termination
/// code (`cD` timeout, `CD` client gone).
async fn timed<T, E>(
    t: Option<Duration>,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, [u8; 2]> {
    match t {
        Some(d) => match tokio::time::timeout(d, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_)) => Err(*b"CD"),
            Err(_) => Err(*b"cD"),
        },
        None => f.await.map_err(|_| *b"CD"),
    }
}
