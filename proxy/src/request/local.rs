//! Replies the proxy makes itself: rule replies (return, deny, redirect),
//! built-in services (use-service, the stats page).

use std::borrow::Cow;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::HeaderMap;
use switchyard_config::LogLevel;
use switchyard_state::{ProxyLive, ProxyRt, ServiceRequest, SimpleResponse};

use super::reply::{count_status, page, Reply, RespBody, TxnEnd};
use super::ReqCtx;
use crate::h1::{ReqBody, ReqHead};
use crate::log::LogRecord;
use crate::pages;
use crate::rules::{self, Flow, Local, Switches};

/// The most of a request body a built-in service (stats admin form) reads.
const SERVICE_BODY_MAX: usize = 64 * 1024;

pub(super) fn internal(cx: &ReqCtx<'_>, head: &ReqHead) -> Reply {
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
        http10: false,
        interim: Vec::new(),
        end: Box::new(TxnEnd {
            log,
            no_log: true,
            start: cx.start,
            fe_live,
            be: None,
            srv_live: None,
            time_stats: false,
            ended: None,
        }),
    }
}

/// Build the reply for a rule that answers locally.
#[allow(clippy::too_many_arguments)]
pub(super) async fn local_flow(
    cx: &ReqCtx<'_>,
    fe: &Arc<ProxyRt>,
    be: Option<&Arc<ProxyRt>>,
    flow: Flow,
    head: Box<ReqHead>,
    body: ReqBody,
    mut end: Box<TxnEnd>,
    sw: Switches,
    unread_body: bool,
) -> Reply {
    end.log.level = sw.log_level.unwrap_or(LogLevel::Info);
    let be_rt = be.map(|b| &**b);
    match flow {
        Flow::Continue => page(fe, be_rt, 500, end, *b"IR"),
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
            page(fe, be_rt, status, end, *b"PR")
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
                Some(r) => simple(fe, be_rt, r, end),
                None => page(fe, be_rt, 500, end, *b"IR"),
            }
        }
    }
}

fn local_reply(
    fe: &ProxyRt,
    be: Option<&ProxyRt>,
    local: Local,
    mut end: Box<TxnEnd>,
    unread_body: bool,
) -> Reply {
    end.log.term[0] = b'L';
    end.log.term[1] = b'R';
    let redirect = matches!(local, Local::Redirect { .. });
    let (status, headers, body) = match local {
        Local::Page(s) => return page(fe, be, s, end, *b"LR"),
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
        // HAProxy closes after a redirect whose request body is unread.
        close: redirect && unread_body,
        lease: None,
        htx_head: None,
        upgrade: None,
        http10: false,
        interim: Vec::new(),
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
fn simple(fe: &ProxyRt, be: Option<&ProxyRt>, r: SimpleResponse, mut end: Box<TxnEnd>) -> Reply {
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
        // A body left unread is drained or the connection closed by
        // the connection loop.
        close: false,
        lease: None,
        htx_head: None,
        upgrade: None,
        http10: false,
        interim: Vec::new(),
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

pub(super) async fn stats(
    cx: &ReqCtx<'_>,
    fe: &Arc<ProxyRt>,
    head: Box<ReqHead>,
    body: ReqBody,
    mut end: Box<TxnEnd>,
    sw: Switches,
) -> Reply {
    end.log.level = sw.log_level.unwrap_or(LogLevel::Info);
    end.log.server = Arc::from("<STATS>");
    fe.live.fe.intercepted.fetch_add(1, Relaxed);
    let origin = cx.conn.origin();
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
    let mut reply = simple(fe, None, r, end);
    // An admin form larger than we read cannot leave the connection usable.
    reply.close = !complete;
    reply
}
