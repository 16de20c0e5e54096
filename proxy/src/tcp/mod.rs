//! `mode tcp` (HAProxy's default mode): a frontend's connection is switched
//! to a backend by `use_backend`/`default_backend` rules on layer-4 facts,
//! the backend's balancer picks a server (queueing behind `maxconn`,
//! retrying and redispatching failed connects), and bytes are relayed both
//! ways until the stream ends. One `option tcplog` line per stream.
//!
//! HTTP-only settings are ignored here as HAProxy ignores them in TCP mode
//! (it warns at startup): `http-request`/`http-response` rules, cookies,
//! `option forwardfor`, and the layer-7 `balance` hashes (round robin
//! instead). A TCP frontend whose stream is switched to an HTTP backend is
//! served as HTTP, as HAProxy upgrades such streams.

mod connect;
mod relay;
mod view;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use switchyard_config::Mode;
use switchyard_state::{ProxyLive, ProxyRt, ServerLive};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::error::Cause;
use crate::log::{LogRecord, Times};
use crate::proxy::Shared;
use crate::request::{BeSession, ConnInfo};
use crate::timing::Start;
use connect::Marks;
use relay::Relayed;
use view::L4View;

/// Serve one TCP-mode client connection until it ends.
pub(crate) async fn serve<R, W>(
    shared: Arc<Shared>,
    conn: ConnInfo,
    mut rd: R,
    wr: W,
    accepted: Start,
) where
    R: crate::h1::ClientRead,
    W: AsyncWrite + Unpin + Send,
{
    let snap = shared.store.load_full();
    let Some(fe_idx) = snap.proxy_idx(&conn.frontend) else {
        return;
    };
    let Some(fe) = snap.proxy(fe_idx).cloned() else {
        return;
    };
    let view = L4View {
        src: conn.src_ip(),
        dst_port: conn.dst_port(),
        tls: conn.tls.is_some(),
        cert: conn.client_cert(),
    };
    let be = snap
        .route(fe_idx, &view)
        .and_then(|i| snap.proxy(i).cloned());
    if be.as_ref().is_some_and(|b| b.cfg.mode == Mode::Http) {
        // HAProxy upgrades a TCP stream switched to an HTTP backend.
        drop(snap);
        let http = Box::pin(crate::conn::serve(shared, conn, rd, wr, accepted));
        return http.await;
    }
    drop(snap);

    let mut log = LogRecord::new(Some(fe.cfg.clone()), fe.name.clone(), accepted.date);
    log.client = conn.client;
    log.frontend_addr = conn.local;
    log.tls = conn.tls.clone();
    let mut st = Stream {
        fe_live: fe.live.clone(),
        be_sess: None,
        srv_live: None,
        marks: Marks::default(),
    };
    let Some(be) = be else {
        // No backend: the connection is closed (`fe/<NOSRV> ... SC`).
        let bin = unforwarded(&mut rd);
        st.finish(&shared, &accepted, log, (bin, 0), Cause::NoBackend.term());
        return;
    };
    let Some(backend) = be.backend.as_ref() else {
        let bin = unforwarded(&mut rd);
        st.finish(&shared, &accepted, log, (bin, 0), Cause::NoServer.term());
        return;
    };
    log.backend = be.name.clone();
    st.be_sess = Some(BeSession::start(be.live.clone()));

    let connected = connect::connect(
        &shared,
        &be,
        backend,
        &view,
        &mut log,
        &mut st.marks,
        &mut st.srv_live,
    )
    .await;
    let c = match connected {
        Ok(c) => c,
        Err(cause) => {
            // Killed while connecting: the connect phase (`KC`).
            let term = match cause {
                Cause::Killed => *b"KC",
                c => c.term(),
            };
            let bin = unforwarded(&mut rd);
            st.finish(&shared, &accepted, log, (bin, 0), term);
            return;
        }
    };
    let (t_client, t_server) = idle_timeouts(&fe, &be);
    let (srd, swr) = c.stream.into_split();
    let relayed = relay::relay(
        rd,
        wr,
        srd,
        swr,
        t_client,
        t_server,
        &c.kill,
        shared.shutdown.hard_requested(),
    )
    .await;
    // The stream leaves its server before it is logged (`%sc` excludes it).
    drop(c.slot);
    count_aborts(&relayed, &be, st.srv_live.as_deref());
    let bytes = (relayed.from_client, relayed.to_client);
    st.finish(&shared, &accepted, log, bytes, relayed.term);
}

