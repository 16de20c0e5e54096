//! One request through the proxy, in HAProxy's fixed order: monitor-uri,
//! the frontend's `http-request` rules, the stats page, `use_backend`
//! switching, the backend's `http-request` rules, then forwarding (with
//! retries and queueing, in [`crate::retry`]) and the response path.

mod local;
mod reply;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use switchyard_config::LogLevel;
use switchyard_state::{ProxyIdx, Snapshot};

use crate::error::Cause;
use crate::h1::{ReqBody, ReqHead};
use crate::log::{LogRecord, Times};
use crate::proxy::Shared;
use crate::retry::{self, Forwarded};
use crate::rules::{self, Flow, Origin, Switches};
use crate::timing::Start;
use local::{internal, local_flow, stats};
pub(crate) use reply::{count_status, error, page, BeSession, Reply, RespBody, TxnEnd};

/// Facts about the client connection a request arrived on.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub(crate) frontend: Arc<str>,
    pub(crate) client: Option<SocketAddr>,
    pub(crate) local: Option<SocketAddr>,
    /// Set on a TLS connection (`ssl_fc`, `%ft`'s `~`, `%sslv`/`%sslc`).
    /// Shared (an `Arc`): each log record keeps it, and an idle
    /// connection's task should stay small.
    pub(crate) tls: Option<std::sync::Arc<crate::tls::TlsParams>>,
    /// An HTTP/2 preface as the first request switches to HTTP/2 (an
    /// HTTP/1 bind without `proto`, as HAProxy's H1 mux upgrades).
    pub(crate) h2_preface: bool,
}

impl ConnInfo {
    pub(crate) fn src_ip(&self) -> IpAddr {
        self.client
            .map(|a| a.ip())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }
    pub(crate) fn dst_port(&self) -> u16 {
        self.local.map(|a| a.port()).unwrap_or(0)
    }
    pub(crate) fn client_cert(&self) -> Option<Arc<switchyard_state::PeerCert>> {
        self.tls.as_ref()?.client_cert().cloned()
    }
    /// The connection's facts the rules read.
    pub(crate) fn origin(&self) -> Origin {
        Origin {
            src: self.src_ip(),
            dst_port: self.dst_port(),
            tls: self.tls.is_some(),
            cert: self.client_cert(),
        }
    }
}

/// Everything `process` needs besides the request itself.
pub(crate) struct ReqCtx<'a> {
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) conn: &'a ConnInfo,
    pub(crate) snap: Arc<Snapshot>,
    pub(crate) fe_idx: ProxyIdx,
    pub(crate) start: Start,
    /// When the request head was complete.
    pub(crate) head_done: Instant,
    pub(crate) actconn: u32,
    /// Where a server's interim responses go at once: set for an HTTP/1
    /// request with `Expect: 100-continue`, whose client waits for them.
    pub(crate) interim: Option<crate::upstream::InterimTx>,
    /// The client went away (an HTTP/2 stream reset): set by the client's
    /// side, seen by the exchange the next time the task polls it.
    pub(crate) gone: AtomicBool,
}

