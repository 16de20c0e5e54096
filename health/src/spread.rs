//! Spreading the first checks over time, as HAProxy's `start_checks()` does:
//! the check at position `pos` among the `n` checks of the whole config
//! starts `mininter * pos / n` after boot, where `mininter` is the smallest
//! interval of at least 1 s among all checks (raised to the check's own
//! interval when that is larger).

use std::time::Duration;

use switchyard_config::Config;
use switchyard_state::OpState;

use crate::interval::next_interval;

/// HAProxy's `SRV_CHK_INTER_THRES`: shorter intervals do not set the spread.
const INTER_THRES: Duration = Duration::from_millis(1000);

/// Start delays for checks whose starting intervals are `inters`, in config
/// order (one entry per health check, and one per agent check).
pub fn first_check_delays(inters: &[Duration]) -> Vec<Duration> {
    let n = inters.len() as u128;
    let mininter = inters
        .iter()
        .copied()
        .filter(|i| *i >= INTER_THRES)
        .min()
        .unwrap_or(Duration::ZERO);
    inters
        .iter()
        .enumerate()
        .map(|(pos, own)| {
            let m = mininter.max(*own).as_millis();
            Duration::from_millis((m * pos as u128 / n) as u64)
        })
        .collect()
}

/// A checked server's place in the spread: `(proxy name, server name)`.
pub(crate) type SpreadKey = (String, String);

/// The first-check delay of every checked server of a config, keyed by
/// names. Agent checks take a position too (HAProxy counts them) although
/// switchyard does not run them.
pub(crate) fn config_delays(config: &Config) -> Vec<(SpreadKey, Duration)> {
    let mut inters = Vec::new();
    let mut keys: Vec<Option<SpreadKey>> = Vec::new();
    for p in &config.proxies {
        let Some(b) = p.backend.as_ref().filter(|_| p.kind.has_backend()) else {
            continue;
        };
        for s in &b.servers {
            if s.check {
                // At start health = rise, so this is fastinter unless fall = 1.
                inters.push(next_interval(s, s.rise, OpState::Running, false));
                keys.push(Some((p.name.clone(), s.name.clone())));
            }
            if s.agent_check && s.agent_port.is_some() {
                inters.push(s.agent_inter.unwrap_or(s.inter));
                keys.push(None);
            }
        }
    }
    let delays = first_check_delays(&inters);
    keys.into_iter()
        .zip(delays)
        .filter_map(|(k, d)| k.map(|k| (k, d)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    #[test]
    fn three_servers_inter_60s() {
        // the reference: the third server's first check is 40 s after boot
        assert_eq!(
            first_check_delays(&[s(60), s(60), s(60)]),
            [s(0), s(20), s(40)]
        );
    }

    #[test]
    fn mininter_is_the_smallest_over_threshold() {
        let d = first_check_delays(&[s(2), s(10), Duration::from_millis(500), s(2)]);
        // mininter 2 s; the 10 s check uses its own interval
        assert_eq!(
            d,
            [
                s(0),
                Duration::from_millis(2500),
                s(1),
                Duration::from_millis(1500)
            ]
        );
    }

    #[test]
    fn all_short_intervals() {
        let d = first_check_delays(&[Duration::from_millis(200), Duration::from_millis(200)]);
        assert_eq!(d, [Duration::ZERO, Duration::from_millis(100)]);
    }

    #[test]
    fn empty() {
        assert!(first_check_delays(&[]).is_empty());
    }
}
