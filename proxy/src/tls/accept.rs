//! Serving a connection accepted on an `ssl` bind: the handshake runs in
//! the connection's own task, bounded by the frontend's `timeout client`
//! (HAProxy's handshake timeout); then the same HTTP (or TCP) loop runs
//! over the decrypted halves. A failed handshake closes the connection and
//! is logged as HAProxy logs it: `<ci>:<cp> [<date>] <fe>/<bind>: <why>`.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use switchyard_config::{BindProto, ListenAddr, LogLevel};
use switchyard_state::ProxyLive;
use tokio_rustls::LazyConfigAcceptor;

use super::params::TlsParams;
use super::stream::{split, RawIo, HANDSHAKE_RECORD};
use crate::accept::{connect_log, h2_task, http_task, ConnCount};
use crate::conn_task::ConnTask;
use crate::listeners::BoundListener;
use crate::proxy::Shared;
use crate::request::ConnInfo;
use crate::timing::Start;

/// What the accept loop needs to know of an `ssl` listener.
pub(crate) struct TlsListener {
    frontend: Arc<str>,
    configured: ListenAddr,
    /// The bind's `name`, else its number in the frontend (HAProxy's luid).
    bind_name: Arc<str>,
    /// `proto h2`: HTTP/2 whatever ALPN chose; `proto h1`: no HTTP/2.
    proto: Option<switchyard_config::BindProto>,
}

impl TlsListener {
    pub(crate) fn of(l: &BoundListener) -> Option<TlsListener> {
        l.bind_cfg().ssl.as_ref()?;
        Some(TlsListener {
            frontend: l.frontend_arc(),
            configured: l.configured_addr().clone(),
            bind_name: Arc::from(l.bind_cfg().name.as_deref().unwrap_or("")),
            proto: l.bind_cfg().proto,
        })
    }
}

/// Why a handshake did not complete, in HAProxy's words.
enum Failed {
    Handshake,
    Timeout,
}

impl Failed {
    fn text(&self) -> &'static str {
        match self {
            Failed::Handshake => "SSL handshake failure",
            Failed::Timeout => "Timeout during SSL handshake",
        }
    }
}

/// Start serving `io`, accepted on `tl`, in a task of its own.
pub(crate) fn serve<IO: RawIo>(
    shared: &Arc<Shared>,
    tl: &TlsListener,
    fe: Arc<ProxyLive>,
    io: IO,
    client: Option<SocketAddr>,
    local: Option<SocketAddr>,
) {
    let accepted = Start::now();
    let counts = fe.clone();
    let guards = (
        ConnCount::new(shared.clone(), fe),
        shared.shutdown.conn_guard(),
    );
    let Some((config, timeout)) = settings(shared, tl) else {
        return;
    };
    let shared = shared.clone();
    let frontend = tl.frontend.clone();
    let bind_name = tl.bind_name.clone();
    let configured = tl.configured.clone();
    let proto = tl.proto;
    let hard = shared.shutdown.hard_requested();
    tokio::spawn(async move {
        let hs = async {
            let hs = handshake(config, io);
            match timeout {
                Some(t) => tokio::time::timeout(t, hs)
                    .await
                    .unwrap_or(Err(timed_out())),
                None => hs.await,
            }
        };
        // A hard stop does not wait for a handshake (without `timeout
        // client` one could last forever).
        let done = tokio::select! {
            r = hs => r,
            _ = hard => return,
        };
        let stream = match done {
            Ok(s) => s,
            Err(e) => {
                // HAProxy counts a failed handshake, not one cut by the
                // timeout.
                let why = if e.kind() == std::io::ErrorKind::TimedOut {
                    Failed::Timeout
                } else {
                    counts.fe.ssl_failed_handshake.fetch_add(1, Relaxed);
                    Failed::Handshake
                };
                log_failure(
                    &shared,
                    &frontend,
                    &bind_name,
                    &configured,
                    client,
                    accepted,
                    why,
                );
                return;
            }
        };
        let tls_conn = stream.get_ref().1;
        let resumed = tls_conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
        counts.fe.ssl_handshake(resumed);
        drop(counts);
        let info = ConnInfo {
            frontend,
            client,
            local,
            tls: TlsParams::of(tls_conn).map(std::sync::Arc::new),
            h2_preface: proto.is_none(),
        };
        // HTTP/2 when ALPN chose it (or the bind says so): the codec takes
        // the whole stream; HTTP/1 reads and writes split halves.
        let h2 = match proto {
            Some(p) => p == BindProto::H2,
            None => tls_conn.alpn_protocol() == Some(b"h2"),
        };
        // Request timers and the first-request timeout start once the
        // handshake is done, as HAProxy's %TR excludes the handshake (%Th).
        let accepted = Start::now();
        let tcp = connect_log(&shared, &info);
        if h2 && !tcp {
            h2_task(shared, info, stream, accepted, guards).await;
            return;
        }
        let (rd, wr) = split(stream);
        if tcp {
            let hard = shared.shutdown.hard_requested();
            let serve = crate::tcp::serve(shared, info, rd, wr, accepted);
            ConnTask::new(serve, hard, guards).await;
        } else {
            http_task(shared, info, rd, wr, accepted, guards).await;
        }
    });
}

