//! Per-second record of a run, bucketed by when each request finished: requests,
//! status classes, errors by kind, latency percentiles and responses per backend.
//! A finer 100 ms record of backends and failures feeds the plot, where a cutover
//! shows as one line handing over to another.

use super::outcome::ErrorKind;
use super::sample::Sample;
use bytes::Bytes;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// Width of the fine bins used by the plot.
pub const FINE_BIN: Duration = Duration::from_millis(100);
/// Seconds kept open for late samples before their percentiles are computed.
const OPEN_SECONDS: usize = 3;
/// Latencies are recorded in microseconds, up to an hour.
const MAX_MICROS: u64 = 3_600_000_000;

/// Latency percentiles of one second, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u32>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Percentiles {
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Second {
    /// Requests that finished in this second, answered or failed.
    pub requests: u64,
    /// Responses by class: index 0 = 1xx ... 4 = 5xx; other codes are counted in 5.
    pub status: [u64; 6],
    pub errors: [u64; ErrorKind::ALL.len()],
    /// Responses per backend id (see [`Timeline::backends`]).
    pub by_backend: Vec<u64>,
    /// Responses without a backend label.
    pub unattributed: u64,
    pub replayed: u64,
    pub latency: Percentiles,
    hist: Option<Histogram<u32>>,
}

impl Second {
    pub fn error_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Errors plus 5xx responses: what a cutover must not produce.
    pub fn failed(&self) -> u64 {
        self.error_total() + self.status[4]
    }

    pub fn backend(&self, id: usize) -> u64 {
        self.by_backend.get(id).copied().unwrap_or(0)
    }
}

#[derive(Debug, Clone, Default)]
pub struct FineBin {
    pub by_backend: Vec<u32>,
    pub unattributed: u32,
    /// Transport errors (no response).
    pub errors: u32,
    /// Errors plus 5xx responses.
    pub failed: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub seconds: Vec<Second>,
    pub fine: Vec<FineBin>,
    /// Backend labels in order of first appearance.
    pub backends: Vec<String>,
    ids: HashMap<Bytes, usize>,
    /// Percentiles are final for seconds below this index.
    closed: usize,
    /// Latency of all responses, microseconds.
    pub overall: Option<Histogram<u32>>,
}

fn new_hist(sigfig: u8) -> Option<Histogram<u32>> {
    Histogram::new_with_bounds(1, MAX_MICROS, sigfig).ok()
}

fn grow<T: Default>(v: &mut Vec<T>, index: usize) -> &mut T {
    if v.len() <= index {
        v.resize_with(index + 1, T::default);
    }
    &mut v[index]
}

impl Timeline {
    pub fn new() -> Self {
        Timeline {
            overall: new_hist(3),
            ..Timeline::default()
        }
    }

    fn backend_id(&mut self, label: &Bytes) -> usize {
        if let Some(id) = self.ids.get(label) {
            return *id;
        }
        let id = self.backends.len();
        self.backends
            .push(String::from_utf8_lossy(label).into_owned());
        self.ids.insert(label.clone(), id);
        id
    }

    pub fn add(&mut self, sample: &Sample) {
        let sec = sample.finished.as_secs() as usize;
        let fine_index = (sample.finished.as_millis() / FINE_BIN.as_millis()) as usize;
        let backend = match &sample.result {
            Ok(answer) => answer.backend.as_ref().map(|b| self.backend_id(b)),
            Err(_) => None,
        };
        if sec >= self.closed + OPEN_SECONDS {
            self.close_until(sec + 1 - OPEN_SECONDS);
        }
        let second = grow(&mut self.seconds, sec);
        second.requests += 1;
        if sample.replayed {
            second.replayed += 1;
        }
        let fine = grow(&mut self.fine, fine_index);
        match &sample.result {
            Ok(answer) => {
                let class = match answer.status {
                    100..=599 => usize::from(answer.status / 100 - 1),
                    _ => 5,
                };
                second.status[class] += 1;
                if answer.status >= 500 {
                    fine.failed += 1;
                }
                match backend {
                    Some(id) => {
                        *grow(&mut second.by_backend, id) += 1;
                        *grow(&mut fine.by_backend, id) += 1;
                    }
                    None => {
                        second.unattributed += 1;
                        fine.unattributed += 1;
                    }
                }
                let micros = u64::try_from(sample.latency().as_micros())
                    .unwrap_or(MAX_MICROS)
                    .clamp(1, MAX_MICROS);
                if sec >= self.closed {
                    if second.hist.is_none() {
                        second.hist = new_hist(2);
                    }
                    if let Some(h) = second.hist.as_mut() {
                        let _ = h.record(micros);
                    }
                }
                if let Some(h) = self.overall.as_mut() {
                    let _ = h.record(micros);
                }
            }
            Err(failure) => {
                second.errors[failure.kind.index()] += 1;
                fine.errors += 1;
                fine.failed += 1;
            }
        }
    }

