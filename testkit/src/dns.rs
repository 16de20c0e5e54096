//! A small authoritative DNS server for tests, built on hickory-server: it answers A/AAAA
//! queries for a fixed set of names (e.g. `localhost` → 127.0.0.1 for seed 000's
//! `resolvers local` section) over UDP and TCP on one address.
//!
//! Used in-process ([`TestDns::start`]) or as the `switchyard-testdns` binary inside a
//! network namespace, where it can own the `127.0.0.53:53` the seed's config names.

use hickory_proto::rr::rdata::{A, AAAA, SOA};
use hickory_proto::rr::{Name, RData, Record};
use hickory_server::authority::{Catalog, ZoneType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryAuthority;
use hickory_server::ServerFuture;
use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::oneshot;

/// TTL of the answers; short, so a resolver that honours it re-asks often.
const TTL: u32 = 5;

/// How long a TCP client may stay silent before the server drops it.
const TCP_TIMEOUT: Duration = Duration::from_secs(10);

/// One `name → address` answer; several records may share a name (A and AAAA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    pub name: String,
    pub addr: IpAddr,
}

impl DnsRecord {
    pub fn new(name: &str, addr: IpAddr) -> Self {
        DnsRecord {
            name: name.to_owned(),
            addr,
        }
    }

    /// Parses `name=address`, e.g. `localhost=127.0.0.1` or `localhost=::1`.
    pub fn parse(text: &str) -> io::Result<Self> {
        let bad = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad record {text:?}: {why} (expected name=address)"),
            )
        };
        let (name, addr) = text.split_once('=').ok_or_else(|| bad("no '='"))?;
        if name.trim().is_empty() {
            return Err(bad("empty name"));
        }
        let addr = addr
            .trim()
            .parse::<IpAddr>()
            .map_err(|_| bad("not an IP address"))?;
        Ok(DnsRecord::new(name.trim(), addr))
    }
}

/// Counts the queries answered, for tests that want to see the resolver was used.
#[derive(Debug, Default)]
pub struct DnsStats {
    queries: AtomicU64,
}

impl DnsStats {
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

fn fqdn(name: &str) -> io::Result<Name> {
    let mut n = Name::from_str(name).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad DNS name {name:?}: {e}"),
        )
    })?;
    n.set_fqdn(true);
    Ok(n)
}

/// One zone per distinct name, each with its own SOA so NODATA answers are well formed.
fn catalog(records: &[DnsRecord]) -> io::Result<Catalog> {
    let mut zones: BTreeMap<Name, Vec<IpAddr>> = BTreeMap::new();
    for r in records {
        zones.entry(fqdn(&r.name)?).or_default().push(r.addr);
    }
    let mut catalog = Catalog::new();
    for (origin, addrs) in zones {
        let mut zone = InMemoryAuthority::empty(origin.clone(), ZoneType::Primary, false);
        let hostmaster = fqdn(&format!("hostmaster.{origin}"))?;
        let soa = SOA::new(origin.clone(), hostmaster, 1, 60, 60, 600, TTL);
        zone.upsert_mut(Record::from_rdata(origin.clone(), TTL, RData::SOA(soa)), 1);
        for addr in addrs {
            let rdata = match addr {
                IpAddr::V4(v4) => RData::A(A(v4)),
                IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
            };
            zone.upsert_mut(Record::from_rdata(origin.clone(), TTL, rdata), 1);
        }
        catalog.upsert(origin.into(), Box::new(Arc::new(zone)));
    }
    Ok(catalog)
}

/// The catalog plus a log line per query, so a test's output shows who asked what.
struct Logged {
    catalog: Catalog,
    stats: Arc<DnsStats>,
    log: bool,
}

