//! In-process proxy harness: parse a config, build the snapshot, bind the
//! listeners and run `Proxy::serve` on its own multi-thread runtime. Stops
//! (hard) on drop.

#![allow(dead_code)]

pub mod tcp;
pub mod tls;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_config::ListenAddr;
use switchyard_proxy::{Listeners, Proxy, ShutdownHandle};
use switchyard_state::{ProxyIdx, ServiceRequest, Services, SimpleResponse, Snapshot, Store};

/// Answers the stats page and `use-service` with fixed bodies.
pub struct TestServices;

impl Services for TestServices {
    fn stats_page(
        &self,
        _store: &Store,
        _snap: &Snapshot,
        _fe: ProxyIdx,
        req: &ServiceRequest<'_>,
    ) -> SimpleResponse {
        SimpleResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: format!("stats for {} admin={}", req.uri, req.admin_allowed).into_bytes(),
        }
    }
    fn use_service(
        &self,
        name: &str,
        _snap: &Snapshot,
        _req: &ServiceRequest<'_>,
    ) -> Option<SimpleResponse> {
        (name == "prometheus-exporter").then(|| SimpleResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/plain; version=0.0.4".into())],
            body: b"# metrics\n".to_vec(),
        })
    }
}

pub fn resolve(host: &str) -> Option<IpAddr> {
    match host {
        "localhost" => Some(IpAddr::from([127, 0, 0, 1])),
        _ => host.parse().ok(),
    }
}

/// Build a snapshot from config text.
pub fn snapshot(cfg: &str) -> Snapshot {
    let config = switchyard_config::parse_str("test.cfg", cfg)
        .unwrap_or_else(|e| panic!("config: {:?}", e.errors));
    switchyard_state::build(Arc::new(config), None, &resolve)
        .unwrap_or_else(|e| panic!("build: {e}"))
}

pub struct Harness {
    pub store: Arc<Store>,
    pub proxy: Proxy,
    pub stop: ShutdownHandle,
    pub listeners: Listeners,
    pub rt: Option<tokio::runtime::Runtime>,
    pub serve: Option<tokio::task::JoinHandle<()>>,
}

impl Harness {
    /// Start on `cfg`; each `@BIND@` becomes `127.0.0.1:<free port>`.
    pub fn start(cfg: &str) -> Harness {
        let cfg = with_ports(cfg);
        let snap = snapshot(&cfg);
        let listeners = Listeners::bind(&snap).unwrap_or_else(|e| panic!("bind: {e}"));
        let store = Arc::new(Store::new(snap));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let proxy = Proxy::new(store.clone(), Arc::new(TestServices));
        let stop = proxy.shutdown_handle();
        let serve = {
            let p = proxy.clone();
            let l = listeners.clone();
            rt.spawn(async move { p.serve(l).await })
        };
        Harness {
            store,
            proxy,
            stop,
            listeners,
            rt: Some(rt),
            serve: Some(serve),
        }
    }

