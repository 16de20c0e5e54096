//! Accept loops, one per listening socket, with HAProxy's accept limits:
//! the global and per-frontend `maxconn` and `disable frontend` stop
//! accepting (connections wait in the kernel backlog) rather than refuse.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use switchyard_state::ProxyLive;
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::conn_task::ConnTask;
use crate::listeners::{BoundListener, Sock};
use crate::proxy::Shared;
use crate::release::ReleaseState;
use crate::request::ConnInfo;
use crate::shutdown::HardStop;
use crate::timing::Start;

/// The process-wide connection count (`actconn`) and its wake-up.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    active: AtomicU32,
    /// Accept loops waiting for a slot; a closing connection wakes them
    /// only when there are some.
    waiting: AtomicU32,
    freed: Notify,
}

impl Limits {
    pub(crate) fn actconn(&self) -> u32 {
        self.active.load(Ordering::Relaxed)
    }
}

/// Counts one client connection on the process and its frontend.
pub(crate) struct ConnCount {
    shared: Arc<Shared>,
    fe: Arc<ProxyLive>,
}

impl ConnCount {
    pub(crate) fn new(shared: Arc<Shared>, fe: Arc<ProxyLive>) -> ConnCount {
        shared.limits.active.fetch_add(1, Ordering::AcqRel);
        fe.fe.session_start();
        fe.fe.conn_tot.fetch_add(1, Ordering::Relaxed);
        fe.fe.conn_rate.add(1);
        ConnCount { shared, fe }
    }
}

impl Drop for ConnCount {
    fn drop(&mut self) {
        self.fe.fe.session_end();
        self.shared.limits.active.fetch_sub(1, Ordering::AcqRel);
        if self.shared.limits.waiting.load(Ordering::Acquire) > 0 {
            self.shared.limits.freed.notify_waiters();
        }
    }
}

/// Run accept loops for the current listener set until a stop; follows
/// [`crate::Proxy::set_listeners`] changes, and gives the sockets up when
/// [`crate::Proxy::release_listeners`] asks.
pub(crate) async fn supervise(shared: Arc<Shared>) {
    let mut rx = shared.listeners.subscribe();
    let mut release = shared.release.subscribe();
    let mut running: HashMap<u64, JoinHandle<()>> = HashMap::new();
    let mut stop = Box::pin(shared.shutdown.stop_requested());
    loop {
        let current = rx.borrow_and_update().clone();
        let asked = *release.borrow_and_update();
        if let ReleaseState::Asked(how) = asked {
            // The loops must be gone (not just told) before the queues are
            // drained: one still running would race for the connections
            // and, finding the socket shut down, listen again.
            for (_, h) in running.drain() {
                h.abort();
                let _ = h.await;
            }
            crate::release::give_up(&shared, &current, how);
            break;
        }
        let ids: Vec<u64> = current.shared().iter().map(|l| l.id).collect();
        running.retain(|id, h| {
            let keep = ids.contains(id);
            if !keep {
                h.abort();
            }
            keep
        });
        for l in current.shared() {
            running
                .entry(l.id)
                .or_insert_with(|| tokio::spawn(accept_loop(shared.clone(), l.clone())));
        }
        tokio::select! {
            r = rx.changed() => if r.is_err() { break },
            r = release.changed() => if r.is_err() { break },
            _ = &mut stop => break,
        }
    }
    for (_, h) in running.drain() {
        h.abort();
    }
    // Drop our references to the sockets so they close once the binary
    // drops its copy.
    shared.listeners.send_replace(crate::Listeners::empty());
    shared.release.send_replace(ReleaseState::Done);
}

/// Whether a socket found not listening may listen again: never once the
/// sockets are being given up (a soft stop), or the socket would rejoin
/// its SO_REUSEPORT group and take connections it then resets.
fn may_relisten(shared: &Shared) -> bool {
    !shared.release.borrow().giving_up() && !shared.shutdown.is_stopping()
}

