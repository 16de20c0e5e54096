//! The serving loop's reaction to signals: SIGUSR1 soft stop (listeners
//! close now, in-flight requests finish, exit 0), SIGTERM/SIGINT stop at
//! once, SIGUSR2/SIGHUP (and the Runtime API's reload hook) reload the
//! configuration in-process.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use switchyard_proxy::{Listeners, Proxy};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;

use super::reload::Reloader;
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

/// Everything the serving loop drives.
pub struct Serving {
    pub proxy: Proxy,
    pub listeners: Listeners,
    pub stopper: Arc<Stopper>,
    pub reloader: Arc<Reloader>,
    /// Reload requests from the Runtime API.
    pub reload_requests: mpsc::UnboundedReceiver<()>,
}

/// Serve until stopped; returns the process exit code.
pub async fn serve_until_stopped(s: Serving, signals: Signals) -> anyhow::Result<ExitCode> {
    let Signals {
        mut usr1,
        mut term,
        mut int,
        mut usr2,
        mut hup,
    } = signals;
    let Serving {
        proxy,
        listeners,
        stopper,
        reloader,
        mut reload_requests,
    } = s;

    let serving = tokio::spawn(async move { proxy.serve(listeners).await });
    tokio::pin!(serving);
    let mut hard_deadline: Option<tokio::time::Instant> = None;
    let mut reloads = Reloads::new(reloader);

    loop {
        let deadline = async {
            match hard_deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = usr1.recv() => {
                if stopper.soft_stop().await {
                    hard_deadline = stopper
                        .hard_stop_after()
                        .map(|d| tokio::time::Instant::now() + d);
                }
            }
            // A soft stop asked through the Runtime API.
            _ = stopper.requested.notified() => {
                if stopper.soft_stop().await {
                    hard_deadline = stopper
                        .hard_stop_after()
                        .map(|d| tokio::time::Instant::now() + d);
                }
            }
            _ = term.recv() => return Ok(stop_now(&stopper, 143)),
            _ = int.recv() => return Ok(stop_now(&stopper, 130)),
            _ = usr2.recv() => reloads.request(&stopper),
            _ = hup.recv() => reloads.request(&stopper),
            Some(()) = reload_requests.recv() => reloads.request(&stopper),
            Some(_) = reloads.done.recv() => reloads.finished(&stopper),
            _ = deadline => {
                stopper.hard_stop_after_expired();
                hard_deadline = None;
            }
            res = &mut serving => {
                res.context("the proxy task failed")?;
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

/// One reload at a time, on a blocking thread (it reads files and resolves
/// names); a request during a reload runs once that one is over, so the
/// last configuration written is always the one loaded.
struct Reloads {
    reloader: Arc<Reloader>,
    running: bool,
    pending: bool,
    tx: mpsc::UnboundedSender<bool>,
    done: mpsc::UnboundedReceiver<bool>,
}

impl Reloads {
    fn new(reloader: Arc<Reloader>) -> Reloads {
        let (tx, done) = mpsc::unbounded_channel();
        Reloads {
            reloader,
            running: false,
            pending: false,
            tx,
            done,
        }
    }

    fn request(&mut self, stopper: &Stopper) {
        // A stopping process has handed its work over; it loads nothing new.
        if stopper.is_stopping() {
            return;
        }
        if self.running {
            self.pending = true;
            return;
        }
        self.running = true;
        let (reloader, tx) = (self.reloader.clone(), self.tx.clone());
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(reloader.reload());
        });
    }

    fn finished(&mut self, stopper: &Stopper) {
        self.running = false;
        if std::mem::take(&mut self.pending) {
            self.request(stopper);
        }
    }
}

/// SIGTERM/SIGINT: cut everything and leave, with the signal's conventional
/// status (HAProxy's shell sees 143 for SIGTERM).
fn stop_now(stopper: &Stopper, code: u8) -> ExitCode {
    stopper.hard_stop();
    ExitCode::from(code)
}
