//! Lock-free traffic counters shared by frontend, backend and server rows of
//! `show stat`. Writers are request tasks; readers are the admin thread.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

use crate::live::now_ms;

/// Events per second over a sliding one-second window, like HAProxy's
/// `freq_ctr`: the current second's count plus the previous second's,
/// weighted by how much of it is still inside the window.
#[derive(Debug, Default)]
pub struct RateCounter {
    /// Packed `(second << 32) | count` for the current second.
    curr: AtomicU64,
    prev: AtomicU32,
    max: AtomicU32,
}

impl RateCounter {
    pub fn add(&self, n: u32) {
        self.add_at(n, now_ms());
    }

    /// `add` with the caller's clock reading (one reading can serve several
    /// counters).
    pub fn add_at(&self, n: u32, now: u64) {
        let sec = now / 1000;
        loop {
            let cur = self.curr.load(Relaxed);
            let (csec, ccount) = (cur >> 32, (cur & 0xffff_ffff) as u32);
            let (next, prev) = if csec == sec {
                ((sec << 32) | u64::from(ccount.saturating_add(n)), None)
            } else if csec + 1 == sec {
                ((sec << 32) | u64::from(n), Some(ccount))
            } else {
                ((sec << 32) | u64::from(n), Some(0))
            };
            if self
                .curr
                .compare_exchange_weak(cur, next, Relaxed, Relaxed)
                .is_ok()
            {
                if let Some(p) = prev {
                    self.prev.store(p, Relaxed);
                }
                let r = self.rate_at(now);
                self.max.fetch_max(r, Relaxed);
                return;
            }
        }
    }

    fn rate_at(&self, now: u64) -> u32 {
        let sec = now / 1000;
        let cur = self.curr.load(Relaxed);
        let (csec, ccount) = (cur >> 32, (cur & 0xffff_ffff) as u32);
        let (curr, prev) = if csec == sec {
            (ccount, self.prev.load(Relaxed))
        } else if csec + 1 == sec {
            (0, ccount)
        } else {
            (0, 0)
        };
        let remain = 1000 - (now % 1000);
        curr + ((u64::from(prev) * remain) / 1000) as u32
    }

    /// Events in the last second.
    pub fn rate(&self) -> u32 {
        self.rate_at(now_ms())
    }

    pub fn max(&self) -> u32 {
        self.max.load(Relaxed)
    }

    /// `clear counters`: forget the maximum.
    pub fn reset_max(&self) {
        self.max.store(0, Relaxed);
    }

    /// `clear counters all`: forget everything.
    pub fn reset(&self) {
        self.curr.store(0, Relaxed);
        self.prev.store(0, Relaxed);
        self.max.store(0, Relaxed);
    }
}

/// HAProxy's sliding-window average (`swrate`) over `N` samples, used for
/// `qtime`/`ctime`/`rtime`/`ttime`, plus the maximum seen.
#[derive(Debug, Default)]
pub struct SwRate {
    sum: AtomicU64,
    max: AtomicU64,
}

impl SwRate {
    /// The window HAProxy uses for time averages (TIME_STATS_SAMPLES).
    pub const SAMPLES: u64 = 512;

    pub fn add(&self, v: u64) {
        let n = Self::SAMPLES;
        let _ = self
            .sum
            .fetch_update(Relaxed, Relaxed, |s| Some(s - s.div_ceil(n) + v));
        self.max.fetch_max(v, Relaxed);
    }

    /// The average over the window, scaled for fewer than `SAMPLES` samples
    /// taken so far (`count`), as HAProxy's `swrate_avg` with a smaller window.
    pub fn avg(&self, count: u64) -> u64 {
        let n = Self::SAMPLES;
        let s = self.sum.load(Relaxed);
        let w = count.clamp(1, n);
        // With fewer samples than the window, the sum has not decayed yet.
        if count < n {
            s.div_ceil(w)
        } else {
            s.div_ceil(n)
        }
    }

    pub fn max(&self) -> u64 {
        self.max.load(Relaxed)
    }

    /// `clear counters`: forget the maximum.
    pub fn reset_max(&self) {
        self.max.store(0, Relaxed);
    }

    /// `clear counters all`: forget everything.
    pub fn reset(&self) {
        self.sum.store(0, Relaxed);
        self.max.store(0, Relaxed);
    }
}

