//! Requests that end before they have a head: the H1 layer's 408 and 400
//! pages and the `<BADREQ>` log lines.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use switchyard_config::LogLevel;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::log::{LogRecord, Times};
use crate::pages;
use crate::proxy::Shared;
use crate::request::ConnInfo;
use crate::timing::Start;

/// Log a request that never got a head (`<BADREQ>`).
pub(crate) fn early_log(
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
    log.tls = conn.tls.clone();
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
    log.feconn = fe_live(shared, conn)
        .map(|l| l.fe.scur.load(Relaxed))
        .unwrap_or(0);
    log.level = LogLevel::Info;
    shared.logger.record(log);
}

fn fe_live(shared: &Shared, conn: &ConnInfo) -> Option<Arc<switchyard_state::ProxyLive>> {
    let snap = shared.store.load();
    let idx = snap.proxy_idx(&conn.frontend)?;
    snap.proxy(idx).map(|p| p.live.clone())
}

/// `timeout http-request` expired: HAProxy's 408 page, then close.
pub(super) async fn request_timeout<W: AsyncWrite + Unpin>(
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

/// A malformed request: HAProxy's 400 page (422 for a transfer coding it
/// cannot process), then close.
pub(super) async fn bad_request<W: AsyncWrite + Unpin>(
    shared: &Shared,
    conn: &ConnInfo,
    fe: &Arc<switchyard_config::Proxy>,
    wr: &mut W,
    start: Start,
    status: u16,
) {
    let _ = wr.write_all(&pages::early_page(status)).await;
    let _ = wr.shutdown().await;
    count_bad_request(shared, conn, status);
    early_log(shared, conn, fe, start, i32::from(status), *b"PR");
}

/// Count a request refused before it had a head (`ereq` and its status).
pub(crate) fn count_bad_request(shared: &Shared, conn: &ConnInfo, status: u16) {
    if let Some(l) = fe_live(shared, conn) {
        l.fe.ereq.fetch_add(1, Relaxed);
        l.fe.count_status(status);
    }
}
