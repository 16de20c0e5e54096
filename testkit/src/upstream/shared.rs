//! State shared between a fake upstream's handle (test thread) and its connections.

use super::{Behavior, RequestHead};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Test-side state: a panic elsewhere must not hide what was recorded.
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub name: String,
    pub health_path: String,
    behavior: Mutex<Behavior>,
    healthy: AtomicBool,
    health_down_status: AtomicU16,
    pub requests: AtomicU64,
    pub responses: AtomicU64,
    pub health_checks: AtomicU64,
    pub connections: AtomicU64,
    pub in_flight: AtomicUsize,
    received: Mutex<Vec<RequestHead>>,
}

impl Shared {
    pub fn new(
        name: &str,
        health_path: &str,
        behavior: Behavior,
        healthy: bool,
        down: u16,
    ) -> Self {
        Shared {
            name: name.to_owned(),
            health_path: health_path.to_owned(),
            behavior: Mutex::new(behavior),
            healthy: AtomicBool::new(healthy),
            health_down_status: AtomicU16::new(down),
            requests: AtomicU64::new(0),
            responses: AtomicU64::new(0),
            health_checks: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            received: Mutex::new(Vec::new()),
        }
    }

    pub fn behavior(&self) -> Behavior {
        lock(&self.behavior).clone()
    }

    pub fn set_behavior(&self, b: Behavior) {
        *lock(&self.behavior) = b;
    }

    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::SeqCst)
    }

    pub fn set_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::SeqCst);
    }

    pub fn health_down_status(&self) -> u16 {
        self.health_down_status.load(Ordering::SeqCst)
    }

    pub fn set_health_down_status(&self, status: u16) {
        self.health_down_status.store(status, Ordering::SeqCst);
    }

    pub fn record(&self, head: RequestHead) {
        lock(&self.received).push(head);
    }

    pub fn received(&self) -> Vec<RequestHead> {
        lock(&self.received).clone()
    }

    pub fn clear(&self) {
        lock(&self.received).clear();
        self.requests.store(0, Ordering::SeqCst);
        self.responses.store(0, Ordering::SeqCst);
        self.health_checks.store(0, Ordering::SeqCst);
        self.connections.store(0, Ordering::SeqCst);
    }
}