/// Counters common to `show stat` rows. Fields are public atomics: callers
/// use `Relaxed` increments; readers tolerate slight skew between fields.
#[derive(Debug, Default)]
pub struct Counters {
    /// Current / max / total sessions (requests in flight for servers).
    pub scur: AtomicU32,
    pub smax: AtomicU32,
    pub stot: AtomicU64,
    pub bin: AtomicU64,
    pub bout: AtomicU64,
    pub dreq: AtomicU64,
    pub dresp: AtomicU64,
    pub ereq: AtomicU64,
    pub econ: AtomicU64,
    pub eresp: AtomicU64,
    pub wretr: AtomicU64,
    pub wredis: AtomicU64,
    pub wrew: AtomicU64,
    pub eint: AtomicU64,
    /// hrsp_1xx .. hrsp_5xx, hrsp_other.
    pub hrsp: [AtomicU64; 6],
    pub req_tot: AtomicU64,
    pub cli_abrt: AtomicU64,
    pub srv_abrt: AtomicU64,
    pub lbtot: AtomicU64,
    pub connect: AtomicU64,
    pub reuse: AtomicU64,
    pub intercepted: AtomicU64,
    pub conn_tot: AtomicU64,
    /// Unix ms of the last session, 0 = never.
    pub last_sess: AtomicU64,
    pub qcur: AtomicU32,
    pub qmax: AtomicU32,
    pub sess_rate: RateCounter,
    pub req_rate: RateCounter,
    pub conn_rate: RateCounter,
    pub qtime: SwRate,
    pub ctime: SwRate,
    pub rtime: SwRate,
    pub ttime: SwRate,
    /// The ssl stats module: full handshakes, resumed ones, failures
    /// (a client's bad or missing ClientHello, not a handshake timeout).
    pub ssl_sess: AtomicU64,
    pub ssl_reused_sess: AtomicU64,
    pub ssl_failed_handshake: AtomicU64,
}

impl Counters {
    /// A session (connection for frontends, request for backends/servers) starts.
    pub fn session_start(&self) {
        let cur = self.scur.fetch_add(1, Relaxed) + 1;
        self.smax.fetch_max(cur, Relaxed);
        self.stot.fetch_add(1, Relaxed);
        let now = now_ms();
        self.sess_rate.add_at(1, now);
        self.last_sess.store(now, Relaxed);
    }

    pub fn session_end(&self) {
        let _ = self
            .scur
            .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(1)));
    }

    fn reset_ssl(&self) {
        for c in [
            &self.ssl_sess,
            &self.ssl_reused_sess,
            &self.ssl_failed_handshake,
        ] {
            c.store(0, Relaxed);
        }
    }

    /// A request enters a queue: `qcur` counts it until the guard drops,
    /// which also happens when the waiting request is abandoned (its
    /// client went away, a hard stop).
    #[must_use = "qcur counts the request until this guard drops"]
    pub fn queue_enter(&self) -> InQueue<'_> {
        let cur = self.qcur.fetch_add(1, Relaxed) + 1;
        self.qmax.fetch_max(cur, Relaxed);
        InQueue(self)
    }

    fn queue_leave(&self) {
        let _ = self
            .qcur
            .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(1)));
    }

    /// A TLS handshake completed (`resumed`: from a session ticket or id).
    pub fn ssl_handshake(&self, resumed: bool) {
        let c = if resumed {
            &self.ssl_reused_sess
        } else {
            &self.ssl_sess
        };
        c.fetch_add(1, Relaxed);
    }

    /// `clear counters`: reset the maxima (HAProxy clears `conn_max`,
    /// `nbpend_max`, the rate maxima and the time maxima) and the ssl
    /// module's counters (a "clearable" stats module).
    pub fn reset_maxima(&self) {
        self.reset_ssl();
        self.smax.store(0, Relaxed);
        self.qmax.store(0, Relaxed);
        for r in [&self.sess_rate, &self.req_rate, &self.conn_rate] {
            r.reset_max();
        }
        for t in [&self.qtime, &self.ctime, &self.rtime, &self.ttime] {
            t.reset_max();
        }
    }

    /// `clear counters all`: reset every counter except the current
    /// (in-flight) gauges `scur` and `qcur`.
    pub fn reset_all(&self) {
        self.reset_ssl();
        for c in [
            &self.stot,
            &self.bin,
            &self.bout,
            &self.dreq,
            &self.dresp,
            &self.ereq,
            &self.econ,
            &self.eresp,
            &self.wretr,
            &self.wredis,
            &self.wrew,
            &self.eint,
            &self.req_tot,
            &self.cli_abrt,
            &self.srv_abrt,
            &self.lbtot,
            &self.connect,
            &self.reuse,
            &self.intercepted,
            &self.conn_tot,
            &self.last_sess,
        ] {
            c.store(0, Relaxed);
        }
        for h in &self.hrsp {
            h.store(0, Relaxed);
        }
        self.smax.store(0, Relaxed);
        self.qmax.store(0, Relaxed);
        for r in [&self.sess_rate, &self.req_rate, &self.conn_rate] {
            r.reset();
        }
        for t in [&self.qtime, &self.ctime, &self.rtime, &self.ttime] {
            t.reset();
        }
    }

    /// Count a response status in `hrsp_*`.
    pub fn count_status(&self, status: u16) {
        let i = match status {
            100..=199 => 0,
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            500..=599 => 4,
            _ => 5,
        };
        self.hrsp[i].fetch_add(1, Relaxed);
    }
}

/// See [`Counters::queue_enter`].
pub struct InQueue<'a>(&'a Counters);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.queue_leave();
    }
}
