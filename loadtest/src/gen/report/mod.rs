//! The report of a run, written to a directory: `timeline.txt` (one line per second),
//! `report.json` (everything, machine-readable), `timeline.svg` (the plot) and
//! `summary.txt` (hey's summary).

mod json;
mod plot;
mod text;

use super::events::Event;
use super::hey_summary::{self, SummaryContext};
use super::run::RunOutput;
use super::GenError;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What was run, for titles and the JSON dump.
#[derive(Debug, Clone, Serialize)]
pub struct RunMeta {
    /// `load` for a plain run, or the scenario's name.
    pub name: String,
    pub method: String,
    pub url: String,
    pub concurrency: usize,
    pub qps: Option<f64>,
}

impl RunMeta {
    pub fn title(&self) -> String {
        let mut title = format!("{} {} -c {}", self.method, self.url, self.concurrency);
        if let Some(q) = self.qps {
            title.push_str(&format!(" -q {q}"));
        }
        if self.name != "load" {
            title = format!("{}: {title}", self.name);
        }
        title
    }
}

pub struct ReportInput<'a> {
    pub meta: &'a RunMeta,
    pub run: &'a RunOutput,
    /// Sorted by time.
    pub events: &'a [Event],
}

/// The files a report consists of.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub timeline: PathBuf,
    pub json: PathBuf,
    pub svg: PathBuf,
    pub summary: PathBuf,
}

impl ReportInput<'_> {
    /// hey's summary text for this run.
    pub fn summary(&self) -> String {
        let backends =
            (!self.run.timeline.backends.is_empty()).then(|| self.run.timeline.backend_totals());
        hey_summary::render(
            &self.run.stats,
            &SummaryContext {
                method: &self.meta.method,
                url: &self.meta.url,
                total: self.run.total,
                backends,
            },
        )
    }

    pub fn timeline_text(&self) -> String {
        text::render(self)
    }

    pub fn json(&self) -> Result<String, GenError> {
        Ok(json::render(self)?)
    }

    /// Writes all report files into `dir` (created if needed).
    pub fn write(&self, dir: &Path) -> Result<ReportFiles, GenError> {
        let write_err = |path: &Path| {
            let path = path.to_owned();
            move |source| GenError::WriteFile { path, source }
        };
        std::fs::create_dir_all(dir).map_err(write_err(dir))?;
        let files = ReportFiles {
            timeline: dir.join("timeline.txt"),
            json: dir.join("report.json"),
            svg: dir.join("timeline.svg"),
            summary: dir.join("summary.txt"),
        };
        std::fs::write(&files.timeline, self.timeline_text())
            .map_err(write_err(&files.timeline))?;
        std::fs::write(&files.json, self.json()?).map_err(write_err(&files.json))?;
        std::fs::write(&files.summary, self.summary()).map_err(write_err(&files.summary))?;
        plot::draw(&files.svg, self).map_err(|reason| GenError::Plot {
            path: files.svg.clone(),
            reason,
        })?;
        Ok(files)
    }
}
