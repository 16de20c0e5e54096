//! Forwarding a request to its backend: server assignment (persistence or
//! balancing), queueing, connection attempts with `retries` and `option
//! redispatch`, L7 retries (`retry-on`), and the response head. Counters
//! follow HAProxy's `assign_server_and_queue`, `back_handle_st_cer` and
//! `do_l7_retry`.

use std::borrow::Cow;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{CONNECTION, EXPECT};
use http::{HeaderMap, Method, Request, Uri, Version};
use hyper::body::Incoming;
use switchyard_config::{Balance, HttpConnMode, HttpReuse, RetryOn};
use switchyard_state::{now_ms, BackendRt, OpState, ProxyRt, ServerIdx, ServerLive, ServerRt};

use crate::balance::{self, LbInput, PickError};
use crate::cookie;
use crate::error::Cause;
use crate::forward;
use crate::h1::{BodyError, ReqBody, ReqHead};
use crate::queue::{self, QueueError, QueueKind, ServerSlot, SlotOwner};
use crate::request::{count_status, Reply, ReqCtx, RespBody, TxnEnd};
use crate::rules::{self, Origin, Switches};
use crate::upstream::{connect, ConnectError, Lease, Sender};

/// The result of forwarding.
pub(crate) enum Forwarded {
    Response {
        reply: Box<Reply>,
    },
    Failed {
        cause: Cause,
        body_unread: bool,
        end: Box<TxnEnd>,
    },
}

/// The request as sent upstream, kept so attempts can rebuild it.
struct Outgoing {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
}

impl Outgoing {
    fn build(&self, body: ReqBody) -> Request<ReqBody> {
        let mut r = Request::new(body);
        *r.method_mut() = self.method.clone();
        *r.uri_mut() = self.uri.clone();
        *r.version_mut() = self.version;
        *r.headers_mut() = self.headers.clone();
        r
    }
}

/// What one exchange attempt produced.
enum Attempt {
    Ok(http::Response<Incoming>, Sender),
    /// Nothing was sent: the request (and its body) come back.
    NotSent(ReqBody),
    Failed(Cause),
}