/// What an accept loop may do next.
enum Admit {
    /// Accept one connection for this frontend.
    Go(Arc<ProxyLive>),
    /// The frontend is not in the snapshot (being removed by a reload).
    Gone,
    /// `shutdown frontend`: release the port.
    Stopped,
}

/// Wait until the accept limits allow one more connection on `frontend`.
async fn admit(shared: &Shared, frontend: &str) -> Admit {
    loop {
        let freed = shared.limits.freed.notified();
        let (live, fe_max, global_max) = {
            let snap = shared.store.load();
            let Some(p) = snap.proxy_idx(frontend).and_then(|i| snap.proxy(i)) else {
                return Admit::Gone;
            };
            if p.live.fe_stopped.load(Ordering::Relaxed) {
                return Admit::Stopped;
            }
            let fe_max = p.fe_maxconn().unwrap_or(u32::MAX);
            let global = snap.config.global.maxconn.unwrap_or(u32::MAX);
            (p.live.clone(), fe_max, global)
        };
        let paused = live.fe_paused.load(Ordering::Relaxed);
        if !paused
            && shared.limits.actconn() < global_max
            && live.fe.scur.load(Ordering::Relaxed) < fe_max
        {
            return Admit::Go(live);
        }
        // Re-check on a freed connection, or periodically for `enable frontend`.
        shared.limits.waiting.fetch_add(1, Ordering::AcqRel);
        let _ = tokio::time::timeout(Duration::from_millis(100), freed).await;
        shared.limits.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How often an idle accept loop looks at its frontend's state again.
const RECHECK: Duration = Duration::from_millis(50);

/// The listen backlog when a socket listens again (as `Listeners` binds).
const RELISTEN_BACKLOG: i32 = 1024;

/// `shutdown frontend`: stop listening, so new connections are refused as
/// HAProxy's released port refuses them; connections already accepted
/// carry on. On Linux, `shutdown(SHUT_RD)` on a listening socket takes it
/// out of the LISTEN state (HAProxy pauses listeners the same way) while it
/// stays bound, so every copy of the descriptor (the binary keeps one for
/// reloads) stops at once. If the frontend comes back (a reload that
/// resets it), listen again.
async fn stopped(shared: &Shared, frontend: &str, tl: &TcpListener) {
    let _ = socket2::SockRef::from(tl).shutdown(std::net::Shutdown::Read);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let snap = shared.store.load();
        let stopped = snap
            .proxy_idx(frontend)
            .and_then(|i| snap.proxy(i))
            .map(|p| p.live.fe_stopped.load(Ordering::Relaxed));
        if stopped == Some(false) {
            break;
        }
    }
    if may_relisten(shared) {
        let _ = socket2::SockRef::from(tl).listen(RELISTEN_BACKLOG);
    }
}

async fn accept_loop(shared: Arc<Shared>, l: Arc<BoundListener>) {
    match &l.sock {
        Sock::Tcp(s) => {
            let Ok(dup) = s.try_clone() else { return };
            let Ok(tl) = TcpListener::from_std(dup) else {
                return;
            };
            let tls = crate::tls::TlsListener::of(&l);
            loop {
                let fe = match admit(&shared, l.frontend()).await {
                    Admit::Go(fe) => fe,
                    Admit::Gone => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    Admit::Stopped => {
                        stopped(&shared, l.frontend(), &tl).await;
                        continue;
                    }
                };
                // Wake up now and then to notice `shutdown frontend` or
                // `disable frontend` while no connection comes.
                let accepted = tokio::select! {
                    r = tl.accept() => r,
                    _ = tokio::time::sleep(RECHECK) => continue,
                };
                match accepted {
                    Ok((stream, _)) if fe.fe_stopped.load(Ordering::Relaxed) => {
                        // Raced with `shutdown frontend`: not served.
                        drop(stream);
                    }
                    Ok((stream, peer)) => match &tls {
                        None => serve_tcp(&shared, &l, fe, stream, peer),
                        Some(t) => {
                            let _ = stream.set_nodelay(true);
                            let local = stream.local_addr().ok();
                            crate::tls::serve(&shared, t, fe, stream, Some(peer), local);
                        }
                    },
                    Err(e) => {
                        // EINVAL: the socket is not listening (a previous
                        // `shutdown frontend`, here or in a process that
                        // passed it on); listen again, unless stopping.
                        if e.kind() == std::io::ErrorKind::InvalidInput && may_relisten(&shared) {
                            let _ = socket2::SockRef::from(&tl).listen(RELISTEN_BACKLOG);
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }
        Sock::Unix(s) => {
            let Ok(dup) = s.try_clone() else { return };
            let Ok(ul) = UnixListener::from_std(dup) else {
                return;
            };
            let tls = crate::tls::TlsListener::of(&l);
            loop {
                let fe = match admit(&shared, l.frontend()).await {
                    Admit::Go(fe) => fe,
                    // A stopped frontend's unix socket just stops accepting.
                    Admit::Gone | Admit::Stopped => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let accepted = tokio::select! {
                    r = ul.accept() => r,
                    _ = tokio::time::sleep(RECHECK) => continue,
                };
                match accepted {
                    Ok(_) if fe.fe_stopped.load(Ordering::Relaxed) => {}
                    Ok((stream, _)) => match &tls {
                        None => serve_unix(&shared, &l, fe, stream),
                        Some(t) => crate::tls::serve(&shared, t, fe, stream, None, None),
                    },
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        }
    }
}

/// Serve a connection accepted on the TCP socket `l`.
pub(crate) fn serve_tcp(
    shared: &Arc<Shared>,
    l: &BoundListener,
    fe: Arc<ProxyLive>,
    stream: TcpStream,
    peer: SocketAddr,
) {
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().ok();
    let info = ConnInfo {
        frontend: l.frontend_arc(),
        client: Some(peer),
        local,
        tls: None,
        h2_preface: l.bind_cfg().proto.is_none(),
    };
    let (rd, wr) = stream.into_split();
    spawn_conn(shared.clone(), fe, info, rd, wr, h2_only(l));
}

/// Serve a connection accepted on the unix socket `l`.
pub(crate) fn serve_unix(
    shared: &Arc<Shared>,
    l: &BoundListener,
    fe: Arc<ProxyLive>,
    stream: UnixStream,
) {
    let info = ConnInfo {
        frontend: l.frontend_arc(),
        client: None,
        local: None,
        tls: None,
        h2_preface: l.bind_cfg().proto.is_none(),
    };
    let (rd, wr) = stream.into_split();
    spawn_conn(shared.clone(), fe, info, rd, wr, h2_only(l));
}

/// `bind ... proto h2`: the listener speaks HTTP/2 only.
pub(crate) fn h2_only(l: &BoundListener) -> bool {
    l.bind_cfg().proto == Some(switchyard_config::BindProto::H2)
}

fn spawn_conn<R, W>(shared: Arc<Shared>, fe: Arc<ProxyLive>, info: ConnInfo, rd: R, wr: W, h2: bool)
where
    R: crate::h1::ClientRead + 'static,
    W: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let accepted = Start::now();
    let guards = (
        ConnCount::new(shared.clone(), fe),
        shared.shutdown.conn_guard(),
    );
    if connect_log(&shared, &info) {
        // Boxed: TCP mode is rare, so its state should not size every
        // HTTP connection's task.
        let hard = shared.shutdown.hard_requested();
        let serve = Box::pin(crate::tcp::serve(shared, info, rd, wr, accepted));
        tokio::spawn(ConnTask::new(serve, hard, guards));
    } else if h2 {
        let io = crate::http2::Prefixed::new(bytes::BytesMut::new(), rd, wr);
        tokio::spawn(h2_task(shared, info, io, accepted, guards));
    } else {
        tokio::spawn(http_task(shared, info, rd, wr, accepted, guards));
    }
}

/// The task of an HTTP connection: what every idle keep-alive client
/// costs, so its size is watched (see the test below).
pub(crate) fn http_task<R, W, G>(
    shared: Arc<Shared>,
    info: ConnInfo,
    rd: R,
    wr: W,
    accepted: Start,
    guards: G,
) -> ConnTask<impl std::future::Future<Output = ()> + Send, HardStop, G>
where
    R: crate::h1::ClientRead + 'static,
    W: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let hard = shared.shutdown.hard_requested();
    ConnTask::new(
        crate::conn::serve(shared, info, rd, wr, accepted),
        hard,
        guards,
    )
}

/// The task of an HTTP/2 connection (boxed: rarer than HTTP/1, its state
/// should not size every HTTP/1 connection's task).
pub(crate) fn h2_task<IO, G>(
    shared: Arc<Shared>,
    info: ConnInfo,
    io: IO,
    accepted: Start,
    guards: G,
) -> ConnTask<impl std::future::Future<Output = ()> + Send, HardStop, G>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let hard = shared.shutdown.hard_requested();
    ConnTask::new(
        Box::pin(crate::http2::serve(shared, info, io, accepted)),
        hard,
        guards,
    )
}

/// Without `option httplog`/`tcplog` (and no `log-format`), HAProxy logs
/// each connection as `Connect from <ip:port> to <ip:port> (<fe>/HTTP)`.
/// Returns whether the frontend is in TCP mode.
pub(crate) fn connect_log(shared: &Shared, info: &ConnInfo) -> bool {
    let snap = shared.store.load();
    let Some(p) = snap.proxy_idx(&info.frontend).and_then(|i| snap.proxy(i)) else {
        return false;
    };
    let tcp = p.cfg.mode == switchyard_config::Mode::Tcp;
    if p.cfg.logs.is_empty() || crate::log::format_of(&p.cfg).is_some() {
        return tcp;
    }
    let (Some(c), Some(l)) = (info.client, info.local) else {
        return tcp;
    };
    let mode = if tcp { "TCP" } else { "HTTP" };
    let text = format!("Connect from {c} to {l} ({}/{mode})", p.name);
    shared.logger.text(
        Arc::new(p.cfg.logs.clone()),
        switchyard_config::LogLevel::Info,
        text,
    );
    tcp
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_state::{NoServices, Store};

    /// Idle keep-alive connections cost their task's allocation: tokio adds
    /// 104 bytes to the future and rounds to 128, and the allocator's next
    /// class above 512 bytes is 768. A task of at most 536 bytes stays in
    /// the 640-byte cell. This holds the measured per-connection memory
    /// (BENCHMARKS.md) from growing unnoticed: a new field kept across the
    /// keep-alive wait has to be paid for somewhere else.
    #[tokio::test]
    async fn an_idle_http_connection_task_stays_small() {
        let text = "defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:1\n";
        let config = switchyard_config::parse_str("t.cfg", text).expect("config");
        let snap = switchyard_state::build(Arc::new(config), None, &|_| None).expect("snapshot");
        let store = Arc::new(Store::new(snap));
        let proxy = crate::Proxy::new(store, Arc::new(NoServices));
        let shared = proxy.shared.clone();

        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = TcpStream::connect(l.local_addr().expect("addr"))
            .await
            .expect("connect");
        let (server, peer) = l.accept().await.expect("accept");
        let info = ConnInfo {
            frontend: Arc::from("fe"),
            client: Some(peer),
            local: server.local_addr().ok(),
            tls: None,
            h2_preface: true,
        };
        let (rd, wr) = server.into_split();
        let live = {
            let snap = shared.store.load();
            let fe = snap.proxy_idx("fe").and_then(|i| snap.proxy(i));
            fe.expect("frontend").live.clone()
        };
        let guards = (
            ConnCount::new(shared.clone(), live),
            shared.shutdown.conn_guard(),
        );
        let task = http_task(shared.clone(), info, rd, wr, Start::now(), guards);
        let size = std::mem::size_of_val(&task);
        assert!(
            size <= 536,
            "an HTTP connection task is {size} bytes (at most 536)"
        );
        drop(client);
    }
}
