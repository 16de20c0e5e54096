//! Test helpers: an in-process admin server on loopback, a real HAProxy
//! child, socat, free ports and output normalisation.
#![allow(dead_code)]

pub mod random_cmd;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_admin::{bind_sockets, serve_until, AdminCtx, ServeOptions};
use switchyard_state::Store;

/// Poll `f` until it returns `Some`, for at most `timeout`.
pub fn eventually<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A free TCP port on loopback below 32768.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let seed = (std::process::id() % 4000) as u16;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = 24000 + (seed + n * 7) % 8000;
        if TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

/// Replace every `{pN}` placeholder with a distinct free port.
pub fn fill_ports(cfg: &str) -> String {
    let mut out = cfg.to_string();
    for i in 0..20 {
        let key = format!("{{p{i}}}");
        if out.contains(&key) {
            out = out.replace(&key, &free_port().to_string());
        }
    }
    out
}

/// Replace every `{sN}` placeholder with a distinct free port (call once
/// on text shared by two configs).
pub fn fill_shared_ports(cfg: &str) -> String {
    let mut out = cfg.to_string();
    for i in 0..20 {
        let key = format!("{{s{i}}}");
        if out.contains(&key) {
            out = out.replace(&key, &free_port().to_string());
        }
    }
    out
}

/// Resolve only loopback names (tests never query a DNS server).
pub fn loopback_resolver(host: &str) -> Option<std::net::IpAddr> {
    match host {
        "localhost" => Some(std::net::IpAddr::from([127, 0, 0, 1])),
        _ => None,
    }
}

pub fn parse(cfg: &str) -> switchyard_config::Config {
    parse_named("test.cfg", cfg)
}

pub fn parse_named(name: &str, cfg: &str) -> switchyard_config::Config {
    match switchyard_config::parse_str(name, cfg) {
        Ok(c) => c,
        Err(e) => panic!("config does not parse: {e:?}"),
    }
}

pub fn store_for(cfg: &str) -> Arc<Store> {
    store_named("test.cfg", cfg)
}

pub fn store_named(name: &str, cfg: &str) -> Arc<Store> {
    let c = parse_named(name, cfg);
    let snap =
        switchyard_state::build(Arc::new(c), None, &loopback_resolver).expect("snapshot builds");
    Arc::new(Store::new(snap))
}

/// The in-process admin server: its own thread and current-thread
/// runtime, stopped on drop.
pub struct Admin {
    pub store: Arc<Store>,
    pub ctx: Arc<AdminCtx>,
    /// `host:port` of each stats socket, in config order.
    pub addrs: Vec<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Admin {
    pub fn start(cfg: &str) -> Admin {
        Admin::start_with(cfg, |_| {})
    }

    pub fn start_with(cfg: &str, tune: impl FnOnce(&mut AdminCtx)) -> Admin {
        Admin::start_named("test.cfg", &fill_ports(cfg), tune)
    }

    /// Start on `cfg` as is (no placeholder), named `name` in messages.
    pub fn start_named(name: &str, cfg: &str, tune: impl FnOnce(&mut AdminCtx)) -> Admin {
        let store = store_named(name, cfg);
        let config = store.load().config.clone();
        let mut ctx = AdminCtx::from_config(&config);
        tune(&mut ctx);
        let ctx = Arc::new(ctx);
        let listeners = bind_sockets(&config).expect("bind stats sockets");
        let addrs = listeners
            .sockets
            .iter()
            .map(|s| match &s.addr {
                switchyard_config::ListenAddr::Tcp(a) => a.to_string(),
                switchyard_config::ListenAddr::Unix(p) => p.display().to_string(),
            })
            .collect();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (st, cx) = (store.clone(), ctx.clone());
        let opts = ServeOptions::from_config(&config);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let _ = serve_until(listeners, st, cx, opts, async {
                    let _ = rx.await;
                })
                .await;
            });
        });
        Admin {
            store,
            ctx,
            addrs,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> &str {
        &self.addrs[0]
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Send `input` in one write through real socat and return everything
/// the server sent before closing.
pub fn socat(addr: &str, input: &[u8]) -> Vec<u8> {
    let target = if addr.starts_with('/') {
        format!("unix-connect:{addr}")
    } else {
        format!("tcp4-connect:{addr}")
    };
    let mut child = Command::new("socat")
        .args(["-t", "2", "stdio", &target])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat runs");
    if let Some(mut si) = child.stdin.take() {
        let _ = si.write_all(input);
    }
    let out = child.wait_with_output().expect("socat output");
    out.stdout
}

pub fn socat_str(addr: &str, input: &str) -> String {
    String::from_utf8_lossy(&socat(addr, input.as_bytes())).into_owned()
}

/// A raw TCP client: write, optionally keep the write side open, read
/// until the server closes or `wait` passes.
pub fn raw(addr: &str, input: &[u8], half_close: bool, wait: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    let _ = s.write_all(input);
    if half_close {
        let _ = s.shutdown(std::net::Shutdown::Write);
    }
    let _ = s.set_read_timeout(Some(wait));
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    out
}

/// A real HAProxy on a config file, killed on drop.
pub struct Haproxy {
    child: Child,
    pub dir: tempfile::TempDir,
}

pub fn haproxy_available() -> bool {
    Path::new("/usr/sbin/haproxy").exists()
        && Command::new("socat")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
}

impl Haproxy {
    /// Start `haproxy -db -f <path>` on a config already written.
    pub fn start_file(path: &Path, wait_addr: &str) -> Haproxy {
        let dir = tempfile::tempdir().expect("tempdir");
        let path: PathBuf = path.to_path_buf();
        let child = Command::new("/usr/sbin/haproxy")
            .args(["-db", "-f"])
            .arg(&path)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy runs");
        let h = Haproxy { child, dir };
        eventually(Duration::from_secs(10), || {
            TcpStream::connect(wait_addr).ok()
        })
        .expect("haproxy listens");
        h
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Replace volatile parts: `0x` entry addresses, and the given CSV
/// columns of `show stat` rows.
pub fn norm_addrs(s: &str) -> String {
    let re = regex::Regex::new(r"0x[0-9a-f]+").expect("regex");
    re.replace_all(s, "0xADDR").into_owned()
}

/// Blank the given columns of every CSV data row.
pub fn norm_csv(s: &str, cols: &[usize]) -> String {
    s.lines()
        .map(|l| {
            if l.starts_with('#') || !l.contains(',') {
                return l.to_string();
            }
            let mut f: Vec<String> = l.split(',').map(str::to_string).collect();
            for c in cols {
                // Column index in the line counts the "-" marker after 102.
                let i = if *c > 102 { c + 1 } else { *c };
                if let Some(x) = f.get_mut(i) {
                    x.clear();
                }
            }
            f.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if s.ends_with('\n') { "\n" } else { "" }
}
