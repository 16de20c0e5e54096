//! Tiny loopback TCP servers for check tests: they record what the checker
//! sends and answer with whatever the test sets (a status line, junk,
//! nothing, or silence).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the server does with each connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Send these bytes, then close.
    Bytes(Vec<u8>),
    /// Close without answering.
    Close,
    /// Keep the connection open, answer nothing.
    Hang,
}

impl Reply {
    /// `HTTP/1.1 <code> <reason>` with a small body.
    pub fn status(code: u16, reason: &str) -> Reply {
        Reply::Bytes(
            format!(
                "HTTP/1.1 {code} {reason}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
            )
            .into_bytes(),
        )
    }
}

struct Shared {
    reply: Mutex<Reply>,
    requests: Mutex<Vec<Vec<u8>>>,
    stop: AtomicBool,
}

/// A server on 127.0.0.1:<port>, stopped on drop.
pub struct RawServer {
    pub port: u16,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl RawServer {
    pub fn start(reply: Reply) -> RawServer {
        Self::start_on(0, reply)
    }

    pub fn start_on(port: u16, reply: Reply) -> RawServer {
        let l = TcpListener::bind(("127.0.0.1", port)).expect("bind loopback");
        let port = l.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared {
            reply: Mutex::new(reply),
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let sh = shared.clone();
        let thread = std::thread::spawn(move || {
            for conn in l.incoming() {
                if sh.stop.load(SeqCst) {
                    break;
                }
                let Ok(c) = conn else { continue };
                let sh = sh.clone();
                std::thread::spawn(move || serve(c, &sh));
            }
        });
        RawServer {
            port,
            shared,
            thread: Some(thread),
        }
    }

    pub fn set_reply(&self, r: Reply) {
        *self.shared.reply.lock().unwrap_or_else(|p| p.into_inner()) = r;
    }

    /// Every request received so far (raw bytes, as read).
    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn stop(&mut self) {
        self.shared.stop.store(true, SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(mut c: TcpStream, sh: &Shared) {
    let _ = c.set_read_timeout(Some(Duration::from_millis(300)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read the head (and a declared body) of one request.
    loop {
        match c.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                break;
            }
        }
    }
    if sh.stop.load(SeqCst) {
        return;
    }
    if !buf.is_empty() {
        sh.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(buf);
    }
    let reply = sh.reply.lock().unwrap_or_else(|p| p.into_inner()).clone();
    match reply {
        Reply::Bytes(b) => {
            let _ = c.write_all(&b);
            let _ = c.shutdown(Shutdown::Write);
            // Let the peer read before the socket goes.
            let _ = c.read(&mut chunk);
        }
        Reply::Close => {}
        Reply::Hang => std::thread::sleep(Duration::from_secs(5)),
    }
}

/// A port with nothing listening (bound then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}
