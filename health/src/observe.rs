//! Passive health (`observe` + `error-limit` + `on-error`): what happens
//! when live traffic has seen `error-limit` consecutive errors. The proxy
//! counts them through `ServerLive::observe` (state crate); this module
//! decides the consequence, as HAProxy's `__health_adjust()`.

use switchyard_config::OnError;

use crate::counter::RiseFall;

pub use switchyard_state::ObserveEvent;

/// The event for a response status (re-exported for convenience).
pub fn classify_http_status(status: u16) -> ObserveEvent {
    ObserveEvent::for_status(status)
}

/// What `on-error` does once the limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnErrorAction {
    /// The health the server has just before the simulated failed check,
    /// `None` when no check failure is simulated (`fastinter`).
    pub health_before_failure: Option<u32>,
    /// Checks run at `fastinter` until the next full UP (all modes).
    pub force_fastinter: bool,
}

impl OnErrorAction {
    /// - `fastinter`: only forces fastinter for the coming checks;
    /// - `fail-check`: one failed check (`HANA`);
    /// - `sudden-death`: as if only one more failure were tolerated, then a
    ///   failed check (an UP server lands on `rise`, the last step before
    ///   DOWN);
    /// - `mark-down`: health set to `rise` then a failed check, i.e. DOWN.
    pub fn for_mode(on_error: OnError, health: u32, rf: RiseFall) -> OnErrorAction {
        let before = match on_error {
            OnError::Fastinter => None,
            OnError::FailCheck => Some(health),
            OnError::SuddenDeath => Some(if health > rf.rise {
                rf.rise + 1
            } else {
                health
            }),
            OnError::MarkDown => Some(rf.rise),
        };
        OnErrorAction {
            health_before_failure: before,
            force_fastinter: true,
        }
    }
}

/// The `last_chk` text of a HANA failure.
pub(crate) fn hana_desc(count: u32, last: Option<ObserveEvent>) -> String {
    let last = last.map(ObserveEvent::desc).unwrap_or("Unknown");
    format!("Detected {count} consecutive errors, last one was: {last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_error_table() {
        let rf = RiseFall::new(2, 3); // max 4
        let h = |m, health| {
            let a = OnErrorAction::for_mode(m, health, rf);
            a.health_before_failure.map(|b| rf.on_failure(b).0)
        };
        assert_eq!(h(OnError::Fastinter, 4), None);
        assert_eq!(h(OnError::FailCheck, 4), Some(3));
        assert_eq!(h(OnError::SuddenDeath, 4), Some(2)); // UP 1/3: one more kills it
        assert_eq!(h(OnError::SuddenDeath, 2), Some(0));
        assert_eq!(h(OnError::MarkDown, 4), Some(0));
        assert_eq!(h(OnError::MarkDown, 1), Some(0));
    }

    #[test]
    fn desc() {
        assert_eq!(
            hana_desc(10, Some(ObserveEvent::L4Err)),
            "Detected 10 consecutive errors, last one was: L4 unsuccessful connection"
        );
    }
}
