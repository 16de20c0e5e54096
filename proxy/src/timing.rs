//! Millisecond timers for the log's `%TR/%Tw/%Tc/%Tr/%Ta`, and the request
//! path's timeouts, all on the poll's clock ([`clock`]): one reading serves
//! every timer a poll starts.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use switchyard_state::clock;
use tokio::time::{Instant as TokioInstant, Sleep, Timeout};

/// When a request started, on both clocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    pub(crate) at: Instant,
    pub(crate) date: SystemTime,
}

impl Start {
    pub(crate) fn now() -> Start {
        Start {
            at: clock::now(),
            date: clock::wall(),
        }
    }

    /// Milliseconds from the start to `t`.
    pub(crate) fn ms(&self, t: Instant) -> i64 {
        t.saturating_duration_since(self.at).as_millis() as i64
    }

    pub(crate) fn elapsed(&self) -> i64 {
        self.ms(clock::now())
    }
}

/// `d` from now, for tokio's timers.
#[inline(always)]
pub(crate) fn deadline(d: Duration) -> TokioInstant {
    TokioInstant::from_std(clock::now()) + d
}

/// `tokio::time::timeout` on the poll's clock.
#[inline(always)]
pub(crate) fn timeout<F: Future>(d: Duration, f: F) -> Timeout<F> {
    tokio::time::timeout_at(deadline(d), f)
}

/// `tokio::time::sleep` on the poll's clock.
#[inline(always)]
pub(crate) fn sleep(d: Duration) -> Sleep {
    tokio::time::sleep_until(deadline(d))
}
