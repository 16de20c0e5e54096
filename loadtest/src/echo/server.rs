//! Accept loop and the two SIGTERM behaviours.

use super::handler::{self, ConnInfo};
use super::{EchoConfig, EchoError, EchoState};
use http::StatusCode;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// A bound echo server; [`EchoServer::serve`] runs it.
#[derive(Debug)]
pub struct EchoServer {
    listener: TcpListener,
    local: SocketAddr,
    state: Arc<EchoState>,
    config: EchoConfig,
}

impl EchoServer {
    /// Binds the listening socket, so the address is known (and connectable) before serving.
    pub async fn bind(config: EchoConfig) -> Result<Self, EchoError> {
        let disabled = StatusCode::from_u16(config.disabled_status)
            .map_err(|_| EchoError::DisabledStatus(config.disabled_status))?;
        let state = EchoState::new(
            &config.name,
            &config.version,
            disabled,
            !config.start_disabled,
        )?;
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EchoError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| EchoError::Bind { addr, source })?;
        Ok(EchoServer {
            listener,
            local,
            state: Arc::new(state),
            config,
        })
    }

    /// The address actually bound (resolves port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Shared state, e.g. to toggle health from a test.
    pub fn state(&self) -> Arc<EchoState> {
        Arc::clone(&self.state)
    }

    /// Serves until `stop` completes, then shuts down: by default the listener closes at
    /// once; with `sigterm_503` it stays open for `grace_ms` answering 503. Either way
    /// in-flight requests finish (up to `drain_timeout_ms`) before this returns.
    pub async fn serve<F: Future<Output = ()>>(self, stop: F) -> Result<(), EchoError> {
        let EchoServer {
            listener,
            local,
            state,
            config,
        } = self;
        let graceful = GracefulShutdown::new();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => accept(accepted, &state, local, &graceful).await,
            }
        }
        if config.sigterm_503 {
            state.start_draining();
            let grace = tokio::time::sleep(Duration::from_millis(config.grace_ms));
            tokio::pin!(grace);
            loop {
                tokio::select! {
                    _ = &mut grace => break,
                    accepted = listener.accept() => accept(accepted, &state, local, &graceful).await,
                }
            }
        }
        drop(listener);
        let drain = Duration::from_millis(config.drain_timeout_ms);
        // A request still running after the drain timeout is cut: the process must exit.
        let _ = tokio::time::timeout(drain, graceful.shutdown()).await;
        Ok(())
    }
}

async fn accept(
    accepted: std::io::Result<(TcpStream, SocketAddr)>,
    state: &Arc<EchoState>,
    local: SocketAddr,
    graceful: &GracefulShutdown,
) {
    match accepted {
        Ok((stream, peer)) => {
            let _ = stream.set_nodelay(true);
            let state = Arc::clone(state);
            let conn = ConnInfo { peer, local };
            let service = service_fn(move |req| handler::handle(req, Arc::clone(&state), conn));
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service);
            let watched = graceful.watch(connection);
            tokio::spawn(async move {
                // A client that goes away mid-request is its own business.
                let _ = watched.await;
            });
        }
        // Out of descriptors or a connection reset before accept: back off briefly
        // instead of spinning.
        Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
    }
}