    /// The `n`th bound address (config order).
    pub fn addr(&self, n: usize) -> SocketAddr {
        match &self.listeners.addrs()[n] {
            ListenAddr::Tcp(a) => *a,
            ListenAddr::Unix(p) => panic!("unix listener {p:?}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr(0), path)
    }

    /// Replace the snapshot with one built from new config text (a reload).
    pub fn reload(&mut self, cfg: &str) {
        let cfg = with_ports(cfg);
        let cfg = cfg.as_str();
        let config = switchyard_config::parse_str("test.cfg", cfg).expect("config");
        self.store
            .replace(|cur| switchyard_state::build(Arc::new(config), Some(cur), &resolve))
            .expect("build");
        let snap = self.store.load_full();
        let _removed = self.listeners.update(&snap).expect("update");
        self.proxy.set_listeners(self.listeners.clone());
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.as_ref().expect("runtime").block_on(f)
    }

    /// The live state of server `be/srv`.
    pub fn server(&self, be: &str, srv: &str) -> Arc<switchyard_state::ServerLive> {
        let snap = self.store.load();
        let (p, s) = snap.find_server(be, srv).expect("server");
        snap.server(p, s).expect("server").live.clone()
    }

    /// The live state (frontend and backend counters) of proxy `name`.
    pub fn proxy_live(&self, name: &str) -> Arc<switchyard_state::ProxyLive> {
        let snap = self.store.load();
        let p = snap.proxy_idx(name).expect("proxy");
        snap.proxy(p).expect("proxy").live.clone()
    }

    /// Run the health checker on this harness's runtime (stopped on drop
    /// of the returned handle).
    pub fn start_health(&self) -> switchyard_health::HealthHandle {
        let rt = self.rt.as_ref().expect("runtime");
        switchyard_health::start_on(rt.handle(), self.store.clone())
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop.hard_stop();
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// Replace every `@BIND@` with a fresh loopback address.
pub fn with_ports(cfg: &str) -> String {
    let mut out = cfg.to_string();
    while out.contains("@BIND@") {
        let p = switchyard_testkit::free_port();
        out = out.replacen("@BIND@", &format!("127.0.0.1:{p}"), 1);
    }
    out
}

/// The real haproxy on `cfg` (each `@BIND@` given a free loopback port),
/// ready to serve: the process (stopped when dropped) and the address of
/// its first bind.
pub fn haproxy_on(cfg: &str) -> (switchyard_testkit::Proxy, SocketAddr) {
    let cfg = with_ports(cfg);
    let port: u16 = cfg
        .split("bind 127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split(|c: char| c.is_ascii_whitespace()).next())
        .and_then(|p| p.parse().ok())
        .expect("port");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut ha = switchyard_testkit::Proxy::haproxy(&cfg, &[]).expect("haproxy");
    ha.wait_ready(addr, Duration::from_secs(5));
    (ha, addr)
}

/// Send raw bytes and read until the peer closes or `wait` passes.
pub fn raw(addr: SocketAddr, req: &[u8], wait: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    s.write_all(req).expect("write");
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    out
}

/// Read one response from `s` (head + content-length body).
pub fn read_one(s: &mut TcpStream) -> (String, Vec<u8>) {
    // Byte by byte up to the end of the head, then exactly the body: never
    // read into the next (pipelined) response.
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut b).expect("read head");
        assert!(
            n > 0,
            "eof before head; got {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(b[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let cl = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; cl];
    s.read_exact(&mut body).expect("read body");
    (head, body)
}

/// The value of `name` in a raw response head.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// A scripted server on a loopback port: `handle` runs on its own thread
/// for each connection accepted.
pub fn serve_each<F>(handle: F) -> SocketAddr
where
    F: Fn(TcpStream) + Send + Sync + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let h = handle.clone();
            std::thread::spawn(move || h(s));
        }
    });
    addr
}

/// Read one request head on a scripted server's connection: its text
/// (request line through the blank line) and its Content-Length; `None` at
/// the end of the stream (or on an unreadable length).
pub fn read_request_head(r: &mut BufReader<TcpStream>) -> Option<(String, u64)> {
    let mut head = String::new();
    let mut cl = 0;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                cl = v.trim().parse().ok()?;
            }
        }
        head.push_str(&line);
        if line == "\r\n" {
            return Some((head, cl));
        }
    }
}

/// Messages as sent on the wire, with the lines of each name in `repeated`
/// brought together at the end of their head, by name. switchyard's header map
/// (`http::HeaderMap`) keeps the order of names and, per name, of values,
/// but not how lines of one name interleave with others, nor where such a
/// group goes once its first line is dropped, which HAProxy keeps: a known
/// difference, without meaning in HTTP (RFC 9110 §5.3).
pub fn group_same_names(out: &str, repeated: &[String]) -> String {
    let mut result = String::new();
    let mut held: Vec<(String, String)> = Vec::new();
    let mut in_head = false;
    for line in out.split_inclusive("\r\n") {
        let start_line = line.starts_with("HTTP/")
            || line.ends_with(" HTTP/1.1\r\n")
            || line.ends_with(" HTTP/1.0\r\n");
        if start_line && !in_head {
            in_head = true;
        } else if in_head && line == "\r\n" {
            held.sort_by(|a, b| a.0.cmp(&b.0));
            for (_, l) in held.drain(..) {
                result.push_str(&l);
            }
            in_head = false;
        } else if in_head {
            let name = line
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if repeated.contains(&name) {
                held.push((name, line.to_string()));
                continue;
            }
        }
        result.push_str(line);
    }
    for (_, l) in held {
        result.push_str(&l);
    }
    result
}

/// Header names that `text` (header lines, CRLF-separated) has more than
/// once, trimmed and lowercased as `group_same_names` reads them.
pub fn repeated_names(text: &str) -> Vec<String> {
    let names: Vec<String> = text
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .map(|(n, _)| n.trim().to_ascii_lowercase())
        .collect();
    names
        .iter()
        .filter(|n| names.iter().filter(|m| m == n).count() > 1)
        .cloned()
        .collect()
}

/// Fail with every difference a side-by-side test found, counted.
pub fn assert_no_differences(diffs: &[String]) {
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
