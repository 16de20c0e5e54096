//! Serving, in HAProxy's order: (re-exec into the background for `-D`) →
//! load and build → runtime and signal handlers → fetch the old process's
//! sockets (`-x`) → bind every socket → signal old pids, write the pidfile
//! → drop privileges → report ready → proxy on a multi-thread runtime,
//! admin and health on their own thread; reloads in-process on SIGUSR2 or
//! SIGHUP.

mod admin;
mod closing;
mod control;
mod daemon;
mod inherit;
mod oldpids;
mod pidfile;
mod privileges;
mod reload;
mod sdnotify;
mod sockets;
mod statsock;
mod stopper;
mod tracing_init;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use switchyard_admin::AdminCtx;
use switchyard_proxy::Proxy;
use switchyard_state::Store;
use tokio::sync::mpsc;

use crate::cli::Args;
use crate::console;
use crate::fdpass::FdSource;
use crate::listener_set::ListenerSet;
use crate::load::{self, listener_count};

/// Whether this process is the background half of `-D` / `daemon`.
pub fn is_daemon_child() -> bool {
    daemon::is_child()
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let child = daemon::is_child();
    let foreground = args.no_background || args.debug;
    if args.daemon && !child && !foreground {
        return daemon::spawn_and_wait(false);
    }
    if child {
        daemon::start_session();
    }

    let mut opts = args.load_options();
    opts.silent_warnings = daemon::warnings_shown();
    let loaded = match load::load(&opts, None) {
        Ok(l) => l,
        Err(e) => {
            e.report();
            return Ok(ExitCode::from(1));
        }
    };
    let config = loaded.config.clone();
    // `daemon` in the config, without -D: same background start.
    if config.global.daemon && !child && !foreground {
        return daemon::spawn_and_wait(true);
    }
    if listener_count(&config) == 0 {
        console::alert(
            "[haproxy.main()] No enabled listener found (check for 'bind' directives) ! Exiting.",
        );
        return Ok(ExitCode::from(1));
    }

    let threads = config
        .global
        .nbthread
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // One thread: tokio's current-thread scheduler, run on this thread. Its
    // single FIFO run queue is fair under many connections (the
    // multi-thread scheduler's local queue holds 256 tasks and overflows
    // into a global queue it visits less often, which shows as tail
    // latency), and it needs no cross-thread synchronisation.
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("switchyard-proxy")
            .enable_all()
            .build()
    }
    .context("starting the proxy runtime")?;

    // Handlers go in before anything outside can see us (a bound port, the
    // pidfile): a signal sent right after must not hit a default action.
    let signals = {
        let _rt = runtime.enter();
        control::Signals::install()?
    };

    let store = Arc::new(Store::new(loaded.snapshot));
    let Some(inherited) = inherit::fetch(args) else {
        return Ok(ExitCode::from(1));
    };
    let Some((listeners, bound_admin)) = sockets::bind_all(&store, &config, inherited) else {
        return Ok(ExitCode::from(1));
    };

    // As HAProxy: old pids are told and the pidfile (often under /run)
    // written while still privileged.
    oldpids::tell(&args.old_pids, args.old_pid_signal);
    if let Some(path) = args.pidfile.as_ref().or(config.global.pidfile.as_ref()) {
        if let Err(e) = pidfile::write(path) {
            console::alert(&format!("{e:#}"));
            return Ok(ExitCode::from(1));
        }
    }
    if let Err(e) = privileges::drop_privileges(&config.global) {
        console::alert(&format!("{e:#}"));
        return Ok(ExitCode::from(1));
    }
    // `-W` or `master-worker` in the config: HAProxy's master says this.
    if args.master_worker || config.global.master_worker {
        console::notice("Loading success.");
    }
    if args.master_worker_systemd {
        sdnotify::ready();
    }
    console::end_startup();
    if child {
        daemon::report_ready_and_detach(false)?;
    }

    switchyard_state::events::set_quiet(console::is_quiet());
    tracing_init::init(console::is_quiet());
    crate::eventlog::install(config.global.logs.clone());

    let mut ctx = AdminCtx::from_config(&config);
    ctx.nbthread = threads as u32;
    let ctx = Arc::new(ctx);
    let proxy = {
        let _rt = runtime.enter();
        Proxy::new(store.clone(), admin::services(ctx.clone()))
    };
    let listener_set = Arc::new(ListenerSet::new(listeners.clone()));
    let fd_source = Arc::new(FdSource::new(
        listener_set.clone(),
        statsock::dup_fds(&bound_admin.sockets).context("duplicating the stats sockets")?,
    ));
    let stopper = Arc::new(stopper::Stopper::new(
        proxy.clone(),
        fd_source.clone(),
        store.clone(),
        ctx.clone(),
    ));
    let weak = Arc::downgrade(&stopper);
    ctx.set_soft_stop_hook(move || {
        if let Some(s) = weak.upgrade() {
            s.request_soft_stop();
        }
    });
    let (reload_tx, reload_requests) = mpsc::unbounded_channel();
    ctx.set_reload_hook(move || {
        let _ = reload_tx.send(());
    });
    let admin_sockets = admin::spawn_thread(
        bound_admin,
        store.clone(),
        ctx,
        fd_source.clone(),
        stopper.stopped(),
    )?;
    let reloader = Arc::new(reload::Reloader::new(
        args.load_options(),
        store,
        (listener_set, fd_source, admin_sockets),
        proxy.clone(),
        args.master_worker_systemd,
    ));

    let code = runtime.block_on(control::serve_until_stopped(
        control::Serving {
            proxy,
            listeners,
            stopper,
            reloader,
            reload_requests,
        },
        signals,
    ))?;
    if args.master_worker_systemd {
        sdnotify::stopping();
    }
    // Leave now: a hard stop must not wait for tasks still unwinding.
    runtime.shutdown_background();
    Ok(code)
}