fn bump(c: &std::sync::atomic::AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// Forward the request to backend `be` and wait for the response head.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn forward(
    cx: &ReqCtx<'_>,
    fe: &Arc<ProxyRt>,
    be: &Arc<ProxyRt>,
    head: ReqHead,
    body: ReqBody,
    origin: &Origin,
    mut end: TxnEnd,
    mut sw: Switches,
) -> Forwarded {
    let Some(backend) = be.backend.as_ref() else {
        return Forwarded::Failed {
            cause: Cause::NoServer,
            body_unread: true,
            end: Box::new(end),
        };
    };
    let Some(bcfg) = be.cfg.backend.as_ref() else {
        return Forwarded::Failed {
            cause: Cause::NoServer,
            body_unread: true,
            end: Box::new(end),
        };
    };
    let mut head = head;
    let body_unread = !matches!(body, ReqBody::Empty);

    // Persistence cookie.
    let mut direct: Option<ServerIdx> = None;
    if let Some(ck) = &bcfg.cookie {
        let c = cookie::on_request(ck, backend, &mut head.headers, be.cfg.options.persist);
        end.log.term[2] = c.flag;
        direct = c.server;
    }

    // Headers for the server.
    let mut headers = std::mem::take(&mut head.headers);
    let upgrade = forward::upgrade_request(&headers, &head.method, head.version);
    forward::strip_hop_by_hop(&mut headers);
    if let Some(u) = upgrade {
        // A protocol upgrade (WebSocket) keeps its two hop-by-hop headers.
        headers.insert(CONNECTION, http::HeaderValue::from_static("upgrade"));
        headers.insert(http::header::UPGRADE, u);
    }
    headers.remove(EXPECT);
    forward::forwarded_for(&mut headers, &fe.cfg, &be.cfg, cx.conn.src_ip());
    let uri = head
        .uri
        .path_and_query()
        .and_then(|pq| pq.as_str().parse::<Uri>().ok())
        .unwrap_or_else(|| head.uri.clone());
    let out = Outgoing {
        method: head.method.clone(),
        uri,
        version: head.version,
        headers,
    };
    // From here on the balancer's view of the headers is what goes out.
    head.headers = HeaderMap::new();

    // L7 retries need the whole request in hand (HAProxy: received and
    // within tune.bufsize); otherwise they are silently off.
    let retry_on = bcfg.retry_on;
    let mut body = Some(body);
    let mut l7 = retry_on.any_l7() && !sw.no_l7_retry;
    if l7 {
        let b = body.take().unwrap_or(ReqBody::Empty);
        match b.buffer_up_to(cx.snap.config.global.bufsize).await {
            Ok(b) => {
                l7 = b.replay().is_some();
                body = Some(b);
            }
            Err(_) => {
                return client_aborted(fe, be, end);
            }
        }
    }

    let timeouts = be.cfg.timeouts;
    let t_connect = timeouts.connect;
    let t_queue = timeouts.queue.or(timeouts.connect);
    let t_server = timeouts.server;
    let max_retries = bcfg.retries;
    let mut retries: u32 = 0;
    let mut target: Option<ServerIdx> = direct;
    let mut prev: Option<ServerIdx> = None;
    let mut queued_ms: i64 = 0;
    let mut first_connect: Option<Instant> = None;
    let reuse =
        bcfg.http_reuse != HttpReuse::Never && be.cfg.options.conn_mode == HttpConnMode::KeepAlive;
    let owner = |live: &Arc<ServerLive>| SlotOwner {
        store: cx.shared.store.clone(),
        be_live: be.live.clone(),
        be_name: be.name.clone(),
        srv_name: backend
            .servers
            .iter()
            .find(|s| Arc::ptr_eq(&s.live, live))
            .map(|s| s.name.clone())
            .unwrap_or_else(|| Arc::from("")),
    };
    let mut hard = Box::pin(cx.shared.shutdown.hard_requested());

    loop {
        // ---- assign a server and get a slot on it
        let t_assign = Instant::now();
        let assigned = assign(
            be,
            backend,
            &head,
            &out.headers,
            origin,
            &mut target,
            &mut direct,
            prev,
            &mut end,
            &owner,
            t_queue,
        )
        .await;
        queued_ms += t_assign.elapsed().as_millis() as i64;
        end.log.times.tw = queued_ms;
        let (idx, slot) = match assigned {
            Ok(x) => x,
            Err(cause) => {
                // Only a request that waited in a queue has a queue time.
                if cause != Cause::QueueTimeout && retries == 0 {
                    end.log.times.tw = -1;
                }
                return Forwarded::Failed {
                    cause,
                    body_unread,
                    end: Box::new(end),
                };
            }
        };
        prev = None;
        let Some(srv) = backend.servers.get(idx.get()) else {
            return Forwarded::Failed {
                cause: Cause::NoServer,
                body_unread,
                end: Box::new(end),
            };
        };
        end.log.server = srv.name.clone();
        end.srv_live = Some(srv.live.clone());
        let Some(mut addr) = srv.addr else {
            return Forwarded::Failed {
                cause: Cause::NoServer,
                body_unread,
                end: Box::new(end),
            };
        };
        if addr.port() == 0 {
            addr.set_port(cx.conn.dst_port());
        }

        // ---- connect (or reuse an idle connection)
        let t0 = Instant::now();
        first_connect.get_or_insert(t0);
        let pooled = if reuse {
            queue::server_ext(&srv.live).and_then(|e| e.pool.take(addr, &srv.live))
        } else {
            None
        };
        let mut reused = false;
        let sender = match pooled {
            Some(mut s) => match tokio::time::timeout(Duration::from_secs(1), s.ready()).await {
                Ok(Ok(())) => {
                    reused = true;
                    Ok(s)
                }
                _ => connect(addr, t_connect).await,
            },
            None => {
                tokio::select! {
                    r = connect(addr, t_connect) => r,
                    _ = &mut hard => return Forwarded::Failed { cause: Cause::Killed, body_unread, end: Box::new(end) },
                }
            }
        };
        let sender = match sender {
            Ok(s) => {
                if !reused {
                    bump(&srv.live.counters.connect);
                    bump(&be.live.be.connect);
                } else {
                    bump(&srv.live.counters.reuse);
                    bump(&be.live.be.reuse);
                }
                s
            }
            Err(e) => {
                drop(slot);
                let cause = match e {
                    ConnectError::Timeout => Cause::ConnectTimeout,
                    ConnectError::Failed => Cause::ConnectFailed,
                };
                if retries >= max_retries || !retry_on.has(RetryOn::CONN_FAILURE) {
                    bump(&srv.live.counters.econ);
                    bump(&be.live.be.econ);
                    end.log.retries = retries;
                    return Forwarded::Failed {
                        cause,
                        body_unread,
                        end: Box::new(end),
                    };
                }
                retries += 1;
                end.log.retries = retries;
                let redisp =
                    choose_redispatch(be, backend, srv, retries, max_retries, direct.is_some());
                if redisp {
                    prev = Some(idx);
                    target = None;
                    direct = None;
                } else {
                    bump(&srv.live.counters.wretr);
                    bump(&be.live.be.wretr);
                    target = Some(idx);
                }
                let rr_many =
                    balance::is_rr_kind(&bcfg.balance) && balance::active_count(backend) > 1;
                if (!redisp || !rr_many) && !reused {
                    let delay = t_connect
                        .map(|c| c.min(Duration::from_secs(1)))
                        .unwrap_or(Duration::from_secs(1));
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = &mut hard => return Forwarded::Failed { cause: Cause::Killed, body_unread, end: Box::new(end) },
                    }
                }
                continue;
            }
        };
        let connected = Instant::now();
        end.log.times.tc = queued_ms
            + first_connect
                .map(|f| connected.duration_since(f).as_millis() as i64)
                .unwrap_or(0);
        let _ = t0;

        // ---- send the request and wait for the response head
        let this_body = match body.as_ref().and_then(ReqBody::replay) {
            Some(b) => b,
            None => body.take().unwrap_or(ReqBody::Empty),
        };
        let attempt = tokio::select! {
            a = exchange(sender, out.build(this_body), t_server) => a,
            _ = &mut hard => Attempt::Failed(Cause::Killed),
        };
        let after = Instant::now();
        match attempt {
            Attempt::NotSent(b) if reused => {
                // A pooled connection the server had closed: try again on a
                // fresh one, without counting a retry.
                if body.is_none() {
                    body = Some(b);
                }
                target = Some(idx);
                drop(slot);
                continue;
            }
            Attempt::NotSent(_) => {
                drop(slot);
                bump(&srv.live.counters.eresp);
                bump(&be.live.be.eresp);
                return Forwarded::Failed {
                    cause: Cause::UpstreamClosed,
                    body_unread,
                    end: Box::new(end),
                };
            }
            Attempt::Failed(cause) => {
                if cause == Cause::ClientAborted {
                    drop(slot);
                    return client_aborted(fe, be, end);
                }
                if cause == Cause::ClientTimeout {
                    drop(slot);
                    bump(&fe.live.fe.cli_abrt);
                    bump(&be.live.be.cli_abrt);
                    return Forwarded::Failed {
                        cause,
                        body_unread: true,
                        end: Box::new(end),
                    };
                }
                let bit = match cause {
                    Cause::UpstreamTimeout => RetryOn::RESPONSE_TIMEOUT,
                    Cause::UpstreamInvalid => RetryOn::JUNK_RESPONSE,
                    _ => RetryOn::EMPTY_RESPONSE,
                };
                let replayable = body.as_ref().map(|b| b.replay().is_some()).unwrap_or(false);
                if cause == Cause::UpstreamClosed && reused && replayable && !l7 {
                    // Lost race with the server closing an idle connection.
                    target = Some(idx);
                    drop(slot);
                    continue;
                }
                if cause != Cause::Killed
                    && l7
                    && retry_on.has(bit)
                    && retries < max_retries
                    && replayable
                {
                    drop(slot);
                    retries += 1;
                    end.log.retries = retries;
                    l7_retry(
                        be,
                        backend,
                        srv,
                        idx,
                        retries,
                        max_retries,
                        &mut target,
                        &mut direct,
                        &mut prev,
                    );
                    continue;
                }
                drop(slot);
                if cause != Cause::Killed {
                    bump(&srv.live.counters.eresp);
                    bump(&be.live.be.eresp);
                    if cause == Cause::UpstreamClosed {
                        bump(&srv.live.counters.srv_abrt);
                        bump(&be.live.be.srv_abrt);
                    }
                }
                if cause == Cause::UpstreamTimeout {
                    end.log.times.tresp = -1;
                }
                end.log.retries = retries;
                return Forwarded::Failed {
                    cause,
                    body_unread,
                    end: Box::new(end),
                };
            }
            Attempt::Ok(resp, sender) => {
                let status = resp.status().as_u16();
                let replayable = body.as_ref().map(|b| b.replay().is_some()).unwrap_or(false);
                let retry_status = RetryOn::status_bit(status)
                    .map(|b| retry_on.has(b))
                    .unwrap_or(false);
                if l7 && retry_status && retries < max_retries && replayable {
                    // The retried response is not counted in hrsp_*.
                    drop(resp);
                    drop(sender);
                    drop(slot);
                    retries += 1;
                    end.log.retries = retries;
                    l7_retry(
                        be,
                        backend,
                        srv,
                        idx,
                        retries,
                        max_retries,
                        &mut target,
                        &mut direct,
                        &mut prev,
                    );
                    continue;
                }
                end.log.times.tresp = after.duration_since(connected).as_millis() as i64;
                end.log.retries = retries;
                let lease = Lease {
                    sender: Some(sender),
                    addr,
                    live: srv.live.clone(),
                    slot: Some(slot),
                    reusable: reuse,
                    t_server,
                    t_tunnel: timeouts.tunnel.or(match (fe.cfg.timeouts.client, t_server) {
                        (Some(c), Some(sv)) => Some(c.max(sv)),
                        (c, sv) => c.or(sv),
                    }),
                };
                return Forwarded::Response {
                    reply: Box::new(response(
                        &cx.snap,
                        fe,
                        be,
                        backend,
                        srv,
                        &head,
                        origin,
                        resp,
                        lease,
                        end,
                        &mut sw,
                        direct.is_some(),
                    )),
                };
            }
        }
    }
}

