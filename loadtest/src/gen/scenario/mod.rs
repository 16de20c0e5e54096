//! Scenarios: load on, then a scripted disturbance through the proxy's Runtime API,
//! signals or upstream processes, then a verdict — every request answered, none failed.
//! They speak only the Runtime API and POSIX signals, so they run unchanged against
//! HAProxy 2.6 and switchyard.
//!
//! `switchyard-load scenario <cutover|rolling-restart|reload-storm|upstream-crash> ...`

mod common;
mod crash;
mod cutover;
mod reload;
mod rolling;
pub mod runtime_api;
pub mod upstream;

pub use common::{CommonArgs, ScenarioContext, ScenarioOutcome};
pub use crash::CrashArgs;
pub use cutover::CutoverArgs;
pub use reload::ReloadArgs;
pub use rolling::RollingArgs;
pub use runtime_api::{ApiAddr, ApiError, RuntimeApi, StatTable};

use super::GenError;
use clap::{Parser, Subcommand};

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(transparent)]
    Gen(#[from] GenError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("{0}")]
    Usage(String),
    #[error("check failed: {0}")]
    Check(String),
    #[error("starting {command:?}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("sending {signal} to pid {pid}")]
    Signal {
        pid: u32,
        signal: &'static str,
        #[source]
        source: nix::Error,
    },
    #[error("upstream {name} exited on its own ({status})")]
    UpstreamExited { name: String, status: String },
    #[error("the load generator task failed")]
    LoadTask(#[source] tokio::task::JoinError),
}

/// `switchyard-load scenario ...`
#[derive(Debug, Parser)]
#[command(
    name = "switchyard-load scenario",
    bin_name = "switchyard-load scenario",
    about = "Run load against a proxy while disturbing it; exit 1 if any request failed",
    after_help = "Each scenario prints hey's summary and a verdict, writes a report with \
                  --report DIR, and exits 0 only if no request failed (errors or 5xx)."
)]
pub struct ScenarioCli {
    #[command(subcommand)]
    pub scenario: Scenario,
}

#[derive(Debug, Subcommand)]
pub enum Scenario {
    /// Flip a map entry between two backends N times (`set map`), ending where it began.
    Cutover(CutoverArgs),
    /// Restart upstream processes one by one, waiting for UP in `show stat` between.
    RollingRestart(RollingArgs),
    /// Signal the proxy (SIGUSR2, SIGHUP, ...) repeatedly.
    ReloadStorm(ReloadArgs),
    /// SIGKILL an upstream under load, then start it again.
    UpstreamCrash(CrashArgs),
}

impl Scenario {
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Cutover(_) => "cutover",
            Scenario::RollingRestart(_) => "rolling-restart",
            Scenario::ReloadStorm(_) => "reload-storm",
            Scenario::UpstreamCrash(_) => "upstream-crash",
        }
    }

    pub fn common(&self) -> &CommonArgs {
        match self {
            Scenario::Cutover(a) => &a.common,
            Scenario::RollingRestart(a) => &a.common,
            Scenario::ReloadStorm(a) => &a.common,
            Scenario::UpstreamCrash(a) => &a.common,
        }
    }

    pub async fn run(&self) -> Result<ScenarioOutcome, ScenarioError> {
        match self {
            Scenario::Cutover(a) => cutover::run(a).await,
            Scenario::RollingRestart(a) => rolling::run(a).await,
            Scenario::ReloadStorm(a) => reload::run(a).await,
            Scenario::UpstreamCrash(a) => crash::run(a).await,
        }
    }
}
