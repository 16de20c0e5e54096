//! One request through the proxy, in HAProxy's fixed order: monitor-uri,
//! the frontend's `http-request` rules, the stats page, `use_backend`
//! switching, the backend's `http-request` rules, then forwarding (with
//! retries and queueing, in [`crate::retry`]) and the response path.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::HeaderMap;
use hyper::body::Incoming;
use switchyard_config::LogLevel;
use switchyard_state::{
    ProxyIdx, ProxyLive, ProxyRt, ServerLive, ServiceRequest, SimpleResponse, Snapshot,
};

use crate::error::Cause;
use crate::h1::{ReqBody, ReqHead};
use crate::log::{LogRecord, Times};
use crate::pages;
use crate::proxy::Shared;
use crate::retry::{self, Forwarded};
use crate::rules::{self, Flow, Local, Origin, Switches};
use crate::timing::Start;
use crate::upstream::Lease;

/// The most of a request body a built-in service (stats admin form) reads.
const SERVICE_BODY_MAX: usize = 64 * 1024;

/// Facts about the client connection a request arrived on.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub(crate) frontend: Arc<str>,
    pub(crate) client: Option<SocketAddr>,
    pub(crate) local: Option<SocketAddr>,
    pub(crate) tls: bool,
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
}

/// A response body.
pub(crate) enum RespBody {
    Empty,
    Full(Bytes),
    Upstream(Incoming),
}

/// A response ready to be written to the client.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) reason: Cow<'static, str>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: RespBody,
    /// A complete pre-encoded response (HAProxy's pages), written verbatim.
    pub(crate) raw: Option<Bytes>,
    /// Close the client connection after this response.
    pub(crate) close: bool,
    /// The upstream connection and server slot, released after the body.
    pub(crate) lease: Option<Lease>,
    /// HAProxy's byte count for the head as the server sent it (what `%B`
    /// and `bout` measure for forwarded responses); `None` for local ones.
    pub(crate) htx_head: Option<u64>,
    /// A `101 Switching Protocols` from the server: the upgraded connection.
    pub(crate) upgrade: Option<hyper::upgrade::OnUpgrade>,
    pub(crate) end: TxnEnd,
}

/// Bookkeeping finished once the response is written: byte counters, the
/// backend session, time averages and the log line.
pub(crate) struct TxnEnd {
    pub(crate) log: LogRecord,
    pub(crate) no_log: bool,
    pub(crate) start: Start,
    pub(crate) fe_live: Arc<ProxyLive>,
    pub(crate) be: Option<BeSession>,
    pub(crate) srv_live: Option<Arc<ServerLive>>,
    /// A server answered: update the time averages.
    pub(crate) time_stats: bool,
}

/// A request counted in its backend's current sessions until dropped.
pub(crate) struct BeSession(pub(crate) Arc<ProxyLive>);

impl BeSession {
    pub(crate) fn start(live: Arc<ProxyLive>) -> BeSession {
        live.be.session_start();
        BeSession(live)
    }
}

impl Drop for BeSession {
    fn drop(&mut self) {
        self.0.be.session_end();
    }
}

