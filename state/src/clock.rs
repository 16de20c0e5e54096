//! The clock of one task poll. While a connection task is being polled
//! (inside a [`PollScope`]), every reading returns the time read at its
//! first use in that poll, as HAProxy reads its clock once per pass of its
//! event loop: a request read fifteen clocks before, each a vDSO call and
//! a subtraction. Outside a scope (admin, health checks, tests) every
//! reading is a fresh one.

use std::cell::Cell;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy)]
struct Cache {
    on: bool,
    mono: Option<Instant>,
    /// The wall clock, and it in milliseconds since the epoch (counters
    /// want that several times a request).
    wall: Option<(SystemTime, u64)>,
}

const OFF: Cache = Cache {
    on: false,
    mono: None,
    wall: None,
};

thread_local! {
    static CACHE: Cell<Cache> = const { Cell::new(OFF) };
}

/// Readings taken while this lives (on this thread) are shared; dropping it
/// restores what was there before, so scopes may nest.
#[must_use]
pub struct PollScope {
    prev: Cache,
}

impl PollScope {
    pub fn enter() -> PollScope {
        let prev = CACHE.with(|c| {
            c.replace(Cache {
                on: true,
                mono: None,
                wall: None,
            })
        });
        PollScope { prev }
    }
}

impl Drop for PollScope {
    fn drop(&mut self) {
        CACHE.with(|c| c.set(self.prev));
    }
}

/// The monotonic time: the poll's reading inside a scope.
#[inline]
pub fn now() -> Instant {
    CACHE.with(|c| {
        let mut v = c.get();
        if !v.on {
            return Instant::now();
        }
        match v.mono {
            Some(t) => t,
            None => {
                let t = Instant::now();
                v.mono = Some(t);
                c.set(v);
                t
            }
        }
    })
}

fn wall_now() -> (SystemTime, u64) {
    let t = SystemTime::now();
    let ms = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    (t, ms)
}

fn wall_pair() -> (SystemTime, u64) {
    CACHE.with(|c| {
        let mut v = c.get();
        if !v.on {
            return wall_now();
        }
        match v.wall {
            Some(w) => w,
            None => {
                let w = wall_now();
                v.wall = Some(w);
                c.set(v);
                w
            }
        }
    })
}

/// The wall-clock time: the poll's reading inside a scope.
#[inline]
pub fn wall() -> SystemTime {
    wall_pair().0
}

/// Wall-clock milliseconds since the Unix epoch.
#[inline]
pub fn now_ms() -> u64 {
    wall_pair().1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Waits until the real clock has moved past `t` (no fixed sleep: the
    /// clock's resolution is what is waited for).
    fn after(t: Instant) {
        while Instant::now() <= t {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn a_scope_reads_once() {
        let _s = PollScope::enter();
        let (a, w) = (now(), wall());
        after(a);
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(now(), a);
        assert_eq!(wall(), w);
    }

    #[test]
    fn outside_a_scope_every_reading_is_fresh() {
        let a = now();
        after(a);
        assert!(now() > a);
        {
            let _s = PollScope::enter();
            let b = now();
            after(b);
            assert_eq!(now(), b);
        }
        let c = now();
        after(c);
        assert!(now() > c, "the scope's reading must not outlive it");
    }

    #[test]
    fn nested_scopes_restore_the_outer_reading() {
        let _outer = PollScope::enter();
        let a = now();
        after(a);
        {
            let _inner = PollScope::enter();
            assert!(now() > a, "an inner scope reads afresh");
        }
        assert_eq!(now(), a);
    }
}