fn client_aborted(fe: &ProxyRt, be: &ProxyRt, end: TxnEnd) -> Forwarded {
    bump(&fe.live.fe.cli_abrt);
    bump(&be.live.be.cli_abrt);
    if let Some(s) = &end.srv_live {
        bump(&s.counters.cli_abrt);
    }
    Forwarded::Failed {
        cause: Cause::ClientAborted,
        body_unread: true,
        end: Box::new(end),
    }
}

/// HAProxy's `stream_choose_redispatch`: whether the next attempt goes
/// through the balancer again (true) or retries the same server.
fn choose_redispatch(
    be: &ProxyRt,
    backend: &BackendRt,
    srv: &ServerRt,
    retries: u32,
    max: u32,
    direct: bool,
) -> bool {
    let Some(interval) = be.cfg.options.redispatch else {
        return false;
    };
    if interval == 0 {
        return false;
    }
    let not_running =
        srv.admin.is_maint() || matches!(srv.live.op_state(), OpState::Stopped | OpState::Starting);
    let at_interval = if interval > 0 {
        retries.is_multiple_of(interval as u32)
    } else {
        let every = i64::from(max) + 1 + i64::from(interval);
        every > 0 && i64::from(retries) % every == 0
    };
    let algo: &Balance = be
        .cfg
        .backend
        .as_ref()
        .map(|b| &b.balance)
        .unwrap_or(&Balance::RoundRobin);
    let rr_many = !direct && balance::active_count(backend) > 1 && balance::is_rr_kind(algo);
    not_running || at_interval || rr_many
}

