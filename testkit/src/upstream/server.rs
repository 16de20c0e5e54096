//! The fake upstream's handle: its own runtime thread, start/stop/restart on one port.

use super::conn;
use super::shared::Shared;
use super::{Behavior, RequestHead};
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// Longest wait for the accept loop to release the port on stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings for [`FakeUpstream`]; see [`FakeUpstream::builder`].
#[derive(Debug, Clone)]
pub struct FakeUpstreamBuilder {
    name: String,
    port: u16,
    behavior: Behavior,
    health_path: String,
    healthy: bool,
    health_down_status: u16,
}

impl FakeUpstreamBuilder {
    /// Port to bind on 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Initial behaviour (default [`Behavior::Echo`]).
    pub fn behavior(mut self, behavior: Behavior) -> Self {
        self.behavior = behavior;
        self
    }

    /// Path answered from the health flag (default `/health`); `POST <path>/enable` and
    /// `POST <path>/disable` set the flag.
    pub fn health_path(mut self, path: &str) -> Self {
        self.health_path = path.to_owned();
        self
    }

    /// Initial health flag (default true).
    pub fn healthy(mut self, healthy: bool) -> Self {
        self.healthy = healthy;
        self
    }

    /// Status of the health path while unhealthy (default 503; 404 for disable-on-404).
    pub fn health_down_status(mut self, status: u16) -> Self {
        self.health_down_status = status;
        self
    }

    /// Binds and starts serving.
    pub fn start(self) -> io::Result<FakeUpstream> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(format!("fake-{}", self.name))
            .enable_all()
            .build()?;
        let shared = Arc::new(Shared::new(
            &self.name,
            &self.health_path,
            self.behavior,
            self.healthy,
            self.health_down_status,
        ));
        let mut upstream = FakeUpstream {
            shared,
            runtime: Some(runtime),
            port: self.port,
            running: None,
        };
        upstream.try_restart()?;
        Ok(upstream)
    }
}

#[derive(Debug)]
struct Running {
    stop: oneshot::Sender<()>,
    stopped: mpsc::Receiver<()>,
}

/// An in-process fake upstream on 127.0.0.1, served by its own tokio runtime thread so
/// synchronous and async tests can both use it. Stops when dropped.
///
/// Requests to the health path are answered from the health flag; every other request is
/// recorded, counted and answered according to the current [`Behavior`].
#[derive(Debug)]
pub struct FakeUpstream {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    port: u16,
    running: Option<Running>,
}

fn bind(port: u16) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    // Restarting on the same port must work while old connections sit in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
    stopped: mpsc::Sender<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    conns.spawn(conn::serve(stream, Arc::clone(&shared)));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    // Aborting the tasks drops their sockets: clients see the connection close.
    conns.shutdown().await;
    let _ = stopped.send(());
}

impl FakeUpstream {
    /// Settings for an upstream called `name`.
    pub fn builder(name: &str) -> FakeUpstreamBuilder {
        FakeUpstreamBuilder {
            name: name.to_owned(),
            port: 0,
            behavior: Behavior::Echo,
            health_path: "/health".to_owned(),
            healthy: true,
            health_down_status: 503,
        }
    }

    /// An echoing upstream called `name` on a free port; panics if it cannot start.
    pub fn start(name: &str) -> FakeUpstream {
        match Self::builder(name).start() {
            Ok(u) => u,
            Err(e) => panic!("FakeUpstream {name}: cannot start: {e}"),
        }
    }

    /// An echoing upstream called `name` on `port`; panics if it cannot start.
    pub fn start_on(name: &str, port: u16) -> FakeUpstream {
        match Self::builder(name).port(port).start() {
            Ok(u) => u,
            Err(e) => panic!("FakeUpstream {name}: cannot start on port {port}: {e}"),
        }
    }

    pub fn name(&self) -> &str {
        &self.shared.name
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr(), path)
    }

    /// True between start/restart and stop.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Stops listening and closes every connection; returns once the port is released.
    /// Counters and records are kept. Idempotent.
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            let _ = running.stopped.recv_timeout(STOP_TIMEOUT);
        }
    }

    /// Starts again on the same port; panics if it cannot.
    pub fn restart(&mut self) {
        if let Err(e) = self.try_restart() {
            panic!(
                "FakeUpstream {}: cannot restart on port {}: {e}",
                self.name(),
                self.port
            );
        }
    }

    /// Starts again on the same port (stopping first if running).
    pub fn try_restart(&mut self) -> io::Result<()> {
        self.stop();
        let Some(runtime) = self.runtime.as_ref() else {
            return Err(io::Error::other("runtime gone"));
        };
        let std_listener = bind(self.port)?;
        self.port = std_listener.local_addr()?.port();
        let _entered = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let (stopped_tx, stopped_rx) = mpsc::channel();
        runtime.spawn(accept_loop(
            listener,
            Arc::clone(&self.shared),
            stop_rx,
            stopped_tx,
        ));
        self.running = Some(Running {
            stop: stop_tx,
            stopped: stopped_rx,
        });
        Ok(())
    }

    /// Current behaviour.
    pub fn behavior(&self) -> Behavior {
        self.shared.behavior()
    }

    /// Changes the behaviour for requests read from now on (also on open connections).
    pub fn set_behavior(&self, behavior: Behavior) {
        self.shared.set_behavior(behavior);
    }

    pub fn is_healthy(&self) -> bool {
        self.shared.healthy()
    }

    /// Sets the health flag answered on the health path.
    pub fn set_healthy(&self, healthy: bool) {
        self.shared.set_healthy(healthy);
    }

    /// Status of the health path while unhealthy (503 by default).
    pub fn set_health_down_status(&self, status: u16) {
        self.shared.set_health_down_status(status);
    }

    /// Requests received other than health-path ones (whatever the behaviour did).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Responses produced for those requests (a "served" count; broken behaviours and
    /// silence do not count). Counted just before the write, so it never lags the client.
    pub fn served(&self) -> u64 {
        self.shared.responses.load(Ordering::SeqCst)
    }

    /// Requests to the health path.
    pub fn health_checks(&self) -> u64 {
        self.shared.health_checks.load(Ordering::SeqCst)
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Requests being read or answered right now.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Every request head received, health checks included, oldest first.
    pub fn received(&self) -> Vec<RequestHead> {
        self.shared.received()
    }

    /// The latest request head received.
    pub fn last_request(&self) -> Option<RequestHead> {
        self.shared.received().pop()
    }

    /// Forgets recorded requests and zeroes the counters.
    pub fn clear(&self) {
        self.shared.clear();
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.stop();
        if let Some(runtime) = self.runtime.take() {
            // Never blocks, so dropping inside an async test is fine.
            runtime.shutdown_background();
        }
    }
}
