//! The async side: accept on every bound stats socket, run one [`Session`]
//! per connection, enforce `stats maxconn` and the idle timeout
//! (`stats timeout`, or `set timeout cli`). Meant for the admin thread's
//! current-thread runtime; nothing here blocks.

use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use switchyard_config::CliLevel;
use switchyard_state::Store;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;

use super::bind::{bind_sockets, AdminError, AdminListeners, StdListener};
use crate::ctx::AdminCtx;
use crate::exec::Env;
use crate::session::{Progress, Session};

/// Limits of the CLI listeners.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// `stats timeout`: idle time before a session is closed.
    pub timeout: Duration,
    /// `stats maxconn`: concurrent sessions.
    pub maxconn: u32,
}

impl ServeOptions {
    pub fn from_config(cfg: &switchyard_config::Config) -> ServeOptions {
        ServeOptions {
            timeout: cfg.global.stats_timeout,
            maxconn: cfg.global.stats_maxconn.max(1),
        }
    }
}

/// Bind every `stats socket` of the current config and serve them forever.
pub async fn serve(store: Arc<Store>, ctx: Arc<AdminCtx>) -> Result<(), AdminError> {
    let cfg = store.load().config.clone();
    let listeners = bind_sockets(&cfg)?;
    serve_on(listeners, store, ctx, ServeOptions::from_config(&cfg)).await
}

/// Serve already-bound sockets forever.
pub async fn serve_on(
    listeners: AdminListeners,
    store: Arc<Store>,
    ctx: Arc<AdminCtx>,
    opts: ServeOptions,
) -> Result<(), AdminError> {
    serve_until(listeners, store, ctx, opts, std::future::pending()).await
}

/// Serve already-bound sockets until `stop` completes (open sessions are
/// then dropped).
pub async fn serve_until(
    listeners: AdminListeners,
    store: Arc<Store>,
    ctx: Arc<AdminCtx>,
    opts: ServeOptions,
    stop: impl Future<Output = ()>,
) -> Result<(), AdminError> {
    let env = Arc::new(Env {
        store,
        ctx,
        sockets: listeners.describe(),
    });
    let slots = Arc::new(Semaphore::new(opts.maxconn as usize));
    let mut tasks = tokio::task::JoinSet::new();
    for s in listeners.sockets {
        let (env, slots, level) = (env.clone(), slots.clone(), s.level);
        match s.listener {
            StdListener::Tcp(l) => {
                let l = tokio::net::TcpListener::from_std(l)?;
                tasks.spawn(async move {
                    loop {
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            return;
                        };
                        match l.accept().await {
                            Ok((io, _)) => {
                                let env = env.clone();
                                tokio::spawn(async move {
                                    handle(io, level, env, opts.timeout).await;
                                    drop(permit);
                                });
                            }
                            Err(e) => {
                                tracing::warn!("stats socket accept: {e}");
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                });
            }
            StdListener::Unix(l) => {
                let l = tokio::net::UnixListener::from_std(l)?;
                tasks.spawn(async move {
                    loop {
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            return;
                        };
                        match l.accept().await {
                            Ok((io, _)) => {
                                let env = env.clone();
                                tokio::spawn(async move {
                                    handle(io, level, env, opts.timeout).await;
                                    drop(permit);
                                });
                            }
                            Err(e) => {
                                tracing::warn!("stats socket accept: {e}");
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                });
            }
        }
    }
    stop.await;
    tasks.abort_all();
    Ok(())
}

/// Run one CLI connection to its end.
pub async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    mut io: S,
    level: CliLevel,
    env: Arc<Env>,
    timeout: Duration,
) {
    env.ctx.cli_conns.fetch_add(1, Relaxed);
    env.ctx.cli_active.fetch_add(1, Relaxed);
    let _ = serve_conn(&mut io, level, &env, timeout).await;
    let _ = io.shutdown().await;
    env.ctx.cli_active.fetch_sub(1, Relaxed);
}

async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    level: CliLevel,
    env: &Env,
    default_timeout: Duration,
) -> std::io::Result<()> {
    let mut sess = Session::new(level, env.ctx.bufsize);
    let mut input: Vec<u8> = Vec::new();
    let mut out: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16384];
    let mut eof = false;
    loop {
        let t = sess.state.timeout.unwrap_or(default_timeout);
        match tokio::time::timeout(t, io.read(&mut buf)).await {
            Err(_) => return Ok(()),
            Ok(Ok(0)) => eof = true,
            Ok(Ok(n)) => input.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => return Err(e),
        }
        loop {
            let p = sess.run(&mut input, eof, env, &mut out);
            if !out.is_empty() {
                io.write_all(&out).await?;
                out.clear();
            }
            match p {
                Progress::More => continue,
                Progress::NeedMore => {
                    if eof {
                        return Ok(());
                    }
                    break;
                }
                Progress::Close => return Ok(()),
                Progress::Idle => {
                    // HAProxy closes once no request bytes are buffered;
                    // bytes that already reached us still count.
                    match io.read(&mut buf).now_or_never() {
                        Some(Ok(0)) => {
                            eof = true;
                            continue;
                        }
                        Some(Ok(n)) => {
                            input.extend_from_slice(&buf[..n]);
                            continue;
                        }
                        _ => return Ok(()),
                    }
                }
            }
        }
    }
}
