//! What every scenario shares: the arguments (proxy URL, stats socket, request options,
//! report), the event log, and the load session around the scripted actions.

use super::runtime_api::{ApiAddr, RuntimeApi};
use super::ScenarioError;
use crate::gen::cli::{parse_duration, RequestOptions};
use crate::gen::events::{self, Event};
use crate::gen::report::{ReportFiles, ReportInput, RunMeta};
use crate::gen::{LoadRun, RunOutput, Stop, StopHandle};
use clap::Args;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// URL of the proxy under test, e.g. http://127.0.0.1:8785/
    #[arg(long)]
    pub url: String,
    /// Runtime API address: 127.0.0.1:9000, ipv4@127.0.0.1:9000, unix@/path or /path.
    #[arg(long)]
    pub stats_socket: String,
    /// Load before the first action.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Load after the last action.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub settle: Duration,
    /// Write timeline.txt, report.json, timeline.svg and summary.txt here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Also append each event (`<unix_ms> <label>`) to this file (emptied at the
    /// start); events other tools append to it during the run show on the timeline too.
    #[arg(long)]
    pub event_file: Option<PathBuf>,
    /// Failed requests (errors + 5xx) tolerated before the scenario fails.
    #[arg(long, default_value_t = 0)]
    pub max_failed: u64,
    /// Longest wait for one Runtime API reply.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub api_timeout: Duration,
    #[command(flatten)]
    pub request: RequestOptions,
}

/// The Runtime API and the event log, shared by the setup and the actions.
pub struct ScenarioContext {
    pub api: RuntimeApi,
    events: Mutex<Vec<Event>>,
    event_file: Option<PathBuf>,
}

impl ScenarioContext {
    pub fn new(common: &CommonArgs) -> Result<Self, ScenarioError> {
        let addr: ApiAddr = common.stats_socket.parse()?;
        if let Some(file) = &common.event_file {
            // A fresh log per run: stale events from an earlier run would mislead.
            std::fs::write(file, "").map_err(|source| crate::gen::GenError::WriteFile {
                path: file.clone(),
                source,
            })?;
        }
        Ok(ScenarioContext {
            api: RuntimeApi::new(addr, common.api_timeout),
            events: Mutex::new(Vec::new()),
            event_file: common.event_file.clone(),
        })
    }

    /// Records an event now (and prints it, so a person watching sees progress).
    pub fn event(&self, label: impl Into<String>) -> Result<(), ScenarioError> {
        let event = Event::now(label);
        eprintln!("  [{}] {}", event.unix_ms, event.label);
        if let Some(file) = &self.event_file {
            events::append(file, &event)?;
        }
        if let Ok(mut list) = self.events.lock() {
            list.push(event);
        }
        Ok(())
    }

    fn events(&self) -> Result<Vec<Event>, ScenarioError> {
        if let Some(file) = &self.event_file {
            return Ok(events::read(file)?);
        }
        let mut list = self.events.lock().map(|l| l.clone()).unwrap_or_default();
        list.sort_by_key(|e| e.unix_ms);
        Ok(list)
    }
}

/// The result of a scenario: the load run, the events, and whether the actions worked.
pub struct ScenarioOutcome {
    pub meta: RunMeta,
    pub output: RunOutput,
    pub events: Vec<Event>,
    /// The error that stopped the actions early, if any.
    pub action_error: Option<ScenarioError>,
    pub report: Option<ReportFiles>,
    pub max_failed: u64,
}

impl ScenarioOutcome {
    pub fn passed(&self) -> bool {
        self.action_error.is_none()
            && self.output.stats.num_res > 0
            && self.output.failed() <= self.max_failed
    }

    pub fn report_input(&self) -> ReportInput<'_> {
        ReportInput {
            meta: &self.meta,
            run: &self.output,
            events: &self.events,
        }
    }

    /// One line: PASS/FAIL and the counts behind it.
    pub fn verdict(&self) -> String {
        let stats = &self.output.stats;
        let mut line = format!(
            "{}: {}: {} requests, {} failed ({} errors, {} 5xx), {} replayed on a new connection, {} events",
            self.meta.name,
            if self.passed() { "PASS" } else { "FAIL" },
            stats.num_res,
            self.output.failed(),
            stats.num_errors(),
            stats.num_5xx(),
            stats.replayed,
            self.events.len(),
        );
        if let Some(e) = &self.action_error {
            line.push_str(&format!("; stopped early: {}", error_chain(e)));
        }
        line
    }
}

/// An error with its causes, `a: b: c`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// Load running in the background while a scenario acts.
pub struct LoadSession {
    meta: RunMeta,
    stop: StopHandle,
    task: JoinHandle<Result<RunOutput, crate::gen::GenError>>,
    settle: Duration,
    report: Option<PathBuf>,
    max_failed: u64,
}

impl LoadSession {
    /// Starts the load and lets it run for `--warmup`.
    pub async fn start(common: &CommonArgs, name: &str) -> Result<Self, ScenarioError> {
        let plan = common.request.plan(&common.url, Stop::Manual)?;
        let meta = RunMeta {
            name: format!("scenario {name}"),
            method: plan.method.to_string(),
            url: common.url.clone(),
            concurrency: plan.concurrency,
            qps: plan.qps,
        };
        let run = LoadRun::new(plan);
        let stop = run.stop_handle();
        let task = tokio::spawn(run.run());
        tokio::time::sleep(common.warmup).await;
        Ok(LoadSession {
            meta,
            stop,
            task,
            settle: common.settle,
            report: common.report.clone(),
            max_failed: common.max_failed,
        })
    }

    /// Lets the load run for `--settle`, stops it, writes the report.
    pub async fn finish(
        self,
        ctx: &ScenarioContext,
        acted: Result<(), ScenarioError>,
    ) -> Result<ScenarioOutcome, ScenarioError> {
        tokio::time::sleep(self.settle).await;
        self.stop.stop();
        let output = self.task.await.map_err(ScenarioError::LoadTask)??;
        let mut events = ctx.events()?;
        let end = output.start_unix_ms + output.total.as_millis() as u64;
        // Setup events (before the load) stay; anything far outside the run does not.
        events.retain(|e| e.unix_ms + 600_000 >= output.start_unix_ms && e.unix_ms <= end + 60_000);
        let mut outcome = ScenarioOutcome {
            meta: self.meta,
            output,
            events,
            action_error: acted.err(),
            report: None,
            max_failed: self.max_failed,
        };
        if let Some(dir) = &self.report {
            outcome.report = Some(outcome.report_input().write(dir)?);
        }
        Ok(outcome)
    }
}