/// HAProxy's `do_l7_retry`: count a retry, then redispatch or not.
#[allow(clippy::too_many_arguments)]
fn l7_retry(
    be: &ProxyRt,
    backend: &BackendRt,
    srv: &ServerRt,
    idx: ServerIdx,
    retries: u32,
    max: u32,
    target: &mut Option<ServerIdx>,
    direct: &mut Option<ServerIdx>,
    prev: &mut Option<ServerIdx>,
) {
    bump(&srv.live.counters.wretr);
    bump(&be.live.be.wretr);
    if choose_redispatch(be, backend, srv, retries, max, direct.is_some()) {
        *prev = Some(idx);
        *target = None;
        *direct = None;
    } else {
        bump(&srv.live.counters.wretr);
        bump(&be.live.be.wretr);
        *target = Some(idx);
    }
}

/// Assign a server and take a slot on it, queueing when needed.
#[allow(clippy::too_many_arguments)]
async fn assign(
    be: &ProxyRt,
    backend: &BackendRt,
    head: &ReqHead,
    headers: &HeaderMap,
    origin: &Origin,
    target: &mut Option<ServerIdx>,
    direct: &mut Option<ServerIdx>,
    prev: Option<ServerIdx>,
    end: &mut TxnEnd,
    owner: &impl Fn(&Arc<ServerLive>) -> SlotOwner,
    t_queue: Option<Duration>,
) -> Result<(ServerIdx, ServerSlot), Cause> {
    let algo = be
        .cfg
        .backend
        .as_ref()
        .map(|b| b.balance.clone())
        .unwrap_or_default();
    loop {
        let idx = match *target {
            Some(i) => i,
            None => {
                let backend_waiting =
                    queue::backend_queue_len(&be.live) > 0 && balance::queues_fifo(&algo);
                let pick = if backend_waiting {
                    Err(PickError::Full)
                } else {
                    let view = lb_view(head, headers, origin);
                    let input = LbInput {
                        req: &view,
                        avoid: prev,
                        now_ms: now_ms(),
                    };
                    balance::pick(be, backend, &algo, &input)
                };
                match pick {
                    Ok(i) => {
                        note_reassign(be, backend, prev, i, end);
                        *target = Some(i);
                        i
                    }
                    Err(PickError::NoServer) => {
                        bump(&be.live.be.econ);
                        return Err(Cause::NoServer);
                    }
                    Err(PickError::Full) => {
                        // Wait in the backend queue for any server.
                        end.log.be_queue = 1;
                        be.live.be.queue_enter();
                        let retry = || {
                            let view = lb_view(head, headers, origin);
                            let input = LbInput {
                                req: &view,
                                avoid: None,
                                now_ms: now_ms(),
                            };
                            let i = balance::pick(be, backend, &algo, &input).ok()?;
                            let s = backend.servers.get(i.get())?;
                            queue::try_acquire(s).then(|| s.live.clone())
                        };
                        let r =
                            queue::wait(QueueKind::Backend(&be.live), t_queue, retry, owner).await;
                        be.live.be.queue_leave();
                        match r {
                            Ok(slot) => {
                                // Find the granted server in our snapshot.
                                match backend
                                    .servers
                                    .iter()
                                    .position(|s| Arc::ptr_eq(&s.live, slot.live()))
                                {
                                    Some(i) => {
                                        let i = ServerIdx(i as u32);
                                        note_reassign(be, backend, prev, i, end);
                                        *target = Some(i);
                                        return Ok((i, started(slot)));
                                    }
                                    None => {
                                        drop(slot);
                                        continue;
                                    }
                                }
                            }
                            Err(QueueError::Timeout) | Err(QueueError::Unavailable) => {
                                bump(&be.live.be.econ);
                                return Err(Cause::QueueTimeout);
                            }
                        }
                    }
                }
            }
        };
        let Some(srv) = backend.servers.get(idx.get()) else {
            return Err(Cause::NoServer);
        };
        if queue::try_acquire_fair(srv) {
            return Ok((
                idx,
                started(ServerSlot::adopt(srv.live.clone(), owner(&srv.live))),
            ));
        }
        // Full: wait in the server's own queue, unless it is at maxqueue.
        let qlen = queue::server_queue_len(&srv.live) as u32;
        if let Some(mq) = srv.cfg.maxqueue.filter(|m| *m > 0) {
            if qlen >= mq {
                if direct.is_some() && be.cfg.options.redispatch.map(|i| i != 0).unwrap_or(false) {
                    *direct = None;
                    *target = None;
                    continue;
                }
                bump(&srv.live.counters.econ);
                bump(&be.live.be.econ);
                end.log.server = srv.name.clone();
                return Err(Cause::QueueFull);
            }
        }
        end.log.srv_queue = 1;
        srv.live.counters.queue_enter();
        let retry = || queue::try_acquire(srv).then(|| srv.live.clone());
        let r = queue::wait(QueueKind::Server(&srv.live), t_queue, retry, owner).await;
        srv.live.counters.queue_leave();
        match r {
            Ok(slot) => return Ok((idx, started(slot))),
            Err(_) => {
                bump(&srv.live.counters.econ);
                bump(&be.live.be.econ);
                end.log.server = srv.name.clone();
                return Err(Cause::QueueTimeout);
            }
        }
    }
}

