//! One check against one server: a TCP connect (L4OK/L4CON/L4TOUT), the
//! TLS handshake of an `ssl`/`check-ssl` server (L6OK/L6RSP/L6TOUT) and,
//! for `option httpchk`, an HTTP exchange (L7OK/L7OKC/L7STS/L7RSP/L7TOUT),
//! with HAProxy's time limits.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use rustls_pki_types::ServerName;
use switchyard_state::tls::ServerTls;
use switchyard_state::CheckStatus;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::http::response::{
    evaluate_response, parse_response, ExpectRules, ReadState, MAX_RESPONSE,
};
use crate::interval::CheckDeadlines;
use crate::outcome::CheckOutcome;

/// What to send and how to judge the reply of an HTTP check.
#[derive(Debug, Clone)]
pub(crate) struct HttpProbe {
    pub request: Vec<u8>,
    pub head: bool,
    pub rules: ExpectRules,
}

/// Run one check. `server_stopped`: the server is DOWN (for
/// disable-on-404).
pub(crate) async fn probe(
    addr: SocketAddr,
    tls: Option<&ServerTls>,
    http: Option<&HttpProbe>,
    limits: CheckDeadlines,
    server_stopped: bool,
) -> CheckOutcome {
    let start = Instant::now();
    let done =
        |status, code, desc: String| CheckOutcome::new(status, code, desc, Some(elapsed_ms(start)));
    let stream = match timeout_at(start + limits.connect, TcpStream::connect(addr)).await {
        Err(_) => return done(CheckStatus::L4Tout, None, String::new()),
        Ok(Err(e)) => return done(CheckStatus::L4Con, None, strerror(&e)),
        Ok(Ok(s)) => s,
    };
    let Some(tls) = tls else {
        let Some(http) = http else {
            close_quietly(&stream);
            return done(CheckStatus::L4Ok, None, String::new());
        };
        return http_step(stream, http, limits, start, server_stopped).await;
    };
    // The handshake is part of connecting, under the same deadline.
    let stream = match timeout_at(start + limits.connect, handshake(stream, addr, tls)).await {
        Err(_) => return done(CheckStatus::L6Tout, None, String::new()),
        Ok(Err(_)) => return done(CheckStatus::L6Rsp, None, String::new()),
        Ok(Ok(s)) => s,
    };
    let Some(http) = http else {
        close_quietly(stream.get_ref().0);
        return done(CheckStatus::L6Ok, None, String::new());
    };
    http_step(stream, http, limits, start, server_stopped).await
}

async fn handshake(
    tcp: TcpStream,
    addr: SocketAddr,
    tls: &ServerTls,
) -> io::Result<TlsStream<TcpStream>> {
    // `check-sni`, else no SNI (an IP address name sends none).
    let name = tls
        .check_sni
        .clone()
        .unwrap_or(ServerName::IpAddress(addr.ip().into()));
    TlsConnector::from(tls.config.clone())
        .connect(name, tcp)
        .await
}

/// The HTTP exchange of `option httpchk`, after the connection is up.
async fn http_step<S: Stream>(
    stream: S,
    http: &HttpProbe,
    limits: CheckDeadlines,
    start: Instant,
    server_stopped: bool,
) -> CheckOutcome {
    let done =
        |status, code, desc: String| CheckOutcome::new(status, code, desc, Some(elapsed_ms(start)));
    let deadline = match limits.after_connect {
        Some(t) => Instant::now() + t,
        None => start + limits.total,
    };
    match timeout_at(deadline, exchange(stream, http, server_stopped)).await {
        Err(_) => done(CheckStatus::L7Tout, None, String::new()),
        Ok(Err(e)) => done(CheckStatus::L7Rsp, None, strerror(&e)),
        Ok(Ok(v)) => done(v.status, v.code, v.desc),
    }
}

/// A check connection: plain TCP or TLS over it.
trait Stream: AsyncRead + AsyncWrite + Unpin {
    fn tcp(&self) -> &TcpStream;
}

impl Stream for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Stream for TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

async fn exchange<S: Stream>(
    mut stream: S,
    http: &HttpProbe,
    server_stopped: bool,
) -> io::Result<crate::http::response::ResponseVerdict> {
    stream.write_all(&http.request).await?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        let room = MAX_RESPONSE.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..n.min(room)]);
        let eof = n == 0 || buf.len() >= MAX_RESPONSE;
        match parse_response(&buf, eof, http.head) {
            ReadState::NeedMore if !eof => continue,
            ReadState::NeedMore | ReadState::Invalid => {
                close_quietly(stream.tcp());
                return Ok(crate::http::response::ResponseVerdict {
                    status: CheckStatus::L7Rsp,
                    code: None,
                    desc: String::new(),
                });
            }
            ReadState::Done(resp) => {
                close_quietly(stream.tcp());
                return Ok(evaluate_response(&http.rules, server_stopped, &resp));
            }
        }
    }
}

/// Close without lingering in TIME_WAIT, as HAProxy's checks do. A zero
/// linger never blocks (the deprecation is about non-zero values).
#[allow(deprecated)]
fn close_quietly(stream: &TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
}

fn elapsed_ms(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

/// `strerror(errno)`: the OS text without Rust's ` (os error N)` suffix.
pub(crate) fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_strips_suffix() {
        let e = io::Error::from_raw_os_error(111);
        assert_eq!(strerror(&e), "Connection refused");
    }
}
