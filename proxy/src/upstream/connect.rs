//! Opening a connection to a server.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::conn::Conn;

#[derive(Debug)]
pub(crate) enum ConnectError {
    /// `timeout connect` expired.
    Timeout,
    /// Refused, unreachable, reset during the handshake.
    Failed,
}

/// Open a TCP connection to `addr` within `timeout` (`timeout connect`).
pub(crate) async fn connect_tcp(
    addr: SocketAddr,
    timeout: Option<Duration>,
) -> Result<TcpStream, ConnectError> {
    let fut = TcpStream::connect(addr);
    let stream = match timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r.map_err(|_| ConnectError::Failed)?,
            Err(_) => return Err(ConnectError::Timeout),
        },
        None => fut.await.map_err(|_| ConnectError::Failed)?,
    };
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Connect to `addr` within `timeout` for HTTP.
pub(crate) async fn connect(
    addr: SocketAddr,
    timeout: Option<Duration>,
) -> Result<Conn, ConnectError> {
    connect_tcp(addr, timeout).await.map(Conn::new)
}
