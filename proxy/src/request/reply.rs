//! The reply to a request and the bookkeeping done once it is sent.

use std::borrow::Cow;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use switchyard_state::{ProxyLive, ProxyRt, ServerLive};

use crate::error::Cause;
use crate::log::LogRecord;
use crate::pages;
use crate::proxy::Shared;
use crate::timing::Start;
use crate::upstream::{Conn, Lease, UpBody};

/// A response body.
pub(crate) enum RespBody {
    Empty,
    Full(Bytes),
    Upstream(Box<UpBody>),
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
    /// and `bout` measure for forwarded responses); for a `raw` page, its
    /// whole count where `htx_size_raw` would not give it; else `None`.
    pub(crate) htx_head: Option<u64>,
    /// A `101 Switching Protocols` from the server: the upgraded connection.
    pub(crate) upgrade: Option<Conn>,
    /// The server answered HTTP/1.0: its status line keeps that version.
    pub(crate) http10: bool,
    /// Interim (1xx) responses to send first, encoded.
    pub(crate) interim: Vec<u8>,
    pub(crate) end: Box<TxnEnd>,
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
    /// When the exchange ended, if the connection then still waited for
    /// the client (the rest of an unread upload): `%Ta` stops here, as
    /// HAProxy's stream ends with its response.
    pub(crate) ended: Option<std::time::Instant>,
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
    pub(crate) fn finish(
        mut self: Box<Self>,
        shared: &Shared,
        bytes: u64,
        bin: u64,
        term: Option<[u8; 2]>,
    ) {
        let ta = match self.ended {
            Some(t) => self.start.ms(t),
            None => self.start.elapsed(),
        };
        self.log.times.ta = ta;
        self.log.bytes = bytes;
        self.log.bytes_in = bin;
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
        self.log.actconn = shared.limits.actconn();
        self.log.feconn = self.fe_live.fe.scur.load(Relaxed);
        if !self.no_log {
            shared.logger.record(self.log);
        }
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
pub(crate) fn page(
    fe: &ProxyRt,
    be: Option<&ProxyRt>,
    status: u16,
    mut end: Box<TxnEnd>,
    term: [u8; 2],
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

/// What `connection: close` adds to a page's HAProxy byte count.
const CLOSE_HTX: u64 = ("connection".len() + "close".len()) as u64;

/// The error page for `cause`, with its counters and termination code; no
/// response at all (status 0) when the client is gone.
pub(crate) fn error(
    fe: &ProxyRt,
    be: Option<&ProxyRt>,
    cause: Cause,
    mut end: Box<TxnEnd>,
) -> Reply {
    match cause.status() {
        // A broken request body leaves the connection unusable: HAProxy's
        // 400 says `connection: close`, as part of the page (its `%B`
        // counts it).
        Some(status) if cause == Cause::ClientInvalid => {
            let mut r = page(fe, be, status, end, cause.term());
            if let Some(p) = r.raw.take() {
                // The size HAProxy logs (`htx_size_raw` leaves connection
                // headers out, which only the H1 layer adds elsewhere).
                r.htx_head = Some(crate::h1::htx_size_raw(&p) + CLOSE_HTX);
                r.raw = Some(pages::with_close(&p));
            }
            r.close = true;
            r
        }
        Some(status) => page(fe, be, status, end, cause.term()),
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
                http10: false,
                interim: Vec::new(),
                end,
            }
        }
    }
}
