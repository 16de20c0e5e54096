//! Polling the proxies until a condition holds or a deadline passes, with a progress
//! line. This is waiting on real operational state (health checks, in-flight requests),
//! so it polls at a fixed interval.

use crate::error::CtlError;
use crate::progress::{secs, Progress};
use std::thread;
use std::time::{Duration, Instant};

/// Default time between polls.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(500);

/// What one poll found.
pub enum Polled<T> {
    Done(T),
    /// Not yet; the value so far and a short description of it for the progress line.
    Pending(T, String),
}

/// How a wait ended.
pub struct Waited<T> {
    pub value: T,
    pub done: bool,
    pub elapsed: Duration,
}

/// Polls `check` until it is `Done` or `timeout` has passed (it always runs at least
/// once). Errors from `check` end the wait at once.
pub fn poll<T>(
    timeout: Duration,
    interval: Duration,
    progress: &mut Progress,
    mut check: impl FnMut() -> Result<Polled<T>, CtlError>,
) -> Result<Waited<T>, CtlError> {
    let start = Instant::now();
    loop {
        let polled = check();
        let elapsed = start.elapsed();
        match polled {
            Err(e) => {
                progress.finish();
                return Err(e);
            }
            Ok(Polled::Done(value)) => {
                progress.finish();
                return Ok(Waited {
                    value,
                    done: true,
                    elapsed,
                });
            }
            Ok(Polled::Pending(value, text)) => {
                progress.update(&format!(
                    "{text} [{} / deadline {}]",
                    secs(elapsed),
                    secs(timeout)
                ));
                if elapsed >= timeout {
                    progress.finish();
                    return Ok(Waited {
                        value,
                        done: false,
                        elapsed,
                    });
                }
                thread::sleep(
                    interval
                        .min(timeout.saturating_sub(elapsed))
                        .max(Duration::from_millis(10)),
                );
            }
        }
    }
}
