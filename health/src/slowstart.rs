//! Slowstart: a server coming back from DOWN or MAINT ramps its weight up
//! linearly over `slowstart` (never at process start). The arithmetic lives
//! in `switchyard_state::slowstart_step` (the proxy and the stats page read
//! it); this module starts ramps; `transition::finish_slowstart` ends them.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use switchyard_state::{OpState, ServerLive};

pub use switchyard_state::{slowstart_step, SLOWSTART_SCALE};

/// The state a server enters when it comes (back) up: STARTING with a ramp
/// beginning now when it has a slowstart, RUNNING otherwise.
pub(crate) fn coming_up_state(slowstart: Option<Duration>) -> OpState {
    match slowstart {
        Some(d) if d.as_millis() > 0 => OpState::Starting,
        _ => OpState::Running,
    }
}

/// Record the beginning of a ramp (called when the op state becomes
/// STARTING).
pub(crate) fn begin(live: &ServerLive, now_ms: u64) {
    live.slowstart_begin_ms.store(now_ms.max(1), Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's observation: weight 100, slowstart 10s, sampled every
    /// 2 s: weight 7 → 25 → 44 → 63 → 82 → 100, throttle 6, 25, 43, 62, 81.
    #[test]
    fn observed_ramp() {
        let ss = Duration::from_secs(10);
        let begin = 1_700_000_000_250u64;
        let mut weights = Vec::new();
        let mut throttles = Vec::new();
        for k in 0..6u64 {
            let now = begin + k * 2000;
            match slowstart_step(begin, now, ss) {
                Some(w) => {
                    weights.push((100 * w).div_ceil(SLOWSTART_SCALE));
                    throttles.push((100 * w * 100 + SLOWSTART_SCALE - 1) / (SLOWSTART_SCALE * 100));
                }
                None => weights.push(100),
            }
        }
        assert_eq!(weights, [7, 25, 44, 63, 82, 100]);
        assert_eq!(throttles, [6, 25, 43, 62, 81]);
    }

    #[test]
    fn whole_seconds_and_rounding() {
        // 5000 ms and 4500 ms both ramp over 5 whole seconds
        let b = 10_000;
        assert_eq!(slowstart_step(b, b, Duration::from_millis(4500)), Some(1));
        assert_eq!(
            slowstart_step(b, b + 4999, Duration::from_millis(4500)),
            Some(13)
        );
        assert_eq!(
            slowstart_step(b, b + 5000, Duration::from_millis(4500)),
            None
        );
        // not ramping
        assert_eq!(slowstart_step(0, b, Duration::from_secs(5)), None);
        assert_eq!(slowstart_step(b, b, Duration::ZERO), None);
        // clock went backwards
        assert_eq!(slowstart_step(b, b - 1000, Duration::from_secs(5)), None);
    }

    #[test]
    fn coming_up() {
        assert_eq!(coming_up_state(None), OpState::Running);
        assert_eq!(coming_up_state(Some(Duration::ZERO)), OpState::Running);
        assert_eq!(
            coming_up_state(Some(Duration::from_secs(1))),
            OpState::Starting
        );
    }
}
