//! The record of one command run: step lines printed as they happen (human mode) and
//! the one JSON document printed at the end (`--json`), including on failure.

use crate::error::CtlError;
use crate::exit::Exit;
use crate::progress::Progress;
use crate::render::color::Palette;
use crate::target::Target;
use serde::Serialize;
use serde_json::{Map, Value};
use std::io::Write;

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub phase: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub ok: bool,
    pub detail: String,
}

pub struct Report {
    command: &'static str,
    json: bool,
    quiet: bool,
    palette: Palette,
    steps: Vec<Step>,
    fields: Map<String, Value>,
}

impl Report {
    pub fn new(command: &'static str, json: bool, quiet: bool, palette: Palette) -> Report {
        Report {
            command,
            json,
            quiet,
            palette,
            steps: Vec::new(),
            fields: Map::new(),
        }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    pub fn palette(&self) -> Palette {
        self.palette
    }

    /// A live progress line, unless `--quiet`.
    pub fn progress(&self) -> Progress {
        Progress::new(!self.quiet)
    }

    /// Records a step; in human mode prints it at once.
    pub fn step(
        &mut self,
        phase: &'static str,
        target: Option<&Target>,
        ok: bool,
        detail: impl Into<String>,
    ) {
        let target = target.map(Target::to_string);
        let mut detail: String = detail.into();
        // Errors name their target already; do not say it twice.
        if let Some(rest) = target
            .as_ref()
            .and_then(|t| detail.strip_prefix(&format!("{t}: ")))
        {
            detail = rest.to_owned();
        }
        let step = Step {
            phase,
            target,
            ok,
            detail,
        };
        if !self.json && !self.quiet {
            let mark = if ok {
                String::new()
            } else {
                self.palette.red("FAILED ")
            };
            let line = match &step.target {
                Some(t) => format!("{phase:<8} {mark}{t}: {}", step.detail),
                None => format!("{phase:<8} {mark}{}", step.detail),
            };
            print_line(&line);
        }
        self.steps.push(step);
    }

    /// Adds a field to the final JSON document.
    pub fn set(&mut self, key: &str, value: impl Serialize) {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.fields.insert(key.to_owned(), value);
    }

    /// Prints the outcome and returns the exit code.
    pub fn finish(self, result: Result<String, CtlError>) -> i32 {
        let exit = match &result {
            Ok(_) => Exit::Ok,
            Err(e) => e.exit(),
        };
        if self.json {
            let mut doc = Map::new();
            doc.insert("command".into(), Value::from(self.command));
            doc.insert("ok".into(), Value::from(result.is_ok()));
            doc.insert("exit_code".into(), Value::from(exit.code()));
            doc.insert(
                "exit".into(),
                serde_json::to_value(exit).unwrap_or(Value::Null),
            );
            match &result {
                Ok(summary) => doc.insert("summary".into(), Value::from(summary.as_str())),
                Err(e) => doc.insert("error".into(), Value::from(e.to_string())),
            };
            doc.extend(self.fields);
            doc.insert(
                "steps".into(),
                serde_json::to_value(&self.steps).unwrap_or(Value::Null),
            );
            print_line(&serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default());
        } else {
            match &result {
                Ok(summary) if !summary.is_empty() => print_line(summary),
                Ok(_) => {}
                Err(e) => eprintln!("switchyard ctl {}: {e}", self.command),
            }
        }
        exit.code()
    }
}

/// Writes one line to stdout; a closed stdout (`| head`) is not worth a panic.
pub fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}
