//! A small hyper HTTP/1.1 upstream answering every request with a fixed
//! 200 body, and a keep-alive client connection to drive requests.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running upstream; aborted on drop.
pub struct Upstream {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start an upstream on 127.0.0.1 (a free port) on the current runtime.
pub async fn spawn_upstream(body: &'static [u8]) -> std::io::Result<Upstream> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |_req: Request<hyper::body::Incoming>| async move {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(body))))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(Upstream { addr, task })
}

/// Errors from the bench client, kept as the source error.
#[derive(Debug)]
pub enum ClientError {
    Io(std::io::Error),
    Http(hyper::Error),
    Status(u16),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "i/o: {e}"),
            ClientError::Http(e) => write!(f, "http: {e}"),
            ClientError::Status(s) => write!(f, "unexpected status {s}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// One keep-alive HTTP/1.1 client connection.
pub struct KeepAlive {
    send: SendRequest<Empty<Bytes>>,
    host: String,
}

impl KeepAlive {
    pub async fn connect(addr: SocketAddr) -> Result<KeepAlive, ClientError> {
        let stream = TcpStream::connect(addr).await.map_err(ClientError::Io)?;
        let _ = stream.set_nodelay(true);
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(ClientError::Http)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(KeepAlive {
            send,
            host: addr.to_string(),
        })
    }

    /// `GET /` and read the whole body; returns its length.
    pub async fn get(&mut self) -> Result<usize, ClientError> {
        self.send.ready().await.map_err(ClientError::Http)?;
        let req = Request::get("/")
            .header(hyper::header::HOST, self.host.as_str())
            .body(Empty::new())
            .map_err(|_| ClientError::Status(0))?;
        let resp = self
            .send
            .send_request(req)
            .await
            .map_err(ClientError::Http)?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(ClientError::Http)?
            .to_bytes();
        if status != 200 {
            return Err(ClientError::Status(status));
        }
        Ok(body.len())
    }
}
