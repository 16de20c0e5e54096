//! Opening a connection to a server and handing it to hyper.

use std::net::SocketAddr;
use std::time::Duration;

use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::h1::ReqBody;

pub(crate) type Sender = http1::SendRequest<ReqBody>;

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

/// Connect to `addr` within `timeout` and start the HTTP/1 client on it.
pub(crate) async fn connect(
    addr: SocketAddr,
    timeout: Option<Duration>,
) -> Result<Sender, ConnectError> {
    let stream = connect_tcp(addr, timeout).await?;
    let (sender, conn) = http1::Builder::new()
        .allow_obsolete_multiline_headers_in_responses(true)
        .handshake::<_, ReqBody>(TokioIo::new(stream))
        .await
        .map_err(|_| ConnectError::Failed)?;
    // The connection task ends when the server closes or the sender (and any
    // in-flight exchange) is dropped.
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    Ok(sender)
}
