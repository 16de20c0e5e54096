//! HAProxy's rise/fall health counter (`check->health`), as a pure value.
//!
//! The counter runs from 0 to `rise + fall - 1`; the server is UP when it is
//! at least `rise`. A success counts up and, on reaching `rise`, jumps to the
//! maximum; a failure counts down and, on dropping below `rise`, falls to 0.

/// The `rise`/`fall` of one server's check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiseFall {
    pub rise: u32,
    pub fall: u32,
}

impl RiseFall {
    /// `rise`/`fall` clamped to at least 1 (HAProxy rejects 0 in the config).
    pub fn new(rise: u32, fall: u32) -> RiseFall {
        RiseFall {
            rise: rise.max(1),
            fall: fall.max(1),
        }
    }

    /// The top of the counter: `rise + fall - 1` ("fully UP").
    pub fn max(self) -> u32 {
        self.rise + self.fall - 1
    }

    /// UP when health >= rise.
    pub fn is_up(self, health: u32) -> bool {
        health >= self.rise
    }

    /// A passed (or conditionally passed) check.
    pub fn on_success(self, health: u32) -> u32 {
        if health >= self.max() {
            return self.max();
        }
        let h = health + 1;
        if h >= self.rise {
            self.max()
        } else {
            h
        }
    }

    /// A failed check: the new health and whether it counts as a failed check
    /// (`chkfail`); HAProxy counts only when health was above 0.
    pub fn on_failure(self, health: u32) -> (u32, bool) {
        if health == 0 {
            return (0, false);
        }
        let h = health - 1;
        (if h < self.rise { 0 } else { h }, true)
    }

    /// The `x/y` HAProxy shows after `UP`/`DOWN`, or `None` when the counter
    /// is at an end (plain `UP` at the max, plain `DOWN` at 0). Going down it
    /// is "failures still tolerated / fall", going up "successes / rise".
    pub fn fraction(self, health: u32) -> Option<(u32, u32)> {
        if self.is_up(health) {
            (health < self.max()).then(|| (health - self.rise + 1, self.fall))
        } else {
            (health > 0).then_some((health, self.rise))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rise2_fall2() {
        let rf = RiseFall::new(2, 2);
        // (start, event, expected health, chkfail counted)
        let cases: &[(u32, bool, u32, bool)] = &[
            (2, false, 0, true),  // startup UP 1/2 -> one failure -> DOWN
            (0, true, 1, false),  // DOWN -> DOWN 1/2
            (1, true, 3, false),  // DOWN 1/2 -> UP (jumps to max)
            (3, true, 3, false),  // UP stays UP
            (3, false, 2, true),  // UP -> UP 1/2
            (2, false, 0, true),  // UP 1/2 -> DOWN
            (0, false, 0, false), // DOWN stays DOWN, not counted
            (1, false, 0, true),  // DOWN 1/2 -> DOWN
            (2, true, 3, false),  // UP 1/2 -> UP
        ];
        for &(h, ok, want, counted) in cases {
            if ok {
                assert_eq!(rf.on_success(h), want, "success from {h}");
            } else {
                assert_eq!(rf.on_failure(h), (want, counted), "failure from {h}");
            }
        }
    }

    #[test]
    fn table_rise3_fall3() {
        let rf = RiseFall::new(3, 3);
        assert_eq!(rf.max(), 5);
        assert_eq!(rf.on_failure(5), (4, true));
        assert_eq!(rf.on_failure(4), (3, true));
        assert_eq!(rf.on_failure(3), (0, true));
        assert_eq!(rf.on_success(0), 1);
        assert_eq!(rf.on_success(1), 2);
        assert_eq!(rf.on_success(2), 5);
    }

    #[test]
    fn fractions_match_haproxy_status_strings() {
        let rf = RiseFall::new(2, 3);
        assert_eq!(rf.fraction(4), None); // UP
        assert_eq!(rf.fraction(3), Some((2, 3))); // UP 2/3
        assert_eq!(rf.fraction(2), Some((1, 3))); // UP 1/3 (startup)
        assert_eq!(rf.fraction(1), Some((1, 2))); // DOWN 1/2
        assert_eq!(rf.fraction(0), None); // DOWN
    }

    #[test]
    fn rise1_fall1() {
        let rf = RiseFall::new(1, 1);
        assert_eq!(rf.max(), 1);
        assert_eq!(rf.on_failure(1), (0, true));
        assert_eq!(rf.on_success(0), 1);
        assert_eq!(rf.fraction(1), None);
    }
}
