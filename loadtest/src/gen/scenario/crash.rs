//! Upstream crash: under load, SIGKILL one upstream (no goodbye, connections reset),
//! leave it down for a while, start it again and wait for UP. A proxy with health
//! checks, retries and redispatch should turn this into zero failed requests.

use super::common::{CommonArgs, LoadSession, ScenarioContext, ScenarioOutcome};
use super::rolling::{start_all, wait_up};
use super::upstream::{Upstream, UpstreamSpec};
use super::ScenarioError;
use crate::gen::cli::parse_duration;
use clap::Args;
use nix::sys::signal::Signal;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct CrashArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// An upstream the scenario starts: <backend>/<server>[@host:port]=<command>.
    /// Repeatable: start them all, so the proxy has somewhere to send traffic.
    #[arg(long = "upstream", required = true)]
    pub upstreams: Vec<UpstreamSpec>,
    /// Which one to kill, as <backend>/<server> (default: the first).
    #[arg(long)]
    pub victim: Option<String>,
    /// Number of crashes.
    #[arg(long, default_value_t = 1)]
    pub crashes: u32,
    /// How long the victim stays down.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub down_for: Duration,
    /// Pause after the victim is back UP, before the next crash.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub pause: Duration,
    /// Leave the victim down (it is still killed at the end).
    #[arg(long)]
    pub no_restart: bool,
    /// Longest wait for a server to be UP in `show stat`.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub up_timeout: Duration,
}

pub async fn run(args: &CrashArgs) -> Result<ScenarioOutcome, ScenarioError> {
    let victim = match &args.victim {
        Some(name) => args
            .upstreams
            .iter()
            .position(|u| &u.name() == name)
            .ok_or_else(|| ScenarioError::Usage(format!("--victim {name}: no such --upstream")))?,
        None => 0,
    };
    let ctx = ScenarioContext::new(&args.common)?;
    let mut upstreams = start_all(&ctx, &args.upstreams, &args.common, args.up_timeout).await?;
    let session = LoadSession::start(&args.common, "upstream-crash").await?;
    let acted = act(&ctx, args, &mut upstreams[victim]).await;
    let outcome = session.finish(&ctx, acted).await;
    for u in &mut upstreams {
        let _ = u.stop(Signal::SIGTERM, Duration::from_secs(5)).await;
    }
    outcome
}

async fn act(
    ctx: &ScenarioContext,
    args: &CrashArgs,
    victim: &mut Upstream,
) -> Result<(), ScenarioError> {
    let name = victim.spec.name();
    for i in 1..=args.crashes {
        victim.crash().await?;
        ctx.event(format!("crash {i}: SIGKILL {name}"))?;
        tokio::time::sleep(args.down_for).await;
        if args.no_restart {
            break;
        }
        victim.start()?;
        ctx.event(format!("crash {i}: restart {name}"))?;
        wait_up(ctx, victim, args.up_timeout).await?;
        ctx.event(format!("crash {i}: {name} UP"))?;
        if i < args.crashes {
            tokio::time::sleep(args.pause).await;
        }
    }
    Ok(())
}
