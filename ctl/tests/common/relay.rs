//! A fault-injecting relay in front of a real proxy's Runtime API: it forwards each
//! connection's command to the proxy and relays the reply, except commands containing
//! a chosen text, which it answers itself with `Permission denied` (what HAProxy says
//! on a socket without the needed level). The proxy behind it is the real one; the
//! relay only makes one step fail on cue.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

pub struct Relay {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Relay {
    /// Relays to `backend`, refusing every command that contains `refuse`.
    pub fn start(backend: SocketAddr, refuse: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay binds");
        let addr = listener.local_addr().expect("relay addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let refuse = refuse.to_owned();
        let accept = thread::spawn({
            let stop = Arc::clone(&stop);
            move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let refuse = refuse.clone();
                            thread::spawn(move || serve(conn, backend, &refuse));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
            }
        });
        Relay {
            addr,
            stop,
            accept: Some(accept),
        }
    }

    /// `127.0.0.1:<port>`, to pass as `--socket`.
    pub fn target(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, backend: SocketAddr, refuse: &str) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut conn = conn;
    if line.contains(refuse) {
        let _ = conn.write_all(b"Permission denied\n\n");
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(backend) else {
        return;
    };
    let _ = upstream.set_read_timeout(Some(Duration::from_secs(5)));
    if upstream.write_all(line.as_bytes()).is_err() {
        return;
    }
    let mut reply = Vec::new();
    let _ = upstream.read_to_end(&mut reply);
    let _ = conn.write_all(&reply);
}
