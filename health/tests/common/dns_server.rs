//! A minimal authoritative DNS server on 127.0.0.1:<free port> for tests,
//! built on hickory-proto (a maintained DNS library: no home-made
//! encoding). It answers A/AAAA for names the test sets, NXDOMAIN for the
//! others, and counts and records queries. Tests point a `resolvers` section at it and
//! at nothing else.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record, RecordType};

struct Shared {
    names: Mutex<HashMap<String, Vec<IpAddr>>>,
    queries: AtomicU64,
    /// (name without the final dot, type) of each query, in order.
    asked: Mutex<Vec<(String, RecordType)>>,
    stop: AtomicBool,
}

pub struct TestDns {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl TestDns {
    pub fn start() -> TestDns {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind udp loopback");
        let addr = sock.local_addr().expect("addr");
        assert!(addr.ip().is_loopback());
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let shared = Arc::new(Shared {
            names: Mutex::new(HashMap::new()),
            queries: AtomicU64::new(0),
            asked: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let sh = shared.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !sh.stop.load(SeqCst) {
                let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(reply) = answer(&sh, &buf[..n]) {
                    let _ = sock.send_to(&reply, peer);
                }
            }
        });
        TestDns {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    /// Answer `name` with `ips` (empty: a valid answer with no address).
    pub fn set(&self, name: &str, ips: &[IpAddr]) {
        self.shared
            .names
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key(name), ips.to_vec());
    }

    /// Forget `name` (NXDOMAIN from now on).
    pub fn remove(&self, name: &str) {
        self.shared
            .names
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key(name));
    }

    pub fn queries(&self) -> u64 {
        self.shared.queries.load(SeqCst)
    }

    /// The queries received so far: (lowercase name without the final dot,
    /// record type).
    pub fn asked(&self) -> Vec<(String, RecordType)> {
        self.shared
            .asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.shared.stop.store(true, SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(sh: &Shared, packet: &[u8]) -> Option<Vec<u8>> {
    let req = Message::from_vec(packet).ok()?;
    sh.queries.fetch_add(1, SeqCst);
    let mut resp = Message::new();
    resp.set_id(req.id())
        .set_message_type(MessageType::Response)
        .set_op_code(req.op_code())
        .set_recursion_desired(req.recursion_desired())
        .set_recursion_available(true)
        .set_authoritative(true);
    let names = sh.names.lock().unwrap_or_else(|p| p.into_inner());
    let mut code = ResponseCode::NoError;
    for q in req.queries() {
        sh.asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((key(&q.name().to_ascii()), q.query_type()));
        resp.add_query(q.clone());
        let Some(ips) = names.get(&key(&q.name().to_ascii())) else {
            code = ResponseCode::NXDomain;
            continue;
        };
        for ip in ips {
            let rdata = match (q.query_type(), ip) {
                (RecordType::A, IpAddr::V4(v4)) => RData::A(A(*v4)),
                (RecordType::AAAA, IpAddr::V6(v6)) => RData::AAAA(AAAA(*v6)),
                _ => continue,
            };
            resp.add_answer(Record::from_rdata(q.name().clone(), 1, rdata));
        }
    }
    resp.set_response_code(code);
    resp.to_vec().ok()
}