fn lb_view<'a>(head: &'a ReqHead, headers: &'a HeaderMap, o: &Origin) -> crate::view::ReqView<'a> {
    crate::view::ReqView::new(
        &head.method,
        &head.target,
        &head.uri,
        headers,
        o.src,
        o.dst_port,
        o.tls,
    )
}

fn started(mut slot: ServerSlot) -> ServerSlot {
    slot.start_session();
    slot
}

/// Counters for a (re)assignment: `lbtot` when the balancer chose, and
/// `wredis`/`wretr` on the previous server when this is a redispatch.
fn note_reassign(
    be: &ProxyRt,
    backend: &BackendRt,
    prev: Option<ServerIdx>,
    i: ServerIdx,
    end: &mut TxnEnd,
) {
    if Some(i) != prev {
        bump(&be.live.be.lbtot);
        if let Some(s) = backend.servers.get(i.get()) {
            bump(&s.live.counters.lbtot);
        }
    }
    let Some(p) = prev else { return };
    let Some(ps) = backend.servers.get(p.get()) else {
        return;
    };
    if p != i {
        bump(&ps.live.counters.wredis);
        bump(&be.live.be.wredis);
        end.log.redispatched = true;
        if end.log.term[2] == b'V' {
            end.log.term[2] = b'D';
        }
    } else {
        bump(&ps.live.counters.wretr);
        bump(&be.live.be.wretr);
    }
}

