//! `TlsUpstream`: an HTTP/1.1 upstream behind TLS (rustls, a certificate
//! from a throwaway CA made with rcgen), for tests of `server ... ssl`. It
//! answers every request with who served it and the SNI the client sent,
//! and counts handshakes so tests can see connection reuse.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

/// A CA and a server certificate it signed, written as PEM files in a
/// temporary directory (`ca.pem`, `server.pem` = chain + key, `client.pem`).
pub struct TestPki {
    dir: tempfile::TempDir,
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

fn rc(e: rcgen::Error) -> io::Error {
    io::Error::other(e.to_string())
}

impl TestPki {
    /// A new CA and a certificate for `names` (DNS names) signed by it.
    pub fn generate(names: &[&str]) -> io::Result<TestPki> {
        let dir = tempfile::tempdir()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "switchyard test CA");
        let ca_key = KeyPair::generate().map_err(rc)?;
        let ca = ca_params.self_signed(&ca_key).map_err(rc)?;
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let params = CertificateParams::new(names).map_err(rc)?;
        let key = KeyPair::generate().map_err(rc)?;
        let cert = params.signed_by(&key, &ca, &ca_key).map_err(rc)?;
        std::fs::write(dir.path().join("ca.pem"), ca.pem())?;
        let full = format!("{}{}", cert.pem(), key.serialize_pem());
        std::fs::write(dir.path().join("server.pem"), &full)?;
        // A client certificate for `crt` (signed by the same CA).
        let cparams = CertificateParams::new(vec!["client.example".to_string()]).map_err(rc)?;
        let ckey = KeyPair::generate().map_err(rc)?;
        let ccert = cparams.signed_by(&ckey, &ca, &ca_key).map_err(rc)?;
        let cfull = format!("{}{}", ccert.pem(), ckey.serialize_pem());
        std::fs::write(dir.path().join("client.pem"), cfull)?;
        Ok(TestPki {
            cert: cert.der().clone(),
            key: key.serialize_der(),
            dir,
        })
    }

    /// The CA certificate (for `ca-file`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's certificate and key in one PEM file.
    pub fn server_pem(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// A client certificate and key in one PEM file (for `crt`).
    pub fn client_pem(&self) -> PathBuf {
        self.dir.path().join("client.pem")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn server_config(&self) -> io::Result<Arc<ServerConfig>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let mut cfg = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], key)
            .map_err(io::Error::other)?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}

/// What the TLS upstream saw.
#[derive(Default)]
struct Seen {
    /// Completed handshakes (one per connection).
    handshakes: AtomicUsize,
    failed_handshakes: AtomicUsize,
    requests: AtomicUsize,
    /// The SNI of each completed handshake (`None`: none sent).
    snis: Mutex<Vec<Option<String>>>,
    /// ALPN protocols the clients offered, per handshake.
    alpn: Mutex<Vec<Vec<String>>>,
    /// Close a keep-alive connection after this many ms idle (0: never).
    close_idle_ms: AtomicU64,
    /// Answer the health path with 503.
    unhealthy: AtomicBool,
}

/// An HTTP/1.1-over-TLS upstream on 127.0.0.1 with its own runtime
/// thread; stops when dropped. `stop`/`start` keep the port.
pub struct TlsUpstream {
    name: String,
    port: u16,
    config: Arc<ServerConfig>,
    seen: Arc<Seen>,
    runtime: tokio::runtime::Runtime,
    stop: Option<oneshot::Sender<()>>,
}

impl TlsUpstream {
    /// Serve as `name` with `pki`'s server certificate on a free port.
    pub fn start(name: &str, pki: &TestPki) -> io::Result<TlsUpstream> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(format!("tls-{name}"))
            .enable_all()
            .build()?;
        let mut up = TlsUpstream {
            name: name.to_string(),
            port: 0,
            config: pki.server_config()?,
            seen: Arc::new(Seen::default()),
            runtime,
            stop: None,
        };
        up.restart()?;
        Ok(up)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Stop listening and close every connection.
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        // The accept loop drops the listener once it sees the stop.
        for _ in 0..200 {
            if std::net::TcpStream::connect(self.addr()).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Listen again (on the same port once one was chosen).
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        let std_l = bind(self.port)?;
        self.port = std_l.local_addr()?.port();
        let (tx, rx) = oneshot::channel();
        let (config, seen, name) = (self.config.clone(), self.seen.clone(), self.name.clone());
        let _guard = self.runtime.enter();
        let listener = TcpListener::from_std(std_l)?;
        self.runtime.spawn(accept_loop(
            listener,
            TlsAcceptor::from(config),
            seen,
            name,
            rx,
        ));
        self.stop = Some(tx);
        Ok(())
    }

    pub fn handshakes(&self) -> usize {
        self.seen.handshakes.load(SeqCst)
    }