impl TxnEnd {
    /// Account for the response sent: `bytes` to the client, `term` the
    /// termination code if the transfer ended abnormally.
    pub(crate) fn finish(mut self, shared: &Shared, bytes: u64, bin: u64, term: Option<[u8; 2]>) {
        let ta = self.start.elapsed();
        self.log.times.ta = ta;
        self.log.bytes = bytes;
        if let Some(t) = term {
            self.log.term[0] = t[0];
            self.log.term[1] = t[1];
        }
        self.fe_live.fe.bout.fetch_add(bytes, Relaxed);
        self.fe_live.fe.bin.fetch_add(bin, Relaxed);
        if let Some(be) = &self.be {
            be.0.be.bout.fetch_add(bytes, Relaxed);
            be.0.be.bin.fetch_add(bin, Relaxed);
        }
        if let Some(s) = &self.srv_live {
            s.counters.bout.fetch_add(bytes, Relaxed);
            s.counters.bin.fetch_add(bin, Relaxed);
        }
        if self.time_stats {
            let t = self.log.times;
            let (q, c, d) = (t.tw.max(0), (t.tc - t.tw).max(0), (t.tresp).max(0));
            if let Some(be) = &self.be {
                let c2 = &be.0.be;
                c2.qtime.add(q as u64);
                c2.ctime.add(c as u64);
                c2.rtime.add(d as u64);
                c2.ttime.add(ta.max(0) as u64);
            }
            if let Some(s) = &self.srv_live {
                let c2 = &s.counters;
                c2.qtime.add(q as u64);
                c2.ctime.add(c as u64);
                c2.rtime.add(d as u64);
                c2.ttime.add(ta.max(0) as u64);
            }
        }
        // HAProxy logs these counts after the stream left its backend and
        // server: the request itself is not in `%bc` nor `%sc`.
        if let Some(be) = &self.be {
            self.log.beconn = be.0.be.scur.load(Relaxed).saturating_sub(1);
        }
        if let Some(s) = &self.srv_live {
            self.log.srvconn = s.cur_conns.load(Relaxed);
        }
        if !self.no_log {
            shared.logger.record(self.log);
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
}

/// Handle one request and produce its response.
pub(crate) async fn process(cx: ReqCtx<'_>, mut head: ReqHead, body: ReqBody) -> Reply {
    let snap = cx.snap.clone();
    let Some(fe) = snap.proxy(cx.fe_idx).cloned() else {
        return internal(&cx, &head);
    };
    let origin = Origin {
        src: cx.conn.src_ip(),
        dst_port: cx.conn.dst_port(),
        tls: cx.conn.tls,
    };
    let mut log = LogRecord::new(Some(fe.cfg.clone()), fe.name.clone(), cx.start.date);
    log.client = cx.conn.client;
    log.frontend_addr = cx.conn.local;
    log.tls = cx.conn.tls;
    log.request = Some(head.request_line());
    log.method = Some(head.method.to_string());
    log.uri = Some(head.target.clone());
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

    let mut end = TxnEnd {
        log,
        no_log: false,
        start: cx.start,
        fe_live: fe.live.clone(),
        be: None,
        srv_live: None,
        time_stats: false,
    };
    let mut sw = Switches::default();
    let unread_body = !matches!(body, ReqBody::Empty);

    // 1. monitor-uri: answered first, never logged.
    if let Some(f) = fe.cfg.frontend.as_ref() {
        if let Some(m) = &f.monitor_uri {
            let hit = if m.starts_with('/') {
                head.uri.path() == m
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
                return page(&fe, None, status, end, *b"LR", unread_body);
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
        flow => return local_flow(&cx, &fe, None, flow, head, body, end, sw, unread_body).await,
    }

    // 3. the stats page, when enabled on this frontend.
    if let Some(st) = fe.cfg.frontend.as_ref().and_then(|f| f.stats.as_ref()) {
        if head.target.starts_with(st.uri.as_str()) {
            return stats(&cx, &fe, head, body, end, sw).await;
        }
    }

    // 4. use_backend / default_backend.
    let Some(be_idx) = snap.route(cx.fe_idx, &rules::view(&head, &origin)) else {
        end.log.times.tr = -1;
        end.log.level = sw.log_level.unwrap_or(LogLevel::Info);
        return error(&fe, None, Cause::NoBackend, end, unread_body);
    };
    let Some(be) = snap.proxy(be_idx).cloned() else {
        return error(&fe, None, Cause::NoBackend, end, unread_body);
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
                return local_flow(&cx, &fe, Some(&be), flow, head, body, end, sw, unread_body)
                    .await
            }
        }
    }
    end.log.level = sw.log_level.unwrap_or(LogLevel::Info);

    // 6. forward.
    let fw = retry::forward(&cx, &fe, &be, head, body, &origin, end, sw).await;
    match fw {
        Forwarded::Response { reply } => *reply,
        Forwarded::Failed {
            cause,
            body_unread,
            end,
        } => error(&fe, Some(&be), cause, *end, body_unread),
    }
}

fn internal(cx: &ReqCtx<'_>, head: &ReqHead) -> Reply {
    // The frontend vanished between accept and this request (a reload):
    // answer 503 and close.
    let _ = head;
    let log = LogRecord::new(None, cx.conn.frontend.clone(), cx.start.date);
    let fe_live = Arc::new(ProxyLive::default());
    Reply {
        status: 503,
        reason: Cow::Borrowed(pages::reason(503)),
        headers: HeaderMap::new(),
        body: RespBody::Empty,
        raw: Some(pages::htx_page(503)),
        close: true,
        lease: None,
        htx_head: None,
        upgrade: None,
        end: TxnEnd {
            log,
            no_log: true,
            start: cx.start,
            fe_live,
            be: None,
            srv_live: None,
            time_stats: false,
        },
    }
}

/// Count a final status on the frontend, the backend and the server.
pub(crate) fn count_status(
    fe: &ProxyRt,
    be: Option<&ProxyRt>,
    srv: Option<&ServerLive>,
    status: u16,
) {
    fe.live.fe.count_status(status);
    if let Some(b) = be {
        b.live.be.count_status(status);
    }
    if let Some(s) = srv {
        s.counters.count_status(status);
    }
}

/// One of HAProxy's pages as the reply.
fn page(
    fe: &ProxyRt,
    be: Option<&ProxyRt>,
    status: u16,
    mut end: TxnEnd,
    term: [u8; 2],
    unread_body: bool,
) -> Reply {
    count_status(fe, be, None, status);
    end.log.status = i32::from(status);
    end.log.term[0] = term[0];
    end.log.term[1] = term[1];
    Reply {
        status,
        reason: Cow::Borrowed(pages::reason(status)),
        headers: HeaderMap::new(),
        body: RespBody::Empty,
        raw: Some(pages::htx_page(status)),
        close: unread_body,
        lease: None,
        htx_head: None,
        upgrade: None,
        end,
    }
}

/// The error page for `cause`, with its counters and termination code; no
/// response at all (status 0) when the client is gone.
pub(crate) fn error(
    fe: &ProxyRt,
    be: Option<&ProxyRt>,
    cause: Cause,
    mut end: TxnEnd,
    unread_body: bool,
) -> Reply {
    match cause.status() {
        Some(status) => page(fe, be, status, end, cause.term(), unread_body),
        None => {
            let t = cause.term();
            end.log.term[0] = t[0];
            end.log.term[1] = t[1];
            end.log.status = -1;
            Reply {
                status: 0,
                reason: Cow::Borrowed(""),
                headers: HeaderMap::new(),
                body: RespBody::Empty,
                raw: None,
                close: true,
                lease: None,
                htx_head: None,
        upgrade: None,
                end,
            }
        }
    }
}

/// Build the reply for a rule that answers locally.
#[allow(clippy::too_many_arguments)]
async fn local_flow(
    cx: &ReqCtx<'_>,
    fe: &Arc<ProxyRt>,
    be: Option<&Arc<ProxyRt>>,
    flow: Flow,
    head: ReqHead,
    body: ReqBody,
    mut end: TxnEnd,
    sw: Switches,
    unread_body: bool,
) -> Reply {
    end.log.level = sw.log_level.unwrap_or(LogLevel::Info);
    let be_rt = be.map(|b| &**b);
    match flow {
        Flow::Continue => page(fe, be_rt, 500, end, *b"IR", unread_body),
        Flow::Reply {
            local: Local::Page(status),
            denied: true,
        } => {
            fe.live.fe.dreq.fetch_add(1, Relaxed);
            if let Some(b) = be {
                b.live.be.dreq.fetch_add(1, Relaxed);
            }
            let status = if pages::body(status).is_some() {
                status
            } else {
                403
            };
            page(fe, be_rt, status, end, *b"PR", unread_body)
        }
        Flow::Reply { local, .. } => {
            fe.live.fe.intercepted.fetch_add(1, Relaxed);
            local_reply(fe, be_rt, local, end, unread_body)
        }
        Flow::Service(name) => {
            fe.live.fe.intercepted.fetch_add(1, Relaxed);
            let (body_bytes, _) = small_body(body).await;
            let req = service_request(cx, &head, &body_bytes, false);
            match cx.shared.services.use_service(&name, &cx.snap, &req) {
                Some(r) => simple(fe, be_rt, r, end, unread_body),
                None => page(fe, be_rt, 500, end, *b"IR", unread_body),
            }
        }
    }
}

fn local_reply(
    fe: &ProxyRt,
    be: Option<&ProxyRt>,
    local: Local,
    mut end: TxnEnd,
    unread_body: bool,
) -> Reply {
    end.log.term[0] = b'L';
    end.log.term[1] = b'R';
    let (status, headers, body) = match local {
        Local::Page(s) => return page(fe, be, s, end, *b"LR", unread_body),
        Local::Return {
            status,
            headers,
            content_type,
            body,
        } => {
            let mut h = HeaderMap::new();
            for (n, v) in headers {
                h.append(n, v);
            }
            h.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
            if let Some(ct) = content_type.filter(|_| !body.is_empty()) {
                if let Ok(v) = HeaderValue::from_str(&ct) {
                    h.insert(CONTENT_TYPE, v);
                }
            }
            (status, h, body)
        }
        Local::Redirect { code, location } => {
            let mut h = HeaderMap::new();
            if unread_body {
                h.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            }
            h.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            if let Ok(v) = HeaderValue::from_str(&location) {
                h.insert(http::header::LOCATION, v);
            }
            if matches!(code, 302 | 303 | 307) {
                h.insert(
                    http::header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                );
            }
            (code, h, Bytes::new())
        }
    };
    count_status(fe, be, None, status);
    end.log.status = i32::from(status);
    Reply {
        status,
        reason: Cow::Borrowed(redirect_reason(status)),
        headers,
        body: if body.is_empty() {
            RespBody::Empty
        } else {
            RespBody::Full(body)
        },
        raw: None,
        close: unread_body,
        lease: None,
        htx_head: None,
        upgrade: None,
        end,
    }
}

fn redirect_reason(status: u16) -> &'static str {
    match status {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        s => pages::reason(s),
    }
}

/// A [`SimpleResponse`] from a built-in service as the reply.
fn simple(
    fe: &ProxyRt,
    be: Option<&ProxyRt>,
    r: SimpleResponse,
    mut end: TxnEnd,
    unread_body: bool,
) -> Reply {
    let mut h = HeaderMap::new();
    for (n, v) in &r.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(n.to_ascii_lowercase().as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.append(n, v);
        }
    }
    let chunked = h
        .get(http::header::TRANSFER_ENCODING)
        .map(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"))
        .unwrap_or(false);
    if !chunked && !h.contains_key(CONTENT_LENGTH) {
        h.insert(CONTENT_LENGTH, HeaderValue::from(r.body.len()));
    }
    count_status(fe, be, None, r.status);
    end.log.status = i32::from(r.status);
    end.log.term[0] = b'L';
    end.log.term[1] = b'R';
    Reply {
        status: r.status,
        reason: Cow::Borrowed(pages::reason(r.status)),
        headers: h,
        body: if r.body.is_empty() {
            RespBody::Empty
        } else {
            RespBody::Full(Bytes::from(r.body))
        },
        raw: None,
        close: unread_body,
        lease: None,
        htx_head: None,
        upgrade: None,
        end,
    }
}

/// Read a small request body (for built-in services); `(bytes, complete)`.
async fn small_body(body: ReqBody) -> (Bytes, bool) {
    match body.buffer_up_to(SERVICE_BODY_MAX).await {
        Ok(ReqBody::Full(b)) => (b.unwrap_or_default(), true),
        Ok(ReqBody::Empty) => (Bytes::new(), true),
        _ => (Bytes::new(), false),
    }
}

fn service_request<'a>(
    cx: &ReqCtx<'_>,
    head: &'a ReqHead,
    body: &'a [u8],
    admin: bool,
) -> ServiceRequest<'a> {
    ServiceRequest {
        method: head.method.as_str(),
        uri: &head.target,
        authorization: head
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        src: cx.conn.src_ip(),
        body,
        admin_allowed: admin,
    }
}

async fn stats(
    cx: &ReqCtx<'_>,
    fe: &Arc<ProxyRt>,
    head: ReqHead,
    body: ReqBody,
    mut end: TxnEnd,
    sw: Switches,
) -> Reply {
    end.log.level = sw.log_level.unwrap_or(LogLevel::Info);
    end.log.server = Arc::from("<STATS>");
    fe.live.fe.intercepted.fetch_add(1, Relaxed);
    let origin = Origin {
        src: cx.conn.src_ip(),
        dst_port: cx.conn.dst_port(),
        tls: cx.conn.tls,
    };
    let admin = fe
        .frontend
        .as_ref()
        .and_then(|f| f.stats_admin.as_ref())
        .map(|c| cx.snap.eval_cond(c, &rules::view(&head, &origin)))
        .unwrap_or(false);
    let (body_bytes, complete) = small_body(body).await;
    let req = service_request(cx, &head, &body_bytes, admin);
    let r = cx
        .shared
        .services
        .stats_page(&cx.shared.store, &cx.snap, cx.fe_idx, &req);
    simple(fe, None, r, end, !complete)
}