/// Send one request on `sender` and wait for the response head.
async fn exchange(
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

/// The response path: hop-by-hop removal, cookies, `http-response` rules
/// (backend's, then frontend's), counters.
#[allow(clippy::too_many_arguments)]
fn response(
    snap: &switchyard_state::Snapshot,
    fe: &ProxyRt,
    be: &ProxyRt,
    backend: &BackendRt,
    srv: &ServerRt,
    head: &ReqHead,
    origin: &Origin,
    resp: http::Response<Incoming>,
    mut lease: Lease,
    mut end: TxnEnd,
    sw: &mut Switches,
    direct: bool,
) -> Reply {
    let mut resp = resp;
    let on_upgrade = (resp.status() == http::StatusCode::SWITCHING_PROTOCOLS).then(|| hyper::upgrade::on(&mut resp));
    let (parts, body) = resp.into_parts();
    let status = parts.status.as_u16();
    let reason: Cow<'static, str> = match parts.extensions.get::<hyper::ext::ReasonPhrase>() {
        Some(r) => Cow::Owned(String::from_utf8_lossy(r.as_bytes()).into_owned()),
        None => Cow::Borrowed(parts.status.canonical_reason().unwrap_or("Unknown")),
    };
    let mut headers = parts.headers;
    let htx_head = {
        let hs: usize = headers
            .iter()
            .filter(|(n, _)| *n != CONNECTION && *n != http::header::TRANSFER_ENCODING)
            .map(|(n, v)| n.as_str().len() + v.len())
            .sum();
        (20 + 8 + 3 + reason.len() + hs + 1) as u64
    };
    let server_close = headers.get_all(CONNECTION).iter().any(|v| {
        v.to_str()
            .map(|s| s.to_ascii_lowercase().contains("close"))
            .unwrap_or(false)
    });
    if server_close || parts.version == Version::HTTP_10 {
        lease.reusable = false;
    }
    let upgrade_to = (status == 101).then(|| headers.get(http::header::UPGRADE).cloned()).flatten();
    forward::strip_hop_by_hop(&mut headers);
    if let Some(u) = upgrade_to {
        headers.insert(CONNECTION, http::HeaderValue::from_static("upgrade"));
        headers.insert(http::header::UPGRADE, u);
        lease.reusable = false;
    }
    if let Some(ck) = be.cfg.backend.as_ref().and_then(|b| b.cookie.as_ref()) {
        let flag = cookie::on_response(
            ck,
            srv.cfg.cookie.as_deref(),
            direct,
            &head.method,
            status,
            &mut headers,
        );
        end.log.term[3] = flag;
    }
    rules::run_response(snap, &backend.http_response, head, origin, &mut headers, sw);
    if let Some(f) = fe.frontend.as_ref() {
        if !std::ptr::eq(fe, be) {
            rules::run_response(snap, &f.http_response, head, origin, &mut headers, sw);
        }
    }
    if let Some(l) = sw.log_level {
        end.log.level = l;
    }
    count_status(fe, Some(be), Some(&srv.live), status);
    srv.live.counters.req_tot.fetch_add(1, Relaxed);
    end.log.status = i32::from(status);
    end.time_stats = true;
    Reply {
        status,
        reason,
        headers,
        body: RespBody::Upstream(body),
        raw: None,
        close: false,
        lease: Some(lease),
        htx_head: Some(htx_head),
        upgrade: on_upgrade,
        end,
    }
}
