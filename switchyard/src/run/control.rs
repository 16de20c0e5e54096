//! The serving loop's reaction to signals: SIGUSR1 soft stop (listeners
//! close now, in-flight requests finish, exit 0), SIGTERM/SIGINT stop at
//! once, SIGUSR2/SIGHUP reserved for reload.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use switchyard_proxy::{Listeners, Proxy};
use switchyard_state::events;
use tokio::signal::unix::{signal, SignalKind};

use super::stopper::Stopper;

/// Serve until stopped; returns the process exit code.
pub async fn serve_until_stopped(
    proxy: Proxy,
    listeners: Listeners,
    stopper: Arc<Stopper>,
    hard_stop_after: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let mut usr1 = signal(SignalKind::user_defined1()).context("installing SIGUSR1 handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let mut usr2 = signal(SignalKind::user_defined2()).context("installing SIGUSR2 handler")?;
    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;

    let serving = tokio::spawn(async move { proxy.serve(listeners).await });
    tokio::pin!(serving);
    let mut hard_deadline: Option<tokio::time::Instant> = None;

    loop {
        let deadline = async {
            match hard_deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = usr1.recv() => stopper.soft_stop(),
            // A soft stop began (here or through the Runtime API).
            _ = stopper.soft_started.notified() => {
                hard_deadline = hard_stop_after.map(|d| tokio::time::Instant::now() + d);
            }
            _ = term.recv() => return Ok(stop_now(&stopper, 143)),
            _ = int.recv() => return Ok(stop_now(&stopper, 130)),
            _ = usr2.recv() => events::warning("reload not supported yet (SIGUSR2 ignored)"),
            _ = hup.recv() => events::warning("reload not supported yet (SIGHUP ignored)"),
            _ = deadline => {
                events::warning("soft-stop running for too long, performing a hard-stop.");
                stopper.hard_stop();
                hard_deadline = None;
            }
            res = &mut serving => {
                res.context("the proxy task failed")?;
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

/// SIGTERM/SIGINT: cut everything and leave, with the signal's conventional
/// status (HAProxy's shell sees 143 for SIGTERM).
fn stop_now(stopper: &Stopper, code: u8) -> ExitCode {
    stopper.hard_stop();
    ExitCode::from(code)
}
