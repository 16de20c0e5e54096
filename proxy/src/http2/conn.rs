//! An HTTP/2 connection: the codec's handshake, then its streams run side
//! by side in the connection's task. `timeout client` closes an idle
//! connection with a GOAWAY (as HAProxy does), a soft stop sends a GOAWAY
//! and lets the streams in flight finish, and a hard stop ends the task
//! (see `conn_task`).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use http::Request;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant as TokioInstant, Sleep};

use crate::conn::{early_log, settings, Settings};
use crate::proxy::Shared;
use crate::request::ConnInfo;
use crate::timing::Start;

/// Streams a client may have open at once: HAProxy's default
/// `tune.h2.max-concurrent-streams`.
const MAX_STREAMS: u32 = 100;

/// Streams of one connection running at once. Above `MAX_STREAMS`: a
/// stream the client reset is no longer open for it but may still be
/// waiting for its server here; a client resetting streams as fast as it
/// opens them must not pile up work without bound.
const MAX_IN_FLIGHT: usize = 2 * MAX_STREAMS as usize;

/// What woke the connection loop.
enum Event {
    /// Boxed: the other events are small.
    Stream(Box<(Request<RecvStream>, SendResponse<Bytes>)>),
    /// The codec is done: `Some` on an error.
    Closed(Option<h2::Error>),
    /// A soft stop began.
    Stop,
    /// `timeout client` passed with no stream open.
    Idle,
}

type StreamTask<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Serve an HTTP/2 connection until it closes.
pub(crate) async fn serve<T>(shared: Arc<Shared>, conn: ConnInfo, io: T, accepted: Start)
where
    T: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut fe_cache = None;
    let Some(fe) = settings(&shared, &conn, &mut fe_cache) else {
        return;
    };
    let t_client = fe.t_client;
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(u32::try_from(fe.head_max).unwrap_or(u32::MAX));
    let handshake = builder.handshake::<T, Bytes>(io);
    let done = match t_client {
        Some(t) => tokio::time::timeout(t, handshake).await.ok(),
        None => Some(handshake.await),
    };
    let mut h2c = match done {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            protocol_error(&shared, &conn, &fe, accepted, &e);
            return;
        }
        None => return,
    };
    drop(fe);

    let mut streams: FuturesUnordered<StreamTask<'_>> = FuturesUnordered::new();
    let idle_after =
        |t: std::time::Duration| Box::pin(tokio::time::sleep_until(TokioInstant::now() + t));
    let mut idle: Option<Pin<Box<Sleep>>> = t_client.map(idle_after);
    let mut going_away = false;
    let mut served = false;
    let closed = loop {
        let event = poll_fn(|cx| {
            // Streams first: what they queue is written by the codec below.
            let mut finished = false;
            while let Poll::Ready(Some(())) = streams.poll_next_unpin(cx) {
                finished = true;
            }
            if finished && streams.is_empty() {
                if let (Some(timer), Some(t)) = (idle.as_mut(), t_client) {
                    timer.as_mut().reset(TokioInstant::now() + t);
                }
            }
            if streams.len() < MAX_IN_FLIGHT {
                match h2c.poll_accept(cx) {
                    Poll::Ready(Some(Ok(s))) => return Poll::Ready(Event::Stream(Box::new(s))),
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Event::Closed(Some(e))),
                    Poll::Ready(None) => return Poll::Ready(Event::Closed(None)),
                    Poll::Pending => {}
                }
            } else {
                // Enough running: the codec is driven (our streams' frames
                // go out) but new streams wait in it, where its own limits
                // on pending and reset streams apply.
                match h2c.poll_closed(cx) {
                    Poll::Ready(Ok(())) => return Poll::Ready(Event::Closed(None)),
                    Poll::Ready(Err(e)) => return Poll::Ready(Event::Closed(Some(e))),
                    Poll::Pending => {}
                }
            }
            if !going_away && shared.shutdown.is_stopping() {
                return Poll::Ready(Event::Stop);
            }
            if streams.is_empty() {
                if let Some(timer) = idle.as_mut() {
                    if timer.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Event::Idle);
                    }
                }
            }
            Poll::Pending
        })
        .await;
        match event {
            Event::Stream(s) => {
                let (req, tx) = *s;
                // The frontend's settings as of this request (a reload may
                // have changed them).
                let Some(fe) = settings(&shared, &conn, &mut fe_cache) else {
                    h2c.abrupt_shutdown(Reason::NO_ERROR);
                    continue;
                };
                served = true;
                streams.push(Box::pin(super::stream::run(&shared, &conn, fe, req, tx)));
            }
            Event::Closed(e) => break e,
            Event::Stop => {
                going_away = true;
                h2c.graceful_shutdown();
            }
            Event::Idle => {
                idle = None;
                going_away = true;
                h2c.abrupt_shutdown(Reason::NO_ERROR);
            }
        }
    };
    if let Some(e) = closed {
        if !served {
            if let Some(fe) = settings(&shared, &conn, &mut fe_cache) {
                protocol_error(&shared, &conn, &fe, accepted, &e);
            }
        }
    }
    // Streams still running end on their own (their writes fail at once).
    while streams.next().await.is_some() {}
}

/// HAProxy logs a connection it closed on a protocol error before any
/// request as a `<BADREQ>` with status 0 and `PR--`; a client that merely
/// went away is not logged.
fn protocol_error(shared: &Shared, conn: &ConnInfo, fe: &Settings, accepted: Start, e: &h2::Error) {
    let ours = !e.is_remote() && !e.is_io() && e.reason().is_some_and(|r| r != Reason::NO_ERROR);
    if ours {
        early_log(shared, conn, &fe.cfg, accepted, 0, *b"PR");
    }
}

/// A stream whose head cannot be turned into a request: HAProxy's 400
/// page on it, logged as a bad request.
pub(super) async fn bad_stream(
    shared: &Shared,
    conn: &ConnInfo,
    fe: &Settings,
    tx: &mut SendResponse<Bytes>,
    start: Start,
) {
    let page = crate::pages::htx_page(400);
    let _ = super::respond::send_page(tx, &page, false, fe.t_client).await;
    crate::conn::count_bad_request(shared, conn, 400);
    early_log(shared, conn, &fe.cfg, start, 400, *b"PR");
}
