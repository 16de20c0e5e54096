//! The byte stream under an upstream connection: plain TCP, or TLS over
//! TCP (`server ... ssl`). An enum, not a trait object: the plain path
//! costs one branch per call, and the TLS state (tens of KB with its
//! buffers) is boxed so it does not grow every plain connection.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::BytesMut;
use rustls_pki_types::ServerName;
use switchyard_state::tls::ServerTls;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::h1::ClientRead;

/// The TLS identity of a connection: a pooled connection is reused only for
/// the same settings and the same SNI.
#[derive(Debug, Clone)]
pub(crate) struct TlsRoute {
    pub(crate) tls: Arc<ServerTls>,
    /// `None`: no SNI sent (HAProxy's default without `sni`).
    pub(crate) sni: Option<ServerName<'static>>,
}

impl TlsRoute {
    pub(crate) fn same(&self, other: &TlsRoute) -> bool {
        Arc::ptr_eq(&self.tls, &other.tls) && self.sni == other.sni
    }
}

pub(crate) struct TlsConn {
    pub(crate) stream: TlsStream<TcpStream>,
    pub(crate) route: TlsRoute,
}

pub(crate) enum UpIo {
    Plain(TcpStream),
    Tls(Box<TlsConn>),
}

impl UpIo {
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            UpIo::Plain(s) => s,
            UpIo::Tls(t) => t.stream.get_ref().0,
        }
    }
}

impl ClientRead for UpIo {
    /// TLS: plaintext may already sit decrypted in rustls while the socket
    /// is quiet, so a TLS stream always says "try a read".
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        match self {
            UpIo::Plain(s) => s.poll_read_ready(cx).map(|_| ()),
            UpIo::Tls(_) => Poll::Ready(()),
        }
    }

    /// TLS reads need `&mut`: `Conn` reads a TLS stream without waiting
    /// through `Reader::poll_fill` with a no-op waker instead.
    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        match self {
            UpIo::Plain(s) => s.try_read_buf(buf),
            UpIo::Tls(_) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl AsyncRead for UpIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpIo::Plain(s) => Pin::new(s).poll_read(cx, buf),
            UpIo::Tls(t) => Pin::new(&mut t.stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpIo::Plain(s) => Pin::new(s).poll_write(cx, buf),
            UpIo::Tls(t) => Pin::new(&mut t.stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpIo::Plain(s) => Pin::new(s).poll_flush(cx),
            UpIo::Tls(t) => Pin::new(&mut t.stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpIo::Plain(s) => Pin::new(s).poll_shutdown(cx),
            UpIo::Tls(t) => Pin::new(&mut t.stream).poll_shutdown(cx),
        }
    }
}

impl TlsRoute {
    /// The route of a request to a TLS server: its SNI from `sni` (a
    /// header that is absent or not a valid name sends none, as HAProxy
    /// does when the sample fetch fails).
    pub(crate) fn for_request(tls: &Arc<ServerTls>, headers: &http::HeaderMap) -> TlsRoute {
        use switchyard_state::tls::SniSource;
        let sni = match &tls.sni {
            SniSource::None => None,
            SniSource::Fixed(n) => Some(n.clone()),
            SniSource::Header(h) => headers
                .get_all(h.as_str())
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| ServerName::try_from(v.to_owned()).ok()),
        };
        TlsRoute {
            tls: tls.clone(),
            sni,
        }
    }
}
