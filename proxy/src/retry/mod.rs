//! Forwarding a request to its backend: server assignment (persistence or
//! balancing), queueing, connection attempts with `retries` and `option
//! redispatch`, L7 retries (`retry-on`), and the response head. Counters
//! follow HAProxy's `assign_server_and_queue`, `back_handle_st_cer` and
//! `do_l7_retry`.

mod assign;
mod exchange;
mod redispatch;
mod response;

pub(crate) use assign::assign;
pub(crate) use redispatch::choose_redispatch;

use std::pin::pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderMap;
use switchyard_config::{HttpConnMode, HttpReuse, RetryOn};
use switchyard_state::{ObserveEvent, ProxyRt, ServerIdx, ServerLive};

use crate::balance::{self};
use crate::cookie;
use crate::error::Cause;
use crate::h1::{BodyError, ReqBody, ReqHead};
use crate::headers;
use crate::kill::{self, KillWatch};
use crate::queue::{self, SlotOwner};
use crate::request::{Reply, ReqCtx, TxnEnd};
use crate::rules::{Origin, Switches};
use crate::upstream::{connect, ConnectError, Lease, Outgoing, TlsRoute};
use exchange::{exchange, Attempt};
use redispatch::{l7_retry, next_target};
use response::response;

/// The result of forwarding.
pub(crate) enum Forwarded {
    Response { reply: Box<Reply> },
    Failed { cause: Cause, end: Box<TxnEnd> },
}