    fn close_until(&mut self, end: usize) {
        let end = end.min(self.seconds.len());
        for second in &mut self.seconds[self.closed.min(end)..end] {
            if let Some(h) = second.hist.take() {
                second.latency = Percentiles::of(&h);
            }
        }
        self.closed = self.closed.max(end);
    }

    /// Closes every second and pads the record to cover `total` (so trailing seconds
    /// without any response show as zeros, not as missing).
    pub fn finish(&mut self, total: Duration) {
        let secs = total.as_secs_f64().ceil() as usize;
        if self.seconds.len() < secs {
            self.seconds.resize_with(secs, Second::default);
        }
        let bins = (total.as_millis().div_ceil(FINE_BIN.as_millis())) as usize;
        if self.fine.len() < bins {
            self.fine.resize_with(bins, FineBin::default);
        }
        self.close_until(self.seconds.len());
    }

    /// Responses per backend over the whole run, in label order of first appearance,
    /// with `-` for responses without a label when there are any; empty when no
    /// response carried a label.
    pub fn backend_totals(&self) -> Vec<(String, u64)> {
        if self.backends.is_empty() {
            return Vec::new();
        }
        let mut totals: Vec<(String, u64)> = self
            .backends
            .iter()
            .enumerate()
            .map(|(id, name)| {
                (
                    name.clone(),
                    self.seconds.iter().map(|s| s.backend(id)).sum(),
                )
            })
            .collect();
        let none: u64 = self.seconds.iter().map(|s| s.unattributed).sum();
        if none > 0 {
            totals.push(("-".to_owned(), none));
        }
        totals
    }

    /// Latency percentiles of all responses.
    pub fn overall_latency(&self) -> Percentiles {
        self.overall
            .as_ref()
            .map(Percentiles::of)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::outcome::Failure;
    use crate::gen::sample::{Answer, Phases};

    fn sample(ms: u64, result: Result<Answer, Failure>) -> Sample {
        Sample {
            started: Duration::from_millis(ms.saturating_sub(2)),
            finished: Duration::from_millis(ms),
            phases: Phases::default(),
            result,
            replayed: false,
        }
    }

    fn ok(status: u16, backend: &str) -> Result<Answer, Failure> {
        Ok(Answer {
            status,
            bytes: 1,
            backend: Some(Bytes::copy_from_slice(backend.as_bytes())),
        })
    }

    #[test]
    fn buckets_by_second_backend_and_kind() {
        let mut t = Timeline::new();
        t.add(&sample(100, ok(200, "blue")));
        t.add(&sample(900, ok(200, "blue")));
        t.add(&sample(1500, ok(503, "green")));
        t.add(&sample(
            1600,
            Err(Failure {
                kind: ErrorKind::Reset,
                detail: "x".into(),
            }),
        ));
        t.finish(Duration::from_millis(3200));
        assert_eq!(t.seconds.len(), 4);
        assert_eq!(t.backends, vec!["blue", "green"]);
        assert_eq!(t.seconds[0].backend(0), 2);
        assert_eq!(t.seconds[1].status[4], 1);
        assert_eq!(t.seconds[1].errors[ErrorKind::Reset.index()], 1);
        assert_eq!(t.seconds[1].failed(), 2);
        assert_eq!(t.seconds[3].requests, 0);
        assert!(t.seconds[0].latency.p50_ms > 1.0);
        assert_eq!(t.fine.len(), 32);
        assert_eq!(t.fine[15].failed, 1);
        assert_eq!(
            t.backend_totals(),
            vec![("blue".to_owned(), 2), ("green".to_owned(), 1)]
        );
    }
}