impl<'a> ReqCtx<'a> {
    /// Ready once [`ReqCtx::gone`] is set. It registers no waker: the flag
    /// is set from the task that polls the request, which polls it again.
    pub(crate) async fn client_gone(&self) {
        std::future::poll_fn(|_| {
            if self.gone.load(Relaxed) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await
    }

    /// The server's interim responses to this request are to reach the
    /// client as they come (it sent `Expect: 100-continue` and waits for
    /// them): where the client's side takes them from.
    pub(crate) fn relay_interim(&mut self) -> crate::upstream::InterimRx {
        let (tx, rx) = crate::upstream::interim::channel();
        self.interim = Some(tx);
        rx
    }

    /// A request on `conn` to frontend `fe_idx`, under the snapshot (and
    /// connection count) current when its head was complete.
    pub(crate) fn new(
        shared: &'a Arc<Shared>,
        conn: &'a ConnInfo,
        fe_idx: ProxyIdx,
        start: Start,
        head_done: Instant,
    ) -> ReqCtx<'a> {
        ReqCtx {
            shared,
            conn,
            snap: shared.store.load_full(),
            fe_idx,
            start,
            head_done,
            actconn: shared.limits.actconn(),
            interim: None,
            gone: AtomicBool::new(false),
        }
    }
}

/// Handle one request and produce its response.
pub(crate) async fn process(cx: &ReqCtx<'_>, mut head: Box<ReqHead>, body: ReqBody) -> Box<Reply> {
    let snap = cx.snap.clone();
    let Some(fe) = snap.proxy(cx.fe_idx).cloned() else {
        return Box::new(internal(cx, &head));
    };
    let origin = cx.conn.origin();
    let mut log = LogRecord::new(Some(fe.cfg.clone()), fe.name.clone(), cx.start.date);
    log.client = cx.conn.client;
    log.frontend_addr = cx.conn.local;
    log.tls = cx.conn.tls.clone();
    // The request's text is only kept when a log line will be written.
    if crate::log::will_log(&fe.cfg) {
        log.request = Some(head.request_line());
        log.method = Some(head.method.to_string());
        log.uri = Some(head.target.clone());
    }
    log.actconn = cx.actconn;
    log.feconn = fe.live.fe.scur.load(Relaxed);
    log.times = Times {
        tr: cx.start.ms(cx.head_done),
        tw: -1,
        tc: -1,
        tresp: -1,
        ta: 0,
    };
    let fe_c = &fe.live.fe;
    fe_c.req_tot.fetch_add(1, Relaxed);
    fe_c.req_rate.add(1);

    // Boxed: it travels through every layer of the request by value.
    let mut end = Box::new(TxnEnd {
        log,
        no_log: false,
        start: cx.start,
        fe_live: fe.live.clone(),
        be: None,
        srv_live: None,
        time_stats: false,
        ended: None,
    });
    let mut sw = Switches::default();
    let unread_body = !matches!(body, ReqBody::Empty);

    // 1. monitor-uri: answered first, never logged.
    if let Some(f) = fe.cfg.frontend.as_ref() {
        if let Some(m) = &f.monitor_uri {
            // HAProxy compares a `/...` monitor URI with the request's path
            // (query included, so `/mon?x` does not match), else the URI.
            let hit = if m.starts_with('/') {
                origin_form(&head) == m
            } else {
                head.target == *m
            };
            if hit {
                let failed = fe
                    .frontend
                    .as_ref()
                    .and_then(|f| f.monitor_fail.as_ref())
                    .map(|c| snap.eval_cond(c, &rules::view(&head, &origin)))
                    .unwrap_or(false);
                fe_c.intercepted.fetch_add(1, Relaxed);
                end.no_log = true;
                let status = if failed { 503 } else { 200 };
                return Box::new(page(&fe, None, status, end, *b"LR"));
            }
        }
    }

    // 2. frontend http-request rules.
    let fe_rules = fe
        .frontend
        .as_ref()
        .map(|f| f.http_request.as_slice())
        .unwrap_or(&[]);
    match rules::run_request(&snap, fe_rules, &mut head, &origin, &mut sw) {
        Flow::Continue => {}
        flow => {
            let r = local_flow(cx, &fe, None, flow, head, body, end, sw, unread_body).await;
            return Box::new(r);
        }
    }

    // 3. the stats page, when enabled on this frontend.
    if let Some(st) = fe.cfg.frontend.as_ref().and_then(|f| f.stats.as_ref()) {
        let target = if st.uri.starts_with('/') {
            origin_form(&head)
        } else {
            &head.target
        };
        let method_ok = matches!(
            head.method,
            http::Method::GET | http::Method::HEAD | http::Method::POST
        );
        if method_ok && target.starts_with(st.uri.as_str()) {
            return Box::new(stats(cx, &fe, head, body, end, sw).await);
        }
    }

    // 4. use_backend / default_backend.
    let Some(be_idx) = snap.route(cx.fe_idx, &rules::view(&head, &origin)) else {
        end.log.times.tr = -1;
        end.log.level = sw.log_level.unwrap_or(LogLevel::Info);
        return Box::new(error(&fe, None, Cause::NoBackend, end));
    };
    let Some(be) = snap.proxy(be_idx).cloned() else {
        return Box::new(error(&fe, None, Cause::NoBackend, end));
    };
    end.log.backend = be.name.clone();
    end.be = Some(BeSession::start(be.live.clone()));
    be.live.be.req_tot.fetch_add(1, Relaxed);

    // 5. the backend's own http-request rules.
    if be_idx != cx.fe_idx {
        let be_rules = be
            .backend
            .as_ref()
            .map(|b| b.http_request.as_slice())
            .unwrap_or(&[]);
        match rules::run_request(&snap, be_rules, &mut head, &origin, &mut sw) {
            Flow::Continue => {}
            flow => {
                let r =
                    local_flow(cx, &fe, Some(&be), flow, head, body, end, sw, unread_body).await;
                return Box::new(r);
            }
        }
    }
    end.log.level = sw.log_level.unwrap_or(LogLevel::Info);

    // 6. forward.
    let fw = retry::forward(cx, &fe, &be, head, body, &origin, end, sw).await;
    match fw {
        // Still boxed: the reply is 584 bytes, moved through several layers.
        Forwarded::Response { reply } => reply,
        Forwarded::Failed { cause, end } => Box::new(error(&fe, Some(&be), cause, end)),
    }
}

/// The path and query of the request (HAProxy's `http_parse_path`).
fn origin_form(head: &ReqHead) -> &str {
    head.uri.path_and_query().map(|p| p.as_str()).unwrap_or("")
}