    pub fn failed_handshakes(&self) -> usize {
        self.seen.failed_handshakes.load(SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.seen.requests.load(SeqCst)
    }

    /// The SNI of every handshake so far.
    pub fn snis(&self) -> Vec<Option<String>> {
        self.seen.snis.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The ALPN protocols offered in every handshake so far.
    pub fn alpn_offers(&self) -> Vec<Vec<String>> {
        self.seen.alpn.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Close keep-alive connections idle for `after` (close_notify, then
    /// FIN), as servers with a short keep-alive timeout do.
    pub fn close_idle_after(&self, after: Option<Duration>) {
        let ms = after.map_or(0, |d| d.as_millis().max(1) as u64);
        self.seen.close_idle_ms.store(ms, SeqCst);
    }

    /// Answer `/health` with 503 (`false`) or 200.
    pub fn set_healthy(&self, healthy: bool) {
        self.seen.unhealthy.store(!healthy, SeqCst);
    }
}

impl Drop for TlsUpstream {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn bind(port: u16) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    seen: Arc<Seen>,
    name: String,
    mut stop: oneshot::Receiver<()>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            a = listener.accept() => {
                if let Ok((tcp, _)) = a {
                    let (acceptor, seen, name) = (acceptor.clone(), seen.clone(), name.clone());
                    conns.spawn(async move { serve(tcp, acceptor, seen, name).await });
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    conns.shutdown().await;
}

async fn serve(tcp: tokio::net::TcpStream, acceptor: TlsAcceptor, seen: Arc<Seen>, name: String) {
    let start = tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp);
    let Ok(hello) = start.await else {
        seen.failed_handshakes.fetch_add(1, SeqCst);
        return;
    };
    let ch = hello.client_hello();
    let sni = ch.server_name().map(str::to_string);
    let alpn: Vec<String> = ch
        .alpn()
        .map(|i| i.map(|p| String::from_utf8_lossy(p).into_owned()).collect())
        .unwrap_or_default();
    let mut tls = match hello.into_stream(acceptor.config().clone()).await {
        Ok(s) => s,
        Err(_) => {
            seen.failed_handshakes.fetch_add(1, SeqCst);
            return;
        }
    };
    seen.handshakes.fetch_add(1, SeqCst);
    if let Ok(mut v) = seen.snis.lock() {
        v.push(sni.clone());
    }
    if let Ok(mut v) = seen.alpn.lock() {
        v.push(alpn);
    }
    let mut buf = Vec::new();
    loop {
        let (head_len, method, path, clen, close) = loop {
            if let Some(h) = parse_head(&buf) {
                break h;
            }
            let mut chunk = [0u8; 8192];
            let idle_ms = seen.close_idle_ms.load(SeqCst);
            let read = tls.read(&mut chunk);
            let n = if idle_ms > 0 && buf.is_empty() {
                match tokio::time::timeout(Duration::from_millis(idle_ms), read).await {
                    Ok(r) => r,
                    Err(_) => {
                        let _ = tls.shutdown().await;
                        return;
                    }
                }
            } else {
                read.await
            };
            match n {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        while buf.len() < head_len + clen {
            let mut chunk = [0u8; 8192];
            match tls.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf[head_len..head_len + clen].to_vec();
        buf.drain(..head_len + clen);
        let (status, text) = if path == "/health" {
            if seen.unhealthy.load(SeqCst) {
                ("503 Service Unavailable", "down\n".to_string())
            } else {
                ("200 OK", "up\n".to_string())
            }
        } else {
            seen.requests.fetch_add(1, SeqCst);
            (
                "200 OK",
                format!(
                    "server={name} sni={} method={method} path={path} body={}\n",
                    sni.as_deref().unwrap_or("-"),
                    String::from_utf8_lossy(&body)
                ),
            )
        };
        let resp = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\nx-served-by: {name}\r\ncontent-length: {}\r\n\r\n{text}",
            text.len()
        );
        if tls.write_all(resp.as_bytes()).await.is_err() || tls.flush().await.is_err() {
            return;
        }
        if close {
            let _ = tls.shutdown().await;
            return;
        }
    }
}

/// (head length, method, path, content-length, client asked to close).
fn parse_head(buf: &[u8]) -> Option<(usize, String, String, usize, bool)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let n = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    let mut clen = 0;
    let mut close = req.version == Some(0);
    for h in req.headers.iter() {
        let v = String::from_utf8_lossy(h.value).to_ascii_lowercase();
        if h.name.eq_ignore_ascii_case("content-length") {
            clen = v.trim().parse().unwrap_or(0);
        } else if h.name.eq_ignore_ascii_case("connection") {
            close = v.contains("close") || (close && !v.contains("keep-alive"));
        }
    }
    Some((
        n,
        req.method.unwrap_or("").to_string(),
        req.path.unwrap_or("").to_string(),
        clen,
        close,
    ))
}
