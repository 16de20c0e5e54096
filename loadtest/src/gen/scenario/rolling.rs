//! Rolling restart (seed 001): under load, restart each upstream in turn and wait for
//! the proxy to see it UP again before touching the next. With `--drain`, each server
//! is first put in DRAIN through the Runtime API and emptied of connections.

use super::common::{CommonArgs, LoadSession, ScenarioContext, ScenarioOutcome};
use super::upstream::{parse_signal, Upstream, UpstreamSpec};
use super::ScenarioError;
use crate::gen::cli::parse_duration;
use clap::Args;
use nix::sys::signal::Signal;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct RollingArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// An upstream the scenario starts and restarts: <backend>/<server>[@host:port]=<command>,
    /// with <backend>/<server> as in `show stat` and host:port where it listens (a restart
    /// then also waits for it to accept connections). Repeatable; restarted in order.
    #[arg(long = "upstream", required = true)]
    pub upstreams: Vec<UpstreamSpec>,
    /// Restart rounds over all upstreams.
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    /// Signal that asks an upstream to stop.
    #[arg(long, default_value = "TERM", value_parser = parse_signal)]
    pub stop_signal: Signal,
    /// How long an upstream may take to exit after the signal before it is killed.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub grace: Duration,
    /// Longest wait for a server to be UP in `show stat`.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub up_timeout: Duration,
    /// Pause after each server is back UP, before the next one.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub pause: Duration,
    /// Before stopping a server: `set server <b>/<s> state drain` and wait until its
    /// current sessions (scur) reach 0; `state ready` after the restart.
    #[arg(long)]
    pub drain: bool,
}

/// Starts every upstream and waits until the proxy sees all of them UP.
pub async fn start_all(
    ctx: &ScenarioContext,
    specs: &[UpstreamSpec],
    common: &CommonArgs,
    up_timeout: Duration,
) -> Result<Vec<Upstream>, ScenarioError> {
    let mut upstreams: Vec<Upstream> = specs
        .iter()
        .map(|s| Upstream::new(s.clone(), common.report.as_deref()))
        .collect();
    if let Some(dir) = &common.report {
        std::fs::create_dir_all(dir).map_err(|source| crate::gen::GenError::WriteFile {
            path: dir.clone(),
            source,
        })?;
    }
    for u in &mut upstreams {
        u.start()?;
    }
    for u in &mut upstreams {
        wait_up(ctx, u, up_timeout).await?;
    }
    Ok(upstreams)
}

/// Waits for UP, failing early if the process died.
pub async fn wait_up(
    ctx: &ScenarioContext,
    upstream: &mut Upstream,
    timeout: Duration,
) -> Result<(), ScenarioError> {
    upstream.wait_listening(timeout).await?;
    let spec = upstream.spec.clone();
    let waited = ctx.api.wait_up(&spec.backend, &spec.server, timeout).await;
    if let Some(status) = upstream.exited() {
        return Err(ScenarioError::UpstreamExited {
            name: spec.name(),
            status: status.to_string(),
        });
    }
    Ok(waited?)
}

pub async fn run(args: &RollingArgs) -> Result<ScenarioOutcome, ScenarioError> {
    let ctx = ScenarioContext::new(&args.common)?;
    let mut upstreams = start_all(&ctx, &args.upstreams, &args.common, args.up_timeout).await?;
    let session = LoadSession::start(&args.common, "rolling-restart").await?;
    let acted = act(&ctx, args, &mut upstreams).await;
    let outcome = session.finish(&ctx, acted).await;
    for u in &mut upstreams {
        let _ = u.stop(args.stop_signal, args.grace).await;
    }
    outcome
}

async fn act(
    ctx: &ScenarioContext,
    args: &RollingArgs,
    upstreams: &mut [Upstream],
) -> Result<(), ScenarioError> {
    for round in 1..=args.rounds {
        let count = upstreams.len();
        for (pos, u) in upstreams.iter_mut().enumerate() {
            let (backend, server, name) =
                (u.spec.backend.clone(), u.spec.server.clone(), u.spec.name());
            if args.drain {
                ctx.api.set_server_state(&backend, &server, "drain").await?;
                ctx.event(format!("round {round}: drain {name}"))?;
                ctx.api
                    .wait_for(
                        &backend,
                        &server,
                        "scur",
                        &format!("{name} empty"),
                        args.grace,
                        |v| v == "0",
                    )
                    .await?;
            }
            ctx.event(format!(
                "round {round}: stop {name} ({})",
                args.stop_signal.as_str()
            ))?;
            u.stop(args.stop_signal, args.grace).await?;
            u.start()?;
            ctx.event(format!("round {round}: start {name}"))?;
            if args.drain {
                ctx.api.set_server_state(&backend, &server, "ready").await?;
            }
            // A quick restart may never show DOWN; with an @addr the wait includes the
            // new process accepting connections, so the old UP cannot fool it.
            wait_up(ctx, u, args.up_timeout).await?;
            ctx.event(format!("round {round}: {name} UP"))?;
            if pos + 1 < count || round < args.rounds {
                tokio::time::sleep(args.pause).await;
            }
        }
    }
    Ok(())
}
