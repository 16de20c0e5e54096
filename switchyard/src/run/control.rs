//! The serving loop's reaction to signals: SIGUSR1 soft stop (listeners
//! close now, in-flight requests finish, exit 0), SIGTERM/SIGINT stop at
//! once, SIGUSR2/SIGHUP reserved for reload.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use switchyard_proxy::{Listeners, Proxy};
use switchyard_state::{events, Store};
use tokio::signal::unix::{signal, SignalKind};

/// Serve until stopped; returns the process exit code.
pub async fn serve_until_stopped(
    proxy: Proxy,
    listeners: Listeners,
    store: Arc<Store>,
    hard_stop_after: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let mut usr1 = signal(SignalKind::user_defined1()).context("installing SIGUSR1 handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let mut usr2 = signal(SignalKind::user_defined2()).context("installing SIGUSR2 handler")?;
    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;

    let stop = proxy.shutdown_handle();
    let serving = tokio::spawn({
        let proxy = proxy.clone();
        async move { proxy.serve(listeners).await }
    });
    tokio::pin!(serving);
    let mut soft_deadline: Option<tokio::time::Instant> = None;

    loop {
        let deadline = async {
            match soft_deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = usr1.recv() => {
                if !stop.is_stopping() {
                    // Starting the stop closes the listeners at once.
                    drop(stop.soft_stop());
                    report_stopped_proxies(&store);
                    soft_deadline = hard_stop_after.map(|d| tokio::time::Instant::now() + d);
                }
            }
            _ = term.recv() => return Ok(stop_now(&stop, 143)),
            _ = int.recv() => return Ok(stop_now(&stop, 130)),
            _ = usr2.recv() => events::warning("reload not supported yet (SIGUSR2 ignored)"),
            _ = hup.recv() => events::warning("reload not supported yet (SIGHUP ignored)"),
            _ = deadline => {
                events::warning("soft-stop running for too long, performing a hard-stop.");
                stop.hard_stop();
                soft_deadline = None;
            }
            res = &mut serving => {
                res.context("the proxy task failed")?;
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

/// SIGTERM/SIGINT: cut everything and leave. HAProxy exits with the
/// signal's conventional status (143 for SIGTERM).
fn stop_now(stop: &switchyard_proxy::ShutdownHandle, code: u8) -> ExitCode {
    stop.hard_stop();
    ExitCode::from(code)
}

/// HAProxy's `Proxy X stopped (cumulated conns: FE: n, BE: m).` lines.
fn report_stopped_proxies(store: &Store) {
    use std::sync::atomic::Ordering::Relaxed;
    let snap = store.load();
    for p in &snap.proxies {
        let fe = p.live.fe.conn_tot.load(Relaxed);
        let be = p.live.be.stot.load(Relaxed);
        events::warning(&format!(
            "Proxy {} stopped (cumulated conns: FE: {fe}, BE: {be}).",
            p.name
        ));
    }
}
