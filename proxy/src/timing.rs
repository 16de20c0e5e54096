//! Millisecond timers for the log's `%TR/%Tw/%Tc/%Tr/%Ta`.

use std::time::{Instant, SystemTime};

/// When a request started, on both clocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    pub(crate) at: Instant,
    pub(crate) date: SystemTime,
}

impl Start {
    pub(crate) fn now() -> Start {
        Start {
            at: Instant::now(),
            date: SystemTime::now(),
        }
    }

    /// Milliseconds from the start to `t`.
    pub(crate) fn ms(&self, t: Instant) -> i64 {
        t.saturating_duration_since(self.at).as_millis() as i64
    }

    pub(crate) fn elapsed(&self) -> i64 {
        self.ms(Instant::now())
    }
}
