//! A whole run: `-c` workers on the tokio runtime, one collector thread that folds their
//! results into hey's statistics and the timeline, and a stop signal (`-z`, Ctrl-C, or a
//! scenario saying it is done). Like hey, requests in flight at the stop still finish
//! and count.

use super::events::unix_ms_now;
use super::sample::Sample;
use super::stats::HeyStats;
use super::timeline::Timeline;
use super::worker::Worker;
use super::{GenError, LoadPlan, Stop};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Stops a run: workers finish their current request and quit.
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<watch::Sender<bool>>);

impl StopHandle {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

/// What a run measured.
#[derive(Debug)]
pub struct RunOutput {
    pub stats: HeyStats,
    pub timeline: Timeline,
    /// From the start of the run to the last worker finishing.
    pub total: Duration,
    pub start_unix_ms: u64,
}

impl RunOutput {
    /// Requests that failed: transport errors plus 5xx responses.
    pub fn failed(&self) -> u64 {
        self.stats.num_errors() + self.stats.num_5xx()
    }
}

pub struct LoadRun {
    plan: Arc<LoadPlan>,
    stop: StopHandle,
}

impl LoadRun {
    pub fn new(plan: LoadPlan) -> Self {
        let (tx, _rx) = watch::channel(false);
        LoadRun {
            plan: Arc::new(plan),
            stop: StopHandle(Arc::new(tx)),
        }
    }

    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    pub async fn run(self) -> Result<RunOutput, GenError> {
        let (tx, rx) = mpsc::channel::<Sample>();
        let collector = std::thread::Builder::new()
            .name("load-collector".into())
            .spawn(move || {
                let mut stats = HeyStats::default();
                let mut timeline = Timeline::new();
                for sample in rx {
                    stats.add(&sample);
                    timeline.add(&sample);
                }
                (stats, timeline)
            })
            .map_err(GenError::Spawn)?;

        let epoch = Instant::now();
        let start_unix_ms = unix_ms_now();
        let mut workers = JoinSet::new();
        for _ in 0..self.plan.concurrency {
            let worker = Worker::new(
                self.plan.clone(),
                epoch,
                tx.clone(),
                self.stop.0.subscribe(),
            );
            workers.spawn(worker.run());
        }
        drop(tx);
        let deadline = match self.plan.stop {
            Stop::Duration(limit) => {
                let stop = self.stop.clone();
                Some(tokio::spawn(async move {
                    tokio::time::sleep(limit).await;
                    stop.stop();
                }))
            }
            Stop::PerWorker(_) | Stop::Manual => None,
        };
        while workers.join_next().await.is_some() {}
        let total = epoch.elapsed();
        if let Some(deadline) = deadline {
            deadline.abort();
        }
        let (stats, mut timeline) = tokio::task::spawn_blocking(move || collector.join())
            .await
            .map_err(|_| GenError::CollectorPanicked)?
            .map_err(|_| GenError::CollectorPanicked)?;
        timeline.finish(total);
        Ok(RunOutput {
            stats,
            timeline,
            total,
            start_unix_ms,
        })
    }
}
