//! The numbers behind hey's summary, gathered exactly as hey 0.1.4 gathers them: every
//! successful request's latency and phases (first million), averages over successes,
//! status codes, and errors grouped by their message.

use super::sample::Sample;
use std::collections::{BTreeMap, HashMap};

/// hey reports distributions for at most this many results.
pub const MAX_RES: usize = 1_000_000;

#[derive(Debug, Clone, Default)]
pub struct HeyStats {
    /// Every finished request, failed or not (hey's `numRes`).
    pub num_res: u64,
    /// Successful requests (a response with a status, whatever the code).
    pub num_ok: u64,
    /// Seconds; only successes, the first [`MAX_RES`] of them.
    pub lats: Vec<f64>,
    pub conn_lats: Vec<f64>,
    pub dns_lats: Vec<f64>,
    pub req_lats: Vec<f64>,
    pub delay_lats: Vec<f64>,
    pub res_lats: Vec<f64>,
    /// Status and start offset of each row in `lats` (for `-o csv`).
    pub codes: Vec<u16>,
    pub offsets: Vec<f64>,
    /// Sums over all successes, in seconds.
    pub sum_total: f64,
    pub sum_conn: f64,
    pub sum_dns: f64,
    pub sum_req: f64,
    pub sum_delay: f64,
    pub sum_res: f64,
    pub status_dist: BTreeMap<u16, u64>,
    /// Error detail (without the `Get "URL": ` prefix) → count.
    pub error_dist: HashMap<String, u64>,
    pub size_total: u64,
    /// Requests replayed on a fresh connection after a reused one failed.
    pub replayed: u64,
}

impl HeyStats {
    pub fn add(&mut self, sample: &Sample) {
        self.num_res += 1;
        if sample.replayed {
            self.replayed += 1;
        }
        let answer = match &sample.result {
            Ok(answer) => answer,
            Err(failure) => {
                *self.error_dist.entry(failure.detail.clone()).or_default() += 1;
                return;
            }
        };
        self.num_ok += 1;
        let p = &sample.phases;
        let total = sample.latency().as_secs_f64();
        self.sum_total += total;
        self.sum_conn += p.conn.as_secs_f64();
        self.sum_dns += p.dns.as_secs_f64();
        self.sum_req += p.write.as_secs_f64();
        self.sum_delay += p.wait.as_secs_f64();
        self.sum_res += p.read.as_secs_f64();
        if self.lats.len() < MAX_RES {
            self.lats.push(total);
            self.conn_lats.push(p.conn.as_secs_f64());
            self.dns_lats.push(p.dns.as_secs_f64());
            self.req_lats.push(p.write.as_secs_f64());
            self.delay_lats.push(p.wait.as_secs_f64());
            self.res_lats.push(p.read.as_secs_f64());
            self.codes.push(answer.status);
            self.offsets.push(sample.started.as_secs_f64());
        }
        *self.status_dist.entry(answer.status).or_default() += 1;
        self.size_total += answer.bytes;
    }

    /// Failed requests: transport errors.
    pub fn num_errors(&self) -> u64 {
        self.num_res - self.num_ok
    }

    /// Responses with a 5xx status.
    pub fn num_5xx(&self) -> u64 {
        self.status_dist
            .range(500..600)
            .map(|(_, n)| *n)
            .sum::<u64>()
    }
}
