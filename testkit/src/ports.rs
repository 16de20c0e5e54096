//! Free TCP ports below 32768, for configs that need a port number up front (haproxy
//! cannot be told "port 0 and tell me"). Linux hands out ephemeral ports from 32768 up,
//! so a port picked below that is not taken by some unrelated outgoing connection.

use rand::Rng;
use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, OnceLock};

const LOW: u16 = 10_000;
const HIGH: u16 = 32_000;

fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// True if a listener can bind `127.0.0.1:port` right now.
pub fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// A port in 10000..32000 that was free on 127.0.0.1 when tested, and never returned before
/// in this process (so two parts of one test never get the same one). Random, so parallel
/// test processes rarely collide. Panics after many failed tries.
pub fn free_port() -> u16 {
    let mut rng = rand::thread_rng();
    for _ in 0..1000 {
        let port = rng.gen_range(LOW..HIGH);
        let mut taken = match handed_out().lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if taken.contains(&port) || !port_is_free(port) {
            continue;
        }
        taken.insert(port);
        return port;
    }
    panic!("free_port: no free port found in {LOW}..{HIGH}");
}

/// `n` distinct ports as [`free_port`] picks them.
pub fn free_ports(n: usize) -> Vec<u16> {
    (0..n).map(|_| free_port()).collect()
}
