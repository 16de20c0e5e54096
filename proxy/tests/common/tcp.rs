//! Raw TCP helpers for TCP-mode tests: small loopback servers (echo, echo
//! with a banner, silent), a client round trip, and a UDP syslog sink for
//! the proxy's log lines.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Clone)]
enum Kind {
    /// Writes the banner (if any) on connect, then echoes.
    Echo(Option<String>),
    /// Reads and discards; never writes.
    Silent,
}

/// A loopback TCP server on its own threads, stopped on drop.
pub struct TcpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl TcpServer {
    pub fn echo() -> TcpServer {
        Self::start(Kind::Echo(None))
    }

    /// Echo, after writing `banner` on each new connection.
    pub fn banner(banner: &str) -> TcpServer {
        Self::start(Kind::Echo(Some(banner.to_string())))
    }

    pub fn silent() -> TcpServer {
        Self::start(Kind::Silent)
    }

    fn start(kind: Kind) -> TcpServer {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.set_nonblocking(true).expect("nonblocking");
        let addr = l.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (st, acc) = (stop.clone(), accepted.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((s, _)) => {
                        acc.fetch_add(1, Ordering::Relaxed);
                        let (k, st) = (kind.clone(), st.clone());
                        std::thread::spawn(move || handle(s, k, &st));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TcpServer {
            addr,
            stop,
            accepted,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

fn handle(mut s: TcpStream, kind: Kind, stop: &AtomicBool) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
    if let Kind::Echo(Some(b)) = &kind {
        if s.write_all(b.as_bytes()).is_err() {
            return;
        }
    }
    let mut buf = [0u8; 16384];
    while !stop.load(Ordering::Relaxed) {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if matches!(kind, Kind::Echo(_)) && s.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return,
        }
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A loopback port nothing listens on (bound, then closed).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A client connection with a read timeout.
pub fn client(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s
}

/// Read exactly `n` bytes (panics on EOF or timeout).
pub fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    s.read_exact(&mut out).expect("read");
    out
}

/// Send `data` and read the same number of bytes back.
pub fn roundtrip(s: &mut TcpStream, data: &[u8]) -> Vec<u8> {
    s.write_all(data).expect("write");
    read_n(s, data.len())
}

/// Whether the peer closes `s` within `wait` (reading and discarding).
pub fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    let _ = s.set_read_timeout(Some(Duration::from_millis(20)));
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

/// Receives the proxy's syslog lines (`log 127.0.0.1:<port> local0`).
pub struct LogSink {
    sock: UdpSocket,
    got: std::cell::RefCell<Vec<String>>,
}

impl LogSink {
    pub fn new() -> LogSink {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("udp");
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        LogSink {
            sock,
            got: std::cell::RefCell::new(Vec::new()),
        }
    }

    pub fn port(&self) -> u16 {
        self.sock.local_addr().expect("addr").port()
    }

    fn drain(&self) {
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.sock.recv(&mut buf) {
            let line = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.got.borrow_mut().push(message(&line).to_string());
        }
    }

    /// Every message received so far (syslog header removed).
    pub fn lines(&self) -> Vec<String> {
        self.drain();
        self.got.borrow().clone()
    }

    /// The first message containing `needle`, waiting up to `wait`.
    #[track_caller]
    pub fn wait_for(&self, needle: &str, wait: Duration) -> String {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| l.contains(needle)) {
                return l;
            }
            if Instant::now() > deadline {
                panic!("no log line with {needle:?}; got {:?}", self.lines());
            }
        }
    }
}

/// The message of an rfc3164 line: after `haproxy[pid]: `, no newline.
pub fn message(line: &str) -> &str {
    let m = line.find("]: ").map(|i| &line[i + 3..]).unwrap_or(line);
    m.trim_end_matches('\n')
}

/// The fields of a tcplog message, `%ci:%cp` and the date dropped:
/// `[ft, b/s, Tw/Tc/Tt, B, ts, ac/fc/bc/sc/rc, sq/bq]`.
pub fn tcplog_fields(msg: &str) -> Vec<String> {
    let f: Vec<&str> = msg.split(' ').collect();
    assert_eq!(f.len(), 9, "tcplog shape: {msg:?}");
    assert!(f[1].starts_with('[') && f[1].ends_with(']'), "{msg:?}");
    f[2..].iter().map(|s| s.to_string()).collect()
}

/// `Tw/Tc/Tt` as numbers.
pub fn timers(field: &str) -> (i64, i64, i64) {
    let v: Vec<i64> = field
        .split('/')
        .map(|x| x.parse().expect("timer"))
        .collect();
    assert_eq!(v.len(), 3, "{field}");
    (v[0], v[1], v[2])
}