/// The handshake. A client that does not start with a TLS record (plain
/// HTTP on the TLS port) is closed without an answer, as HAProxy (OpenSSL)
/// closes it: a TLS alert would reach it as garbage ("HTTP/0.9").
async fn handshake<IO: RawIo>(
    config: Arc<rustls::ServerConfig>,
    io: IO,
) -> std::io::Result<tokio_rustls::server::TlsStream<IO>> {
    let first = std::future::poll_fn(|cx| io.poll_first_byte(cx)).await?;
    if first != Some(HANDSHAKE_RECORD) {
        // Read what it sent, so closing sends a FIN, not a reset (unread
        // bytes make the kernel reset), as HAProxy's close does.
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            if !matches!(io.try_read(&mut sink), Ok(n) if n > 0) {
                break;
            }
        }
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), io).await?;
    let config = match start.client_hello().alpn() {
        Some(mut theirs) if !config.alpn_protocols.is_empty() => {
            if theirs.any(|p| config.alpn_protocols.iter().any(|o| o == p)) {
                config
            } else {
                without_alpn(&config)
            }
        }
        _ => config,
    };
    start.into_stream(config).await
}

/// The config without ALPN, for a client offering none of our protocols:
/// OpenSSL's callback in HAProxy then goes on without ALPN (and HTTP/1
/// is spoken), where rustls would fail the handshake. Rare: cloned then.
fn without_alpn(config: &Arc<rustls::ServerConfig>) -> Arc<rustls::ServerConfig> {
    let mut c = (**config).clone();
    c.alpn_protocols.clear();
    Arc::new(c)
}

fn timed_out() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::TimedOut)
}

/// The bind's TLS config and the frontend's handshake timeout, from the
/// current snapshot (a reload swaps certificates for the next accept).
fn settings(
    shared: &Shared,
    tl: &TlsListener,
) -> Option<(Arc<rustls::ServerConfig>, Option<Duration>)> {
    let snap = shared.store.load();
    let p = snap.proxy_idx(&tl.frontend).and_then(|i| snap.proxy(i))?;
    let config = p.frontend.as_ref()?.tls_for(&tl.configured)?.clone();
    Some((config, p.cfg.timeouts.client))
}

fn log_failure(
    shared: &Shared,
    frontend: &str,
    bind_name: &str,
    configured: &ListenAddr,
    client: Option<SocketAddr>,
    accepted: Start,
    why: Failed,
) {
    let snap = shared.store.load();
    let Some(p) = snap.proxy_idx(frontend).and_then(|i| snap.proxy(i)) else {
        return;
    };
    if p.cfg.logs.is_empty() {
        return;
    }
    let bind = if bind_name.is_empty() {
        let n = p
            .cfg
            .frontend
            .as_ref()
            .and_then(|f| f.binds.iter().position(|b| b.addr == *configured))
            .map_or(0, |i| i + 1);
        n.to_string()
    } else {
        bind_name.to_string()
    };
    let (ip, port) = match client {
        Some(c) => (c.ip().to_string(), c.port().to_string()),
        None => ("unix".to_string(), "1".to_string()),
    };
    let text = format!(
        "{ip}:{port} [{}] {frontend}/{bind}: {}",
        crate::log::log_date(accepted.date),
        why.text()
    );
    shared
        .logger
        .text(Arc::new(p.cfg.logs.clone()), LogLevel::Info, text);
}