pub(super) fn bump(c: &std::sync::atomic::AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// Forward the request to backend `be` and wait for the response head.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn forward(
    cx: &ReqCtx<'_>,
    fe: &Arc<ProxyRt>,
    be: &Arc<ProxyRt>,
    head: Box<ReqHead>,
    mut body: ReqBody,
    origin: &Origin,
    mut end: Box<TxnEnd>,
    mut sw: Switches,
) -> Forwarded {
    let Some(backend) = be.backend.as_ref() else {
        return Forwarded::Failed {
            cause: Cause::NoServer,
            end,
        };
    };
    let Some(bcfg) = be.cfg.backend.as_ref() else {
        return Forwarded::Failed {
            cause: Cause::NoServer,
            end,
        };
    };
    let mut head = head;

    // Persistence cookie.
    let mut direct: Option<ServerIdx> = None;
    if let Some(ck) = &bcfg.cookie {
        let c = cookie::on_request(ck, backend, &mut head.headers, be.cfg.options.persist);
        if cookie::flags_logged(ck) {
            end.log.term[2] = c.flag;
        }
        direct = c.server;
    }

    // Headers for the server.
    let mut headers = std::mem::take(&mut head.headers);
    let chunked = head.framing == crate::h1::Framing::Chunked;
    headers::connection_header(&mut headers, chunked);
    if head.framing == crate::h1::Framing::Chunked {
        // Transfer-Encoding won over Content-Length (RFC 9112 §6.3): the
        // length must not travel on with a re-chunked body.
        crate::headers::remove_ordered(&mut headers, &http::header::CONTENT_LENGTH);
    }
    headers::forwarded_for(&mut headers, &fe.cfg, &be.cfg, cx.conn.src_ip());
    // An HTTP/2 request's target is logged in absolute form (scheme and
    // authority first, as HAProxy logs it) but reaches an HTTP/1 server
    // in origin form, as HAProxy's H1 mux sends it.
    let target = if head.version == http::Version::HTTP_2 && head.method != http::Method::CONNECT {
        head.uri.path_and_query().map_or("/", |p| p.as_str())
    } else {
        &head.target
    };
    let out = Outgoing {
        method: head.method.clone(),
        target,
        version: head.version,
        headers,
        keep_alive: be.cfg.options.conn_mode == HttpConnMode::KeepAlive
            && fe.cfg.options.conn_mode == HttpConnMode::KeepAlive,
        chunked,
        interim: cx.interim.as_ref(),
    };
    // From here on the balancer's view of the headers is what goes out.
    head.headers = HeaderMap::new();

    // L7 retries need the whole request in hand (HAProxy: received and
    // within tune.bufsize); otherwise they are silently off.
    let retry_on = bcfg.retry_on;
    // `Expect: 100-continue` goes on to the server, which answers it (as
    // through HAProxy): switchyard sends no `100 Continue` of its own, and
    // the body is not waited for, so L7 retries are off (HAProxy's need
    // the whole request received when it is first sent).
    let expect = head.expect_continue && matches!(body, ReqBody::Stream(_));
    if expect {
        body.forgo_continue();
    }
    let mut body = Some(body);
    let mut l7 = retry_on.any_l7() && !sw.no_l7_retry && !expect;
    if l7 {
        let b = body.take().unwrap_or(ReqBody::Empty);
        match b.buffer_up_to(cx.snap.config.global.bufsize).await {
            Ok(b) => {
                l7 = b.replay().is_some();
                body = Some(b);
            }
            Err(BodyError::Invalid) => {
                return Forwarded::Failed {
                    cause: Cause::ClientInvalid,
                    end,
                };
            }
            Err(_) => {
                return client_aborted(fe, be, end, Cause::ClientAborted);
            }
        }
    }

    // A response head must fit in a buffer less its rewrite reserve
    // (`tune.maxrewrite`), as the client side's request heads do.
    let head_max = cx.snap.config.global.bufsize.saturating_sub(1024).max(1024);
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
    // `option httpclose`/`http-server-close` on either side close the
    // server connection after each response.
    let reuse = bcfg.http_reuse != HttpReuse::Never
        && be.cfg.options.conn_mode == HttpConnMode::KeepAlive
        && fe.cfg.options.conn_mode == HttpConnMode::KeepAlive;
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
    // The connection's task is woken by a hard stop already (conn_task).
    let mut hard = pin!(crate::shutdown::hard_flag(&cx.shared.shutdown));
    let view = assign::lb_view(&head, &out.headers, origin);
    let rr_kind = balance::is_rr_kind(&balance::effective(be));

    loop {
        // ---- assign a server and get a slot on it
        let t_assign = switchyard_state::clock::now();
        let assigned = tokio::select! {
            biased;
            a = assign(
                be,
                backend,
                &view,
                &mut target,
                &mut direct,
                prev,
                &mut end.log,
                &owner,
                t_queue,
            ) => a,
            // An HTTP/2 stream reset while queued leaves the queue now.
            _ = cx.client_gone() => Err(Cause::QueueAborted),
        };
        // One clock reading ends the queue wait and starts the connect.
        let t0 = switchyard_state::clock::now();
        queued_ms += t0.saturating_duration_since(t_assign).as_millis() as i64;
        end.log.times.tw = queued_ms;
        let (idx, slot) = match assigned {
            Ok(x) => x,
            Err(cause) => {
                // Only a request that waited in a queue has a queue time.
                if !matches!(cause, Cause::QueueTimeout | Cause::QueueAborted) && retries == 0 {
                    end.log.times.tw = -1;
                }
                if cause == Cause::QueueAborted {
                    return client_aborted(fe, be, end, cause);
                }
                return Forwarded::Failed { cause, end };
            }
        };
        prev = None;
        let Some(srv) = backend.servers.get(idx.get()) else {
            return Forwarded::Failed {
                cause: Cause::NoServer,
                end,
            };
        };
        end.log.server = srv.name.clone();
        end.srv_live = Some(srv.live.clone());
        let observe = srv.cfg.observe;
        let Some(mut addr) = srv.addr else {
            return Forwarded::Failed {
                cause: Cause::NoServer,
                end,
            };
        };
        if addr.port() == 0 {
            addr.set_port(cx.conn.dst_port());
        }

        // ---- connect (or reuse an idle connection)
        first_connect.get_or_insert(t0);
        let route = srv
            .traffic_tls()
            .map(|t| TlsRoute::for_request(t, &out.headers));
        let pooled = if reuse {
            queue::server_ext(&srv.live)
                .and_then(|e| e.pool.take(addr, route.as_ref(), &srv.live, t0))
        } else {
            None
        };
        let reused = pooled.is_some();
        let conn = match pooled {
            Some(c) => Ok(c),
            None => {
                tokio::select! {
                    r = connect(addr, t_connect, route, [&srv.live.counters, &be.live.be]) => r,
                    _ = &mut hard => return Forwarded::Failed { cause: Cause::Killed, end },
                }
            }
        };
        // HAProxy counts every new connection attempt in `connect`,
        // whether it succeeds or not.
        if reused {
            bump(&srv.live.counters.reuse);
            bump(&be.live.be.reuse);
        } else {
            bump(&srv.live.counters.connect);
            bump(&be.live.be.connect);
        }
        let conn = match conn {
            Ok(c) => {
                if !reused {
                    srv.live.observe(observe, ObserveEvent::L4Ok);
                }
                c
            }
            Err(e) => {
                srv.live.observe(observe, ObserveEvent::L4Err);
                drop(slot);
                let cause = match e {
                    ConnectError::Timeout => Cause::ConnectTimeout,
                    ConnectError::Failed => Cause::ConnectFailed,
                };
                if retries >= max_retries || !retry_on.has(RetryOn::CONN_FAILURE) {
                    bump(&srv.live.counters.econ);
                    bump(&be.live.be.econ);
                    end.log.retries = retries;
                    return Forwarded::Failed { cause, end };
                }
                retries += 1;
                end.log.retries = retries;
                let redisp = next_target(
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
                if !reused && !turnaround(redisp, rr_kind, backend, t_connect, &mut hard).await {
                    return Forwarded::Failed {
                        cause: Cause::Killed,
                        end,
                    };
                }
                continue;
            }
        };
        // A pooled connection was taken without waiting.
        let connected = if reused {
            t0
        } else {
            switchyard_state::clock::now()
        };
        end.log.times.tc = queued_ms
            + first_connect
                .map(|f| connected.duration_since(f).as_millis() as i64)
                .unwrap_or(0);

        // ---- send the request and wait for the response head
        let this_body = match body.as_ref().and_then(ReqBody::replay) {
            Some(b) => b,
            None => body.take().unwrap_or(ReqBody::Empty),
        };
        let kw = KillWatch::new(&srv.live);
        let attempt = tokio::select! {
            a = exchange(conn, &out, this_body, t_server, head_max) => a,
            _ = &mut hard => Attempt::Failed(Cause::Killed, None),
            k = kill::killed(Some(&kw)) => Attempt::Failed(Cause::killed_by(k), None),
            _ = cx.client_gone() => Attempt::Failed(Cause::ClientGone, None),
        };
        let after = switchyard_state::clock::now();
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
            Attempt::NotSent(b) => {
                srv.live.observe(observe, ObserveEvent::HttpBrokenPipe);
                drop(slot);
                // A fresh connection closed before the request could be sent
                // (an upstream stopping while its backlog is drained): nothing
                // reached the server, so it is retried like a failed connect.
                if !(retry_on.has(RetryOn::CONN_FAILURE) && retries < max_retries) {
                    bump(&srv.live.counters.eresp);
                    bump(&be.live.be.eresp);
                    return Forwarded::Failed {
                        cause: Cause::UpstreamClosed,
                        end,
                    };
                }
                if body.is_none() {
                    body = Some(b);
                }
            }
            Attempt::Failed(cause, event) => {
                if let Some(ev) = event {
                    srv.live.observe(observe, ev);
                }
                if matches!(cause, Cause::ClientAborted | Cause::ClientGone) {
                    drop(slot);
                    if cause == Cause::ClientGone {
                        end.log.times.tresp = -1;
                    }
                    return client_aborted(fe, be, end, cause);
                }
                // The client's fault: no retry.
                if cause == Cause::ClientInvalid {
                    drop(slot);
                    return Forwarded::Failed { cause, end };
                }
                if cause == Cause::ClientTimeout {
                    drop(slot);
                    bump(&fe.live.fe.cli_abrt);
                    bump(&be.live.be.cli_abrt);
                    return Forwarded::Failed { cause, end };
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
                drop(slot);
                let retry = !cause.is_kill()
                    && l7
                    && retry_on.has(bit)
                    && retries < max_retries
                    && replayable;
                if !retry {
                    if !cause.is_kill() {
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
                    return Forwarded::Failed { cause, end };
                }
            }
            Attempt::Ok(answer) => {
                let status = answer.head.status;
                srv.live.observe(observe, ObserveEvent::for_status(status));
                let replayable = body.as_ref().map(|b| b.replay().is_some()).unwrap_or(false);
                let retry_status = RetryOn::status_bit(status)
                    .map(|b| retry_on.has(b))
                    .unwrap_or(false);
                if !(l7 && retry_status && retries < max_retries && replayable) {
                    end.log.times.tresp = after.duration_since(connected).as_millis() as i64;
                    end.log.retries = retries;
                    let lease = Lease {
                        conn: None,
                        addr,
                        live: srv.live.clone(),
                        slot: Some(slot),
                        reusable: reuse,
                        kill: Some(kw),
                        observe,
                        t_server,
                        t_tunnel: timeouts
                            .tunnel
                            .or(match (fe.cfg.timeouts.client, t_server) {
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
                            *answer,
                            lease,
                            end,
                            &mut sw,
                            direct.is_some(),
                        )),
                    };
                }
                // The retried response is not counted in hrsp_*.
                drop(answer);
                drop(slot);
            }
        }

        // ---- retry: the arms above that did not return or continue
        // retry at layer 7 (or resend a request a fresh connection closed
        // before it went out).
        retries += 1;
        end.log.retries = retries;
        let redisp = l7_retry(
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
        // Same turn-around as a failed connect: no hot loop on a server
        // that is shutting down.
        if !turnaround(redisp, rr_kind, backend, t_connect, &mut hard).await {
            return Forwarded::Failed {
                cause: Cause::Killed,
                end,
            };
        }
    }
}

fn client_aborted(fe: &ProxyRt, be: &ProxyRt, end: Box<TxnEnd>, cause: Cause) -> Forwarded {
    bump(&fe.live.fe.cli_abrt);
    bump(&be.live.be.cli_abrt);
    if let Some(s) = &end.srv_live {
        bump(&s.counters.cli_abrt);
    }
    Forwarded::Failed { cause, end }
}

/// HAProxy's turn-around before retrying the same server: wait
/// `min(timeout connect, 1s)`, unless the retry was redispatched by a
/// round-robin-like algorithm with more than one active server (immediate
/// redispatch). `false` when a hard stop came first.
async fn turnaround<F: std::future::Future + Unpin>(
    redispatched: bool,
    rr_kind: bool,
    backend: &switchyard_state::BackendRt,
    t_connect: Option<Duration>,
    hard: &mut F,
) -> bool {
    if redispatched && rr_kind && balance::active_count(backend) > 1 {
        return true;
    }
    let delay = t_connect
        .map(|c| c.min(Duration::from_secs(1)))
        .unwrap_or(Duration::from_secs(1));
    tokio::select! {
        _ = crate::timing::sleep(delay) => true,
        _ = hard => false,
    }
}
