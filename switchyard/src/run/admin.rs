//! The admin side — Runtime API sockets and health checks — on its own
//! thread with a current-thread runtime, so a saturated proxy cannot delay
//! `show stat` or make a check time out. The accept loops are ours (not the
//! admin crate's `serve_on`) because a socket with `expose-fd listeners`
//! must also answer `_getsocks`; every session is still the admin crate's.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use switchyard_admin::{AdminCtx, AdminServices, Env, ServeOptions, StdListener};
use switchyard_config::CliLevel;
use switchyard_state::{Services, Store};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::statsock::StatsListener;
use crate::fdpass::{self, FdSource};

/// Stats sockets bound before privileges are dropped.
pub struct BoundAdmin {
    pub sockets: Vec<StatsListener>,
    pub opts: ServeOptions,
}

/// What the proxy calls for the stats page and `http-request use-service`.
pub fn services(ctx: Arc<AdminCtx>) -> Arc<dyn Services> {
    Arc::new(AdminServices::new(ctx))
}

/// Hands the admin thread the stats sockets of a reloaded configuration.
#[derive(Clone)]
pub struct AdminSockets {
    tx: mpsc::UnboundedSender<BoundAdmin>,
}

impl AdminSockets {
    /// Serve `next` instead of the current sockets (sockets kept across the
    /// reload are the same sockets: nothing is refused meanwhile).
    pub fn replace(&self, next: BoundAdmin) {
        let _ = self.tx.send(next);
    }
}

/// Start health checks and the Runtime API on a dedicated thread. The
/// stats sockets stop accepting once `stop` resolves (a soft stop: the
/// successor serves them); checks go on as long as the process lives.
pub fn spawn_thread(
    bound: BoundAdmin,
    store: Arc<Store>,
    ctx: Arc<AdminCtx>,
    fds: Arc<FdSource>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<AdminSockets> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the admin runtime")?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("switchyard-admin".into())
        .spawn(move || {
            runtime.block_on(async move {
                let _health = switchyard_health::start(store.clone());
                let mut loops = tokio::task::JoinSet::new();
                serve(&mut loops, bound, &store, &ctx, &fds);
                tokio::pin!(stop);
                loop {
                    tokio::select! {
                        _ = &mut stop => break,
                        Some(next) = rx.recv() => {
                            loops.abort_all();
                            serve(&mut loops, next, &store, &ctx, &fds);
                        }
                    }
                }
                // Closes our copies of the stats sockets, and any set a
                // reload racing with the stop sent meanwhile.
                loops.abort_all();
                drop(rx);
                std::future::pending::<()>().await;
            });
        })
        .context("starting the admin thread")?;
    Ok(AdminSockets { tx })
}

/// Start one accept loop per socket.
fn serve(
    loops: &mut tokio::task::JoinSet<()>,
    bound: BoundAdmin,
    store: &Arc<Store>,
    ctx: &Arc<AdminCtx>,
    fds: &Arc<FdSource>,
) {
    let BoundAdmin { sockets, opts } = bound;
    let env = Arc::new(Env {
        store: store.clone(),
        ctx: ctx.clone(),
        sockets: sockets
            .iter()
            .map(|s| (s.socket.addr.clone(), s.socket.level))
            .collect(),
    });
    let slots = Arc::new(Semaphore::new(opts.maxconn as usize));
    for s in sockets {
        let cx = Accepting {
            env: env.clone(),
            slots: slots.clone(),
            timeout: opts.timeout,
            level: s.socket.level,
            fds: s.expose_fd.then(|| fds.clone()),
        };
        match accept_loop(s.socket.listener, cx) {
            Ok(fut) => {
                loops.spawn(fut);
            }
            Err(e) => switchyard_state::events::alert(&format!("Runtime API socket unusable: {e}")),
        }
    }
}

/// What every connection on one socket needs.
struct Accepting {
    env: Arc<Env>,
    slots: Arc<Semaphore>,
    timeout: Duration,
    level: CliLevel,
    /// Set on `expose-fd listeners` sockets.
    fds: Option<Arc<FdSource>>,
}

/// The accept loop of one socket (`stats maxconn` sessions at most).
fn accept_loop(
    listener: StdListener,
    cx: Accepting,
) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    enum L {
        Tcp(tokio::net::TcpListener),
        Unix(tokio::net::UnixListener),
    }
    let l = match listener {
        StdListener::Tcp(l) => L::Tcp(tokio::net::TcpListener::from_std(l)?),
        StdListener::Unix(l) => L::Unix(tokio::net::UnixListener::from_std(l)?),
    };
    Ok(async move {
        loop {
            let Ok(permit) = cx.slots.clone().acquire_owned().await else {
                return;
            };
            let accepted = match &l {
                L::Tcp(t) => t.accept().await.map(|(io, _)| Conn::Tcp(io)),
                L::Unix(u) => u.accept().await.map(|(io, _)| Conn::Unix(io)),
            };
            match accepted {
                Ok(conn) => {
                    tokio::spawn(session(conn, &cx, permit));
                }
                Err(e) => {
                    tracing::warn!("stats socket accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    })
}

enum Conn {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

fn session(
    conn: Conn,
    cx: &Accepting,
    permit: OwnedSemaphorePermit,
) -> impl Future<Output = ()> + Send + 'static {
    let (env, level, timeout, fds) = (cx.env.clone(), cx.level, cx.timeout, cx.fds.clone());
    async move {
        match (conn, fds) {
            (Conn::Unix(io), Some(fds)) => {
                fdpass::serve_connection(io, level, env, timeout, fds).await
            }
            (Conn::Unix(io), None) => switchyard_admin::handle(io, level, env, timeout).await,
            (Conn::Tcp(io), _) => switchyard_admin::handle(io, level, env, timeout).await,
        }
        drop(permit);
    }
}
