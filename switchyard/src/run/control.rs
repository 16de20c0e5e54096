//! The serving loop's reaction to signals: SIGUSR1 soft stop (listeners
//! close now, in-flight requests finish, exit 0), SIGTERM/SIGINT stop at
//! once, SIGUSR2/SIGHUP reserved for reload.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use switchyard_proxy::{Listeners, Proxy};
use switchyard_state::events;
use tokio::signal::unix::{signal, Signal, SignalKind};

use super::stopper::Stopper;

/// The signals we handle. Installed (inside the runtime's context) before
/// the pidfile is written or readiness reported, so a script that signals
/// right after start never hits a default action that kills us.
pub struct Signals {
    usr1: Signal,
    term: Signal,
    int: Signal,
    usr2: Signal,
    hup: Signal,
}

impl Signals {
    pub fn install() -> anyhow::Result<Signals> {
        let on = |kind: SignalKind, name: &str| {
            signal(kind).with_context(|| format!("installing the {name} handler"))
        };
        Ok(Signals {
            usr1: on(SignalKind::user_defined1(), "SIGUSR1")?,
            term: on(SignalKind::terminate(), "SIGTERM")?,
            int: on(SignalKind::interrupt(), "SIGINT")?,
            usr2: on(SignalKind::user_defined2(), "SIGUSR2")?,
            hup: on(SignalKind::hangup(), "SIGHUP")?,
        })
    }
}

/// Serve until stopped; returns the process exit code.
pub async fn serve_until_stopped(
    proxy: Proxy,
    listeners: Listeners,
    stopper: Arc<Stopper>,
    hard_stop_after: Option<Duration>,
    signals: Signals,
) -> anyhow::Result<ExitCode> {
    let Signals {
        mut usr1,
        mut term,
        mut int,
        mut usr2,
        mut hup,
    } = signals;

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
