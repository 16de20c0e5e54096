//! A closed-loop load of keep-alive clients that remembers, for every response, when it
//! arrived and which upstream served it (`X-Served-By`), so a test can measure an
//! upstream's share of the traffic over any time window.

use super::tk;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One answered (or failed) request.
#[derive(Debug, Clone)]
pub struct Sample {
    /// When the response was complete.
    pub at: Instant,
    /// HTTP status, 0 for a transport error.
    pub status: u16,
    pub served_by: Option<String>,
}

/// Clients running until [`Sampler::finish`].
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<Vec<Sample>>>,
}

impl Sampler {
    /// `clients` threads, each sending `GET path` on its own keep-alive connection to
    /// `addr` ("127.0.0.1:port") one request after another; a failed connection is
    /// recorded (status 0) and replaced.
    pub fn start(addr: &str, path: &str, clients: usize) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..clients)
            .map(|_| {
                let stop = Arc::clone(&stop);
                let addr = addr.to_owned();
                let path = path.to_owned();
                std::thread::spawn(move || run(&addr, &path, &stop))
            })
            .collect();
        Sampler { stop, workers }
    }

    /// Stops the clients and returns every sample, in time order.
    pub fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all: Vec<Sample> = self
            .workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect();
        all.sort_by_key(|s| s.at);
        all
    }
}

fn run(addr: &str, path: &str, stop: &AtomicBool) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut client: Option<tk::KeepAliveClient> = None;
    while !stop.load(Ordering::Relaxed) {
        let c = match client.as_mut() {
            Some(c) => c,
            None => match tk::KeepAliveClient::connect(addr) {
                Ok(c) => client.insert(c),
                Err(_) => {
                    samples.push(Sample {
                        at: Instant::now(),
                        status: 0,
                        served_by: None,
                    });
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            },
        };
        match c.get(path) {
            Ok(resp) => {
                let close = resp
                    .header("connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                samples.push(Sample {
                    at: Instant::now(),
                    status: resp.status,
                    served_by: resp.header("x-served-by").map(str::to_owned),
                });
                if close {
                    client = None;
                }
            }
            Err(_) => {
                samples.push(Sample {
                    at: Instant::now(),
                    status: 0,
                    served_by: None,
                });
                client = None;
            }
        }
    }
    samples
}

/// Counts over one time window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    /// Responses served by the upstream of interest.
    pub hits: usize,
    /// All responses (any upstream) and errors.
    pub total: usize,
    /// Errors and non-200 answers.
    pub failed: usize,
}

impl Window {
    /// The upstream's share of the window's responses, 0.0..=1.0.
    pub fn share(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.hits as f64 / self.total as f64
        }
    }
}

/// Samples that arrived in `[from, to)` seconds after `origin`, counting those served by
/// `name`.
pub fn window(samples: &[Sample], origin: Instant, from: f64, to: f64, name: &str) -> Window {
    let mut w = Window::default();
    for s in samples {
        let Some(t) = s.at.checked_duration_since(origin) else {
            continue;
        };
        let t = t.as_secs_f64();
        if t < from || t >= to {
            continue;
        }
        w.total += 1;
        if s.status != 200 {
            w.failed += 1;
        }
        if s.served_by.as_deref() == Some(name) {
            w.hits += 1;
        }
    }
    w
}
