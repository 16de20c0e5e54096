//! Which interval the next check waits (HAProxy's `srv_getinter`) and how
//! long a check may take.

use std::time::Duration;

use switchyard_config::{Server, Timeouts};
use switchyard_state::OpState;

use crate::counter::RiseFall;

/// The wait before the next check:
/// - fully UP (health at `rise+fall-1`) and no forced fastinter: `inter`;
/// - fully DOWN (stopped, health 0): `downinter`, else `inter`;
/// - anything transitional, including "not yet checked" (health = rise) or a
///   passive-health error that forces fastinter: `fastinter`, else `inter`.
pub fn next_interval(cfg: &Server, health: u32, op: OpState, force_fastinter: bool) -> Duration {
    let rf = RiseFall::new(cfg.rise, cfg.fall);
    if !force_fastinter && health >= rf.max() {
        return cfg.inter;
    }
    if op == OpState::Stopped && health == 0 {
        return cfg.downinter.unwrap_or(cfg.inter);
    }
    cfg.fastinter.unwrap_or(cfg.inter)
}

/// Time limits of one check, measured as HAProxy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckDeadlines {
    /// From the check's start to an established connection.
    pub connect: Duration,
    /// For the rest of the check: `Some(t)` = `timeout check`, counted from
    /// the moment the connection is established; `None` = the check must end
    /// within `inter` of its start.
    pub after_connect: Option<Duration>,
    /// The whole-check limit from its start when `after_connect` is `None`.
    pub total: Duration,
}

/// HAProxy 2.6: a check expires `inter` after it starts; when both `timeout
/// check` and `timeout connect` are set the connect phase is cut to
/// `min(inter, timeout connect)`, and once connected `timeout check` (when
/// set) restarts the clock for the rest of the check.
pub fn check_deadlines(inter: Duration, timeouts: &Timeouts) -> CheckDeadlines {
    let connect = match (timeouts.check, timeouts.connect) {
        (Some(_), Some(c)) => inter.min(c),
        _ => inter,
    };
    CheckDeadlines {
        connect,
        after_connect: timeouts.check,
        total: inter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::server;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn interval_table() {
        let mut s = server("s1");
        s.inter = ms(2000);
        s.fastinter = Some(ms(500));
        s.downinter = Some(ms(5000));
        s.rise = 2;
        s.fall = 3;
        // (health, op, forced, expected)
        let cases = [
            (4, OpState::Running, false, 2000), // fully up
            (4, OpState::Running, true, 500),   // on-error fastinter
            (2, OpState::Running, false, 500),  // not yet checked (health=rise)
            (3, OpState::Running, false, 500),  // UP 2/3
            (1, OpState::Stopped, false, 500),  // DOWN 1/2
            (0, OpState::Stopped, false, 5000), // fully down
            (0, OpState::Running, false, 500),  // odd: health 0 but running
            (4, OpState::Stopping, false, 2000),
        ];
        for (h, op, forced, want) in cases {
            assert_eq!(
                next_interval(&s, h, op, forced),
                ms(want),
                "health {h} {op:?} {forced}"
            );
        }
    }

    #[test]
    fn intervals_fall_back_to_inter() {
        let mut s = server("s1");
        s.inter = ms(1000);
        s.rise = 2;
        s.fall = 2;
        assert_eq!(next_interval(&s, 2, OpState::Running, false), ms(1000));
        assert_eq!(next_interval(&s, 0, OpState::Stopped, false), ms(1000));
    }

    #[test]
    fn fall1_starts_fully_up() {
        let mut s = server("s1");
        s.fastinter = Some(ms(100));
        s.rise = 2;
        s.fall = 1;
        assert_eq!(next_interval(&s, 2, OpState::Running, false), s.inter);
    }

    #[test]
    fn deadlines() {
        let mut t = Timeouts::default();
        let d = check_deadlines(ms(2000), &t);
        assert_eq!(
            d,
            CheckDeadlines {
                connect: ms(2000),
                after_connect: None,
                total: ms(2000)
            }
        );
        t.connect = Some(ms(500));
        // connect alone does not shorten the check
        assert_eq!(check_deadlines(ms(2000), &t).connect, ms(2000));
        t.check = Some(ms(1000));
        let d = check_deadlines(ms(2000), &t);
        assert_eq!(d.connect, ms(500));
        assert_eq!(d.after_connect, Some(ms(1000)));
        t.connect = Some(ms(5000));
        assert_eq!(check_deadlines(ms(2000), &t).connect, ms(2000));
    }
}