/// What the client sent that no server will take: HAProxy has read it into
/// its buffer meanwhile and counts it in `bin`. Only what is already there.
fn unforwarded<R: AsyncRead + Unpin>(rd: &mut R) -> u64 {
    let mut buf = [0u8; 4096];
    let mut n = 0u64;
    while n < 16 * 1024 {
        match rd.read(&mut buf).now_or_never() {
            Some(Ok(k)) if k > 0 => n += k as u64,
            _ => break,
        }
    }
    n
}

/// The idle timeouts once connected: `timeout client` and `timeout server`,
/// both replaced by the backend's `timeout tunnel` when it is set.
fn idle_timeouts(
    fe: &ProxyRt,
    be: &ProxyRt,
) -> (Option<std::time::Duration>, Option<std::time::Duration>) {
    match be.cfg.timeouts.tunnel {
        Some(t) => (Some(t), Some(t)),
        None => (fe.cfg.timeouts.client, be.cfg.timeouts.server),
    }
}

/// Client and server aborts in the data phase (`cli_abrt`, `srv_abrt`).
fn count_aborts(r: &Relayed, be: &ProxyRt, srv: Option<&ServerLive>) {
    let (cli, srv_side) = match &r.term {
        b"CD" => (true, false),
        b"SD" => (false, true),
        _ => return,
    };
    if cli {
        be.live.be.cli_abrt.fetch_add(1, Relaxed);
        if let Some(s) = srv {
            s.counters.cli_abrt.fetch_add(1, Relaxed);
        }
    }
    if srv_side {
        be.live.be.srv_abrt.fetch_add(1, Relaxed);
        if let Some(s) = srv {
            s.counters.srv_abrt.fetch_add(1, Relaxed);
        }
    }
}

/// What a stream holds until it is logged.
struct Stream {
    fe_live: Arc<ProxyLive>,
    be_sess: Option<BeSession>,
    srv_live: Option<Arc<ServerLive>>,
    marks: Marks,
}

impl Stream {
    /// Counters, time averages and the `option tcplog` line. HAProxy's TCP
    /// timers: `%Tw` is the queue time minus `%TR`, which is -1 in TCP mode
    /// (so one more than the time to the server assignment), `%Tc` the
    /// connect time after that, `%Tt` the whole stream.
    fn finish(
        mut self,
        shared: &Shared,
        accepted: &Start,
        mut log: LogRecord,
        (bin, bout): (u64, u64),
        term: [u8; 2],
    ) {
        let ms = |t: Option<Instant>| t.map(|t| accepted.ms(t));
        let t_queue = ms(self.marks.queued);
        let t_connect = ms(self.marks.connected);
        let t_close = accepted.elapsed();
        log.times = Times {
            tr: -1,
            tw: t_queue.map(|q| q + 1).unwrap_or(-1),
            tc: match (t_connect, t_queue) {
                (Some(c), Some(q)) => c - q,
                _ => -1,
            },
            tresp: -1,
            ta: t_close,
        };
        log.bytes = bout;
        log.bytes_in = bin;
        log.term[0] = term[0];
        log.term[1] = term[1];

        let fe = &self.fe_live.fe;
        fe.bin.fetch_add(bin, Relaxed);
        fe.bout.fetch_add(bout, Relaxed);
        let be = self.be_sess.as_ref().map(|b| &b.0.be);
        let srv = self.srv_live.as_ref().map(|s| &s.counters);
        for c in be.into_iter().chain(srv) {
            c.bin.fetch_add(bin, Relaxed);
            c.bout.fetch_add(bout, Relaxed);
            // HAProxy's stream_update_time_stats, for connected streams.
            if let (Some(q), Some(cn)) = (t_queue, t_connect) {
                c.qtime.add(q.max(0) as u64);
                c.ctime.add((cn - q).max(0) as u64);
                c.rtime.add(0);
                c.ttime.add(t_close.max(0) as u64);
            }
        }

        // Logged after leaving the backend and the server.
        let be_live = self.be_sess.take().map(|s| s.0.clone());
        if let Some(b) = be_live {
            log.beconn = b.be.scur.load(Relaxed);
        }
        if let Some(s) = &self.srv_live {
            log.srvconn = s.cur_conns.load(Relaxed);
        }
        log.actconn = shared.limits.actconn();
        log.feconn = self.fe_live.fe.scur.load(Relaxed);
        let null = bin == 0 && log.proxy.as_ref().is_some_and(|p| p.options.dontlognull);
        if !null {
            shared.logger.record(log);
        }
    }
}
