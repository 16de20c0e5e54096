//! State shared by every connection of one echo server.

use super::EchoError;
use http::{HeaderValue, StatusCode};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Identity, the settable health flag and the draining flag of one echo server.
#[derive(Debug)]
pub struct EchoState {
    name: String,
    version: String,
    served_by: HeaderValue,
    disabled_status: StatusCode,
    healthy: AtomicBool,
    draining: AtomicBool,
    requests: AtomicU64,
    in_flight: AtomicUsize,
}

impl EchoState {
    /// Fails when `name` cannot be an HTTP header value (it is sent in `X-Served-By`).
    pub fn new(
        name: &str,
        version: &str,
        disabled_status: StatusCode,
        healthy: bool,
    ) -> Result<Self, EchoError> {
        let served_by =
            HeaderValue::from_str(name).map_err(|_| EchoError::Name(name.to_owned()))?;
        Ok(EchoState {
            name: name.to_owned(),
            served_by,
            version: version.to_owned(),
            disabled_status,
            healthy: AtomicBool::new(healthy),
            draining: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Value of the `X-Served-By` header.
    pub fn served_by(&self) -> &HeaderValue {
        &self.served_by
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// Status of `/health` while disabled.
    pub fn disabled_status(&self) -> StatusCode {
        self.disabled_status
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    pub fn set_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::Relaxed);
    }

    /// True once SIGTERM arrived in `--sigterm-503` mode: new requests get 503.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Counts one request; returns how many came before it.
    pub fn count_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed)
    }

    /// Requests received so far (all routes).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Marks a request as running until the guard drops.
    pub fn enter(&self) -> InFlightGuard<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self)
    }

    /// Requests being answered right now (the stats route excluded).
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// Keeps one request counted in [`EchoState::in_flight`].
#[derive(Debug)]
pub struct InFlightGuard<'a>(&'a EchoState);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
