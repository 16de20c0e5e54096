//! One HTTP/1.1 client connection per worker (hyper's connection API): dial with the
//! DNS and connect times measured, then hand requests to it while it stays open.

use super::outcome::{ErrorKind, Failure};
use super::timed_io::{IoMarks, TimedIo};
use super::Target;
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

pub type Sender = http1::SendRequest<Full<Bytes>>;

/// An open connection: the request handle, its socket timestamps and the task driving
/// it. Dropping it closes the socket at once (the driver is aborted), which is what a
/// timed-out request needs.
#[derive(Debug)]
pub struct Conn {
    pub sender: Sender,
    pub marks: Arc<IoMarks>,
    /// `ip:port` of the peer, for error messages.
    pub peer: String,
    /// Whether a request was already sent on it (a failure on a reused connection may
    /// be replayed, see `LoadPlan::retry_reused`).
    pub used: bool,
    driver: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Conn {
    /// Whether the connection can take another request now.
    pub fn is_usable(&self) -> bool {
        !self.sender.is_closed() && !self.driver.is_finished()
    }
}

/// Durations of a dial, reported in hey's `DNS+dialup` and `DNS-lookup` lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct DialTimes {
    pub dns: Duration,
    pub total: Duration,
}

pub async fn dial(target: &Target, epoch: Instant) -> Result<(Conn, DialTimes), Failure> {
    let start = Instant::now();
    let addrs = resolve(target).await?;
    let dns = start.elapsed();
    let mut last_err = None;
    let mut stream = None;
    for addr in &addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                stream = Some((s, *addr));
                break;
            }
            Err(e) => last_err = Some((*addr, e)),
        }
    }
    let (stream, addr) = match (stream, last_err) {
        (Some(found), _) => found,
        (None, Some((addr, e))) => return Err(Failure::dial(&addr.to_string(), &e)),
        (None, None) => {
            return Err(Failure {
                kind: ErrorKind::Connect,
                detail: format!("dial tcp: lookup {}: no such host", target.host),
            })
        }
    };
    // Go's dialer sets TCP_NODELAY; without it small requests wait for delayed ACKs.
    let _ = stream.set_nodelay(true);
    let marks = IoMarks::new(epoch);
    let io = TokioIo::new(TimedIo::new(stream, marks.clone()));
    let peer = addr.to_string();
    let (sender, connection) = http1::Builder::new()
        .handshake(io)
        .await
        .map_err(|e| Failure::from_hyper(&e, &peer, super::outcome::Phase::Dial))?;
    let driver = tokio::spawn(async move {
        // The error, if any, reaches the pending request through its response future.
        let _ = connection.await;
    });
    let times = DialTimes {
        dns,
        total: start.elapsed(),
    };
    Ok((
        Conn {
            sender,
            marks,
            peer,
            used: false,
            driver,
        },
        times,
    ))
}

async fn resolve(target: &Target) -> Result<Vec<SocketAddr>, Failure> {
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, target.port)]);
    }
    tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map(|it| it.collect())
        .map_err(|e| Failure::resolve(&target.host, &e))
}
