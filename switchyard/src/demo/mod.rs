//! `switchyard demo`: seed 000's blue/green setup on one machine with one
//! command — two demo upstreams, the map-routed proxy, and a short guide.

mod children;
mod config;
mod guide;
mod ports;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tokio::signal::unix::{signal, SignalKind};

use children::{spawn_echo, spawn_proxy, wait_listening, Running};
use ports::DemoPorts;

const STARTUP: Duration = Duration::from_secs(20);
const GRACE: Duration = Duration::from_secs(5);

pub fn run() -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the demo runtime")?;
    runtime.block_on(demo())
}

async fn demo() -> anyhow::Result<ExitCode> {
    // Handlers first, so an early Ctrl-C still cleans up.
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;

    let echo = children::echo_binary()?;
    let ports = DemoPorts::wanted()?.settle(|m| println!("demo: {m}"));
    let dir = Workdir::create()?;
    let map = dir.0.join("hosts.map");
    let cfg = dir.0.join("haproxy.cfg");
    std::fs::write(&map, config::MAP_TEXT).context("writing the map file")?;
    std::fs::write(&cfg, config::config_text(&ports, &map)).context("writing the config")?;

    let mut running: Vec<Running> = Vec::new();
    let outcome = async {
        for (name, port) in [("blue", ports.blue), ("green", ports.green)] {
            running.push(spawn_echo(&echo, name, port)?);
            if let Some(r) = running.last_mut() {
                wait_listening(r, port, STARTUP).await?;
            }
        }
        running.push(spawn_proxy(&cfg)?);
        if let Some(r) = running.last_mut() {
            wait_listening(r, ports.proxy, STARTUP).await?;
        }
        println!("{}", guide::guide(&ports, &cfg, &map));
        anyhow::Ok(())
    }
    .await;

    let code = match outcome {
        Err(e) => {
            eprintln!("demo: {e:#}");
            ExitCode::from(1)
        }
        Ok(()) => {
            let proxy_exit = async {
                match running.last_mut() {
                    Some(p) => p.child.wait().await.ok(),
                    None => None,
                }
            };
            tokio::select! {
                _ = int.recv() => ExitCode::SUCCESS,
                _ = term.recv() => ExitCode::SUCCESS,
                status = proxy_exit => match status.and_then(|s| s.code()) {
                    // Ctrl-C reaches the whole process group: the proxy
                    // stopping on it is the user's stop, not a failure.
                    Some(130 | 143) => ExitCode::SUCCESS,
                    code => {
                        eprintln!("demo: the proxy exited (code {code:?})");
                        ExitCode::from(1)
                    }
                },
            }
        }
    };
    // Proxy first, so no request reaches a stopped upstream.
    for r in running.iter_mut().rev() {
        r.stop(GRACE).await;
    }
    println!("demo: stopped");
    Ok(code)
}

/// A private directory for the config and map, removed when the demo ends.
struct Workdir(PathBuf);

impl Workdir {
    fn create() -> anyhow::Result<Workdir> {
        let dir = std::env::temp_dir().join(format!("switchyard-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Workdir(dir))
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
