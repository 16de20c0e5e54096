//! Waiting for a condition without fixed sleeps: poll until it holds or a deadline passes.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

/// What a polled closure may return: `bool`, `Option<T>` or `Result<T, E>`.
/// `Some`/`Ok`/`true` ends the wait; the last `Err` is quoted in the timeout panic.
pub trait Outcome {
    type Output;
    /// `Ok(value)` when the condition holds, `Err(why_not)` otherwise.
    fn check(self) -> Result<Self::Output, Option<String>>;
}

impl Outcome for bool {
    type Output = ();
    fn check(self) -> Result<(), Option<String>> {
        if self {
            Ok(())
        } else {
            Err(None)
        }
    }
}

impl<T> Outcome for Option<T> {
    type Output = T;
    fn check(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: Debug> Outcome for Result<T, E> {
    type Output = T;
    fn check(self) -> Result<T, Option<String>> {
        self.map_err(|e| Some(format!("{e:?}")))
    }
}

fn timeout_panic(what: &str, timeout: Duration, attempts: u32, last: Option<String>) -> ! {
    match last {
        Some(last) => panic!(
            "eventually: {what} did not happen within {timeout:?} ({attempts} attempts); last error: {last}"
        ),
        None => panic!("eventually: {what} did not happen within {timeout:?} ({attempts} attempts)"),
    }
}

/// Calls `f` every `interval` until it succeeds, and returns its value; panics (naming the
/// caller's line) if `timeout` passes first. `f` always runs at least once.
#[track_caller]
pub fn eventually<R: Outcome>(
    timeout: Duration,
    interval: Duration,
    f: impl FnMut() -> R,
) -> R::Output {
    let caller = std::panic::Location::caller();
    eventually_named(&format!("condition at {caller}"), timeout, interval, f)
}

/// [`eventually`] with a description used in the timeout panic ("blue is UP", ...).
pub fn eventually_named<R: Outcome>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut f: impl FnMut() -> R,
) -> R::Output {
    let deadline = Instant::now() + timeout;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let last = match f().check() {
            Ok(v) => return v,
            Err(last) => last,
        };
        let now = Instant::now();
        if now >= deadline {
            timeout_panic(what, timeout, attempts, last);
        }
        std::thread::sleep(interval.min(deadline - now));
    }
}

/// Async [`eventually`]: `f` returns a future. Uses tokio's clock, so it follows
/// `tokio::time::pause` in tests of timer-driven code.
#[track_caller]
pub fn eventually_async<R, Fut, F>(
    timeout: Duration,
    interval: Duration,
    f: F,
) -> impl Future<Output = R::Output>
where
    R: Outcome,
    Fut: Future<Output = R>,
    F: FnMut() -> Fut,
{
    let what = format!("condition at {}", std::panic::Location::caller());
    async move { eventually_async_named(&what, timeout, interval, f).await }
}

/// [`eventually_async`] with a description used in the timeout panic.
pub async fn eventually_async_named<R, Fut, F>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut f: F,
) -> R::Output
where
    R: Outcome,
    Fut: Future<Output = R>,
    F: FnMut() -> Fut,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let last = match f().await.check() {
            Ok(v) => return v,
            Err(last) => last,
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            timeout_panic(what, timeout, attempts, last);
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
    }
}
