//! Reload storm (seed 002): under load, signal the proxy again and again — SIGUSR2 to
//! HAProxy's master (`-W`), SIGHUP, or whatever the proxy takes as "reload" — and wait
//! for its Runtime API to answer between signals.

use super::common::{CommonArgs, LoadSession, ScenarioContext, ScenarioOutcome};
use super::upstream::{parse_signal, send_signal};
use super::ScenarioError;
use crate::gen::cli::parse_duration;
use clap::Args;
use nix::sys::signal::Signal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Args)]
pub struct ReloadArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Pid of the process to signal (HAProxy: the master's, with -W).
    #[arg(
        long,
        conflicts_with = "pid_file",
        required_unless_present = "pid_file"
    )]
    pub pid: Option<u32>,
    /// File holding that pid (haproxy -p FILE); read before each signal.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// The reload signal.
    #[arg(long, default_value = "USR2", value_parser = parse_signal)]
    pub signal: Signal,
    /// Number of signals.
    #[arg(long, default_value_t = 10)]
    pub reloads: u32,
    /// Time between signals.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Do not wait for `show info` to answer after each signal.
    #[arg(long)]
    pub no_wait: bool,
    /// Longest wait for the Runtime API after a signal.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub ready_timeout: Duration,
}

fn target_pid(args: &ReloadArgs) -> Result<u32, ScenarioError> {
    if let Some(pid) = args.pid {
        return Ok(pid);
    }
    let Some(path) = &args.pid_file else {
        return Err(ScenarioError::Usage(
            "--pid or --pid-file is required".into(),
        ));
    };
    let text = std::fs::read_to_string(path).map_err(|source| crate::gen::GenError::ReadFile {
        path: path.clone(),
        source,
    })?;
    text.split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| ScenarioError::Usage(format!("{}: no pid in it", path.display())))
}

pub async fn run(args: &ReloadArgs) -> Result<ScenarioOutcome, ScenarioError> {
    let ctx = ScenarioContext::new(&args.common)?;
    target_pid(args)?;
    ctx.api.command("show info").await?;
    let session = LoadSession::start(&args.common, "reload-storm").await?;
    let acted = act(&ctx, args).await;
    session.finish(&ctx, acted).await
}

async fn act(ctx: &ScenarioContext, args: &ReloadArgs) -> Result<(), ScenarioError> {
    for i in 1..=args.reloads {
        let pid = target_pid(args)?;
        send_signal(pid, args.signal)?;
        ctx.event(format!("reload {i}: {} to pid {pid}", args.signal.as_str()))?;
        let sent = Instant::now();
        if !args.no_wait {
            wait_ready(ctx, args.ready_timeout).await?;
        }
        tokio::time::sleep(args.interval.saturating_sub(sent.elapsed())).await;
    }
    Ok(())
}

/// The Runtime API answers `show info` again (a new worker is serving).
async fn wait_ready(ctx: &ScenarioContext, timeout: Duration) -> Result<(), ScenarioError> {
    let start = Instant::now();
    loop {
        match ctx.api.command("show info").await {
            Ok(reply) if reply.contains("Pid:") || reply.contains("Name:") => return Ok(()),
            Ok(_) | Err(_) if start.elapsed() < timeout => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(reply) => {
                return Err(ScenarioError::Check(format!(
                    "`show info` after a reload answered {:?}",
                    reply.trim()
                )))
            }
            Err(e) => return Err(e.into()),
        }
    }
}
