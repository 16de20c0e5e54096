//! Serving one client connection: read request heads (with the request and
//! keep-alive timeouts), run each request, write its response, and keep the
//! connection alive as HTTP/1.1 allows. Generic over the I/O halves so TLS
//! can slot in later.

mod early;
mod respond;
mod txn;

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use switchyard_state::{ProxyIdx, Snapshot};
use tokio::io::AsyncWrite;
use tokio::time::{Instant as TokioInstant, Sleep};

use crate::h1::{ClientRead, Reader};
use crate::http2::{self, Preface};
use crate::proxy::Shared;
use crate::request::ConnInfo;
use crate::timing::Start;
use early::request_timeout;
pub(crate) use early::{count_bad_request, early_log};

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
                    t_ka.map(crate::timing::deadline)
                };
                // A soft stop closes an idle keep-alive connection (its task
                // is woken by the stop, see `conn_task`); a brand new
                // connection still gets its request served.
                let mut timer = pin!(idle_deadline.map(tokio::time::sleep_until));
                let stopping = || !first && shared.shutdown.is_stopping();
                let got = fill_or(&mut reader, timer.as_mut(), stopping).await;
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
                // An HTTP/2 preface as the first bytes: the connection
                // speaks HTTP/2 from here on (prior knowledge).
                if first
                    && conn.h2_preface
                    && http2::preface(&reader.buf) != Preface::No
                    && h2_upgrade_allowed(&shared, &conn, &mut fe_cache)
                    && Box::pin(whole_preface(&mut reader, timer)).await
                {
                    let (rd, buf) = reader.into_parts();
                    let io = http2::Prefixed::new(buf, rd, wr);
                    Box::pin(http2::serve(shared, conn, io, accepted)).await;
                    return;
                }
            }
            // Settings of the frontend for this request (a reload may change them).
            let Some(fe) = settings(&shared, &conn, &mut fe_cache) else {
                return;
            };

            // ---- read the rest of the head and run the request. Its ~7 KB
            // state is boxed so that an idle connection's task stays small,
            // and written straight into the box (not moved through the
            // stack, a copy per request). Awaited in a separate statement: a
            // temporary of the awaited expression would stay in this task's
            // state.
            let req_first = first;
            first = false;
            let txn = Box::write(
                Box::new_uninit(),
                txn::request(
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
pub(crate) struct Settings {
    pub(crate) idx: ProxyIdx,
    t_req: Option<Duration>,
    pub(crate) t_client: Option<Duration>,
    pub(crate) head_max: usize,
    dontlognull: bool,
    pub(crate) cfg: Arc<switchyard_config::Proxy>,
}

pub(crate) fn settings(
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

/// Whether the frontend takes an HTTP/2 preface on an HTTP/1 bind (not
/// with `option disable-h2-upgrade`).
fn h2_upgrade_allowed(
    shared: &Shared,
    conn: &ConnInfo,
    fe_cache: &mut Option<(u64, ProxyIdx)>,
) -> bool {
    let snap = shared.store.load();
    frontend_idx(&snap, &conn.frontend, fe_cache)
        .and_then(|i| snap.proxy(i))
        .is_some_and(|p| !p.cfg.options.disable_h2_upgrade)
}

/// Read on while the bytes could still be an HTTP/2 preface (under the
/// first request's timeout); whether the whole preface came. Anything else
/// goes to the HTTP/1 parser, which answers it as HAProxy's H1 mux does.
async fn whole_preface<R: ClientRead>(
    reader: &mut Reader<R>,
    mut timer: Pin<&mut Option<Sleep>>,
) -> bool {
    loop {
        match http2::preface(&reader.buf) {
            Preface::Full => return true,
            Preface::No => return false,
            Preface::Partial => {}
        }
        match fill_or(reader, timer.as_mut(), || false).await {
            Wait::Bytes(Ok(n)) if n > 0 => {}
            _ => return false,
        }
    }
}

/// How a wait for request bytes ended.
enum Wait {
    Bytes(std::io::Result<usize>),
    Timeout,
    Stop,
}