#[async_trait::async_trait]
impl RequestHandler for Logged {
    async fn handle_request<R: ResponseHandler>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        let info = self.catalog.handle_request(request, response_handle).await;
        self.stats.queries.fetch_add(1, Ordering::Relaxed);
        if self.log {
            let q = request.request_info().query;
            println!(
                "query {} {} from {} ({}): {} answer(s), {}",
                q.name(),
                q.query_type(),
                request.src(),
                request.protocol(),
                info.answer_count(),
                info.response_code()
            );
        }
        info
    }
}

/// Binds UDP and TCP on `listen` and serves `records` until `stop` resolves.
pub async fn serve(
    listen: SocketAddr,
    records: &[DnsRecord],
    stats: Arc<DnsStats>,
    log: bool,
    stop: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    let udp = UdpSocket::bind(listen).await?;
    let tcp = TcpListener::bind(listen).await?;
    let handler = Logged {
        catalog: catalog(records)?,
        stats,
        log,
    };
    let mut server = ServerFuture::new(handler);
    server.register_socket(udp);
    server.register_listener(tcp, TCP_TIMEOUT);
    if log {
        println!("listening on {listen} (udp+tcp)");
    }
    stop.await;
    server
        .shutdown_gracefully()
        .await
        .map_err(|e| io::Error::other(format!("dns server shutdown: {e}")))
}

/// Binds UDP and TCP on the same address; for port 0, retries until one port is free
/// for both.
fn bind_pair(listen: SocketAddr) -> io::Result<(std::net::UdpSocket, std::net::TcpListener)> {
    let mut last = None;
    for _ in 0..50 {
        let udp = std::net::UdpSocket::bind(listen)?;
        let addr = udp.local_addr()?;
        match std::net::TcpListener::bind(addr) {
            Ok(tcp) => {
                udp.set_nonblocking(true)?;
                tcp.set_nonblocking(true)?;
                return Ok((udp, tcp));
            }
            Err(e) if listen.port() == 0 => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no port free for both UDP and TCP")))
}

/// An in-process DNS server on its own thread and runtime; stopped on drop.
#[derive(Debug)]
pub struct TestDns {
    addr: SocketAddr,
    stats: Arc<DnsStats>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl TestDns {
    /// Serves `records` on `listen` (UDP and TCP, same address; port 0 picks a port free
    /// for both).
    pub fn start(listen: SocketAddr, records: &[DnsRecord]) -> io::Result<TestDns> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (udp, tcp) = bind_pair(listen)?;
        let addr = udp.local_addr()?;
        let stats = Arc::new(DnsStats::default());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let records = records.to_vec();
        let thread_stats = Arc::clone(&stats);
        let thread = std::thread::Builder::new()
            .name("testdns".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let stop = async move {
                        let _ = stop_rx.await;
                    };
                    let udp = UdpSocket::from_std(udp);
                    let tcp = TcpListener::from_std(tcp);
                    let (udp, tcp) = match (udp, tcp) {
                        (Ok(u), Ok(t)) => (u, t),
                        (Err(e), _) | (_, Err(e)) => {
                            let _ = ready_tx.send(Err(io::Error::new(e.kind(), e.to_string())));
                            return Err(e);
                        }
                    };
                    let handler = Logged {
                        catalog: match catalog(&records) {
                            Ok(c) => c,
                            Err(e) => {
                                let _ = ready_tx.send(Err(io::Error::new(e.kind(), e.to_string())));
                                return Err(e);
                            }
                        },
                        stats: thread_stats,
                        log: false,
                    };
                    let mut server = ServerFuture::new(handler);
                    server.register_socket(udp);
                    server.register_listener(tcp, TCP_TIMEOUT);
                    let _ = ready_tx.send(Ok(()));
                    stop.await;
                    server
                        .shutdown_gracefully()
                        .await
                        .map_err(|e| io::Error::other(e.to_string()))
                })
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(TestDns {
                addr,
                stats,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::other("dns thread died before binding")),
        }
    }

    /// The address it answers on (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queries answered so far.
    pub fn queries(&self) -> u64 {
        self.stats.queries()
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
