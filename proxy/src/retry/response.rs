//! The response path from the server to the client.

use std::borrow::Cow;
use std::sync::atomic::Ordering::Relaxed;

use http::header::CONNECTION;
use switchyard_state::{BackendRt, ProxyRt, ServerRt};

use crate::cookie;
use crate::h1::ReqHead;
use crate::headers;
use crate::request::{count_status, Reply, RespBody, TxnEnd};
use crate::rules::{self, Origin, Switches};
use crate::upstream::{Answer, Lease, UpBody};

/// The response path: hop-by-hop removal, cookies, `http-response` rules
/// (backend's, then frontend's), counters.
#[allow(clippy::too_many_arguments)]
pub(super) fn response(
    snap: &switchyard_state::Snapshot,
    fe: &ProxyRt,
    be: &ProxyRt,
    backend: &BackendRt,
    srv: &ServerRt,
    head: &ReqHead,
    origin: &Origin,
    answer: Answer,
    mut lease: Lease,
    mut end: Box<TxnEnd>,
    sw: &mut Switches,
    direct: bool,
) -> Reply {
    let keeps_alive = answer.head.keeps_alive();
    let Answer {
        head: resp,
        conn,
        dec,
        kind,
        reusable,
    } = answer;
    let status = resp.status;
    let reason: Cow<'static, str> = resp.reason;
    let mut headers = resp.headers;
    let htx_head = {
        let hs: usize = headers
            .iter()
            .filter(|(n, _)| *n != CONNECTION)
            .map(|(n, v)| n.as_str().len() + v.len())
            .sum();
        (20 + 8 + 3 + reason.len() + hs + 1) as u64
    };
    if !keeps_alive || !reusable {
        lease.reusable = false;
    }
    // The server's `Transfer-Encoding` (`chunked` alone, by now) stays in
    // place and as spelt, as in HAProxy.
    headers::connection_header(&mut headers, true);
    if status == 101 {
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
        if cookie::flags_logged(ck) {
            end.log.term[3] = flag;
        }
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
    let (body, upgrade) = if status == 101 {
        (RespBody::Empty, Some(conn))
    } else {
        let body = UpBody::new(conn, dec, kind, lease.reusable);
        (RespBody::Upstream(Box::new(body)), None)
    };
    Reply {
        status,
        reason,
        headers,
        body,
        raw: None,
        close: false,
        lease: Some(lease),
        htx_head: Some(htx_head),
        upgrade,
        http10: resp.http10,
        interim: resp.interim,
        end,
    }
}
