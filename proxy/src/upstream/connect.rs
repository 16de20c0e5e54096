//! Opening a connection to a server: TCP, then the TLS handshake for an
//! `ssl` server, both within `timeout connect` (HAProxy counts the
//! handshake as part of establishing the connection: a failed handshake is
//! a connection failure, `SC--`, retried like a refused connect).

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use rustls_pki_types::ServerName;
use switchyard_state::Counters;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::conn::Conn;
use super::stream::{TlsConn, TlsRoute};

#[derive(Debug)]
pub(crate) enum ConnectError {
    /// `timeout connect` expired.
    Timeout,
    /// Refused, unreachable, reset during the handshake, TLS handshake
    /// failed (certificate refused, alert).
    Failed,
}

/// Open a TCP connection to `addr` within `timeout` (`timeout connect`).
pub(crate) async fn connect_tcp(
    addr: SocketAddr,
    timeout: Option<Duration>,
) -> Result<TcpStream, ConnectError> {
    let fut = TcpStream::connect(addr);
    let stream = match timeout {
        Some(t) => match crate::timing::timeout(t, fut).await {
            Ok(r) => r.map_err(|_| ConnectError::Failed)?,
            Err(_) => return Err(ConnectError::Timeout),
        },
        None => fut.await.map_err(|_| ConnectError::Failed)?,
    };
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Connect to `addr` within `timeout` for HTTP, over TLS when `tls` says;
/// a handshake is counted in `counts` (the server's, the backend's).
pub(crate) async fn connect(
    addr: SocketAddr,
    timeout: Option<Duration>,
    tls: Option<TlsRoute>,
    counts: [&Counters; 2],
) -> Result<Conn, ConnectError> {
    match tls {
        None => connect_tcp(addr, timeout).await.map(Conn::new),
        // Boxed: the handshake's state stays off the plain path's future.
        Some(route) => Box::pin(connect_tls(addr, timeout, route, counts)).await,
    }
}

async fn connect_tls(
    addr: SocketAddr,
    timeout: Option<Duration>,
    route: TlsRoute,
    counts: [&Counters; 2],
) -> Result<Conn, ConnectError> {
    let run = async {
        let tcp = connect_tcp(addr, None).await?;
        handshake(tcp, addr, route, counts).await
    };
    match timeout {
        Some(t) => crate::timing::timeout(t, run)
            .await
            .unwrap_or(Err(ConnectError::Timeout)),
        None => run.await,
    }
}

async fn handshake(
    tcp: TcpStream,
    addr: SocketAddr,
    route: TlsRoute,
    counts: [&Counters; 2],
) -> Result<Conn, ConnectError> {
    // No SNI: an IP address as the name makes rustls send none (and the
    // verifier then checks the chain only, as HAProxy does).
    let name = route
        .sni
        .clone()
        .unwrap_or(ServerName::IpAddress(addr.ip().into()));
    let connector = TlsConnector::from(route.tls.config.clone());
    match connector.connect(name, tcp).await {
        Ok(stream) => {
            let kind = stream.get_ref().1.handshake_kind();
            let resumed = kind == Some(rustls::HandshakeKind::Resumed);
            for c in counts {
                c.ssl_handshake(resumed);
            }
            Ok(Conn::new_tls(TlsConn { stream, route }))
        }
        Err(e) => {
            for c in counts {
                c.ssl_failed_handshake.fetch_add(1, Relaxed);
            }
            tracing::debug!(%addr, error = %e, "TLS handshake to server failed");
            Err(ConnectError::Failed)
        }
    }
}
