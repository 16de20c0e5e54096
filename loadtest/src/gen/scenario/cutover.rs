//! Cutover: under load, point a map entry at the other backend and back, N times,
//! through `set map` (seeds 000 and 004). Ends on the backend it started with.

use super::common::{CommonArgs, LoadSession, ScenarioContext, ScenarioOutcome};
use super::ScenarioError;
use crate::gen::cli::parse_duration;
use clap::Args;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct CutoverArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Map identifier as the proxy knows it (the file path in the config, or #<id>).
    #[arg(long)]
    pub map: String,
    /// Map key that selects the backend (e.g. SIMPLE_SERVICE, active).
    #[arg(long)]
    pub key: String,
    /// Backend in service at the start and the end (e.g. blue).
    #[arg(long)]
    pub from: String,
    /// Backend to cut over to (e.g. green).
    #[arg(long)]
    pub to: String,
    /// Number of cutovers; each is followed by a rollback.
    #[arg(long, default_value_t = 5)]
    pub cutovers: u32,
    /// Time on each side between switches.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    pub interval: Duration,
    /// Skip the checks: both backends UP before starting, `show map` after each switch.
    #[arg(long)]
    pub no_verify: bool,
    /// Longest wait for both backends to be UP in `show stat` before starting.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub up_timeout: Duration,
}

pub async fn run(args: &CutoverArgs) -> Result<ScenarioOutcome, ScenarioError> {
    let ctx = ScenarioContext::new(&args.common)?;
    if !args.no_verify {
        for backend in [&args.from, &args.to] {
            ctx.api.wait_up(backend, "BACKEND", args.up_timeout).await?;
        }
    }
    switch(&ctx, args, &args.from, "start").await?;
    let session = LoadSession::start(&args.common, "cutover").await?;
    let acted = act(&ctx, args).await;
    session.finish(&ctx, acted).await
}

async fn act(ctx: &ScenarioContext, args: &CutoverArgs) -> Result<(), ScenarioError> {
    for i in 1..=args.cutovers {
        switch(ctx, args, &args.to, &format!("cutover {i}")).await?;
        tokio::time::sleep(args.interval).await;
        switch(ctx, args, &args.from, &format!("rollback {i}")).await?;
        tokio::time::sleep(args.interval).await;
    }
    Ok(())
}

async fn switch(
    ctx: &ScenarioContext,
    args: &CutoverArgs,
    backend: &str,
    what: &str,
) -> Result<(), ScenarioError> {
    ctx.api.set_map(&args.map, &args.key, backend).await?;
    ctx.event(format!("{what}: set map {} -> {backend}", args.key))?;
    if !args.no_verify {
        let now = ctx.api.map_value(&args.map, &args.key).await?;
        if now.as_deref() != Some(backend) {
            return Err(ScenarioError::Check(format!(
                "after `set map`, `show map {}` has {} = {:?}, not {backend}",
                args.map, args.key, now
            )));
        }
    }
    Ok(())
}
