//! Running the real `hey` load generator (as seed 000 does) and reading its summary.

use regex::Regex;
use std::collections::BTreeMap;
use std::io;
use std::process::Command;
use std::sync::OnceLock;

/// What `hey` reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeySummary {
    /// Responses plus errors.
    pub total_requests: u64,
    /// Status code → number of responses.
    pub status_codes: BTreeMap<u16, u64>,
    /// (count, message) from "Error distribution".
    pub errors: Vec<(u64, String)>,
    pub requests_per_sec: Option<f64>,
    /// "Total:" duration in seconds.
    pub total_secs: Option<f64>,
    /// hey's whole output, for failure messages.
    pub raw: String,
}

impl HeySummary {
    /// Requests that got no response at all.
    pub fn error_count(&self) -> u64 {
        self.errors.iter().map(|(n, _)| n).sum()
    }

    /// Responses with this status.
    pub fn count(&self, status: u16) -> u64 {
        self.status_codes.get(&status).copied().unwrap_or(0)
    }

    /// No errors, and every response a 200.
    pub fn only_200(&self) -> bool {
        self.errors.is_empty() && self.count(200) == self.total_requests
    }

    /// Errors plus responses that are not 2xx/3xx: what a zero-downtime run must keep at 0.
    pub fn failed(&self) -> u64 {
        let bad: u64 = self
            .status_codes
            .iter()
            .filter(|(s, _)| !(200..400).contains(*s))
            .map(|(_, n)| n)
            .sum();
        bad + self.error_count()
    }

    /// Panics, quoting the summary, if any request failed.
    #[track_caller]
    pub fn assert_no_failures(&self) {
        assert_eq!(self.failed(), 0, "hey saw failed requests:\n{}", self.raw);
    }
}

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| match Regex::new(pattern) {
        Ok(r) => r,
        Err(e) => panic!("bad built-in regex {pattern}: {e}"),
    })
}

/// Parses hey's default (summary) output.
pub fn parse_hey(output: &str) -> HeySummary {
    static ENTRY: OnceLock<Regex> = OnceLock::new();
    static STATUS: OnceLock<Regex> = OnceLock::new();
    static SECS: OnceLock<Regex> = OnceLock::new();
    let entry = regex(&ENTRY, r"^\s*\[(\d+)\]\s+(.*)$");
    let status = regex(&STATUS, r"^(\d+) responses$");
    let secs = regex(&SECS, r"^\s*(Total|Requests/sec):\s+([0-9.]+)");
    let mut summary = HeySummary {
        raw: output.to_owned(),
        ..HeySummary::default()
    };
    #[derive(PartialEq)]
    enum Section {
        Other,
        Status,
        Errors,
    }
    let mut section = Section::Other;
    for line in output.lines() {
        let trimmed = line.trim();
        if trimmed == "Status code distribution:" {
            section = Section::Status;
            continue;
        }
        if trimmed == "Error distribution:" {
            section = Section::Errors;
            continue;
        }
        if section == Section::Other {
            if let Some(c) = secs.captures(line) {
                let value = c[2].parse::<f64>().ok();
                match &c[1] {
                    "Total" => summary.total_secs = value,
                    _ => summary.requests_per_sec = value,
                }
            }
            continue;
        }
        let Some(c) = entry.captures(line) else {
            if !trimmed.is_empty() {
                section = Section::Other;
            }
            continue;
        };
        let n = c[1].parse::<u64>().unwrap_or(0);
        match section {
            Section::Status => {
                if let Some(s) = status.captures(c[2].trim()) {
                    let count = s[1].parse::<u64>().unwrap_or(0);
                    *summary
                        .status_codes
                        .entry(n.min(u16::MAX as u64) as u16)
                        .or_default() += count;
                }
            }
            Section::Errors => summary.errors.push((n, c[2].to_owned())),
            Section::Other => {}
        }
    }
    summary.total_requests = summary.status_codes.values().sum::<u64>() + summary.error_count();
    summary
}

/// Runs `hey <args>` and parses its summary.
pub fn try_run_hey(args: &[&str]) -> io::Result<HeySummary> {
    let out = Command::new("hey").args(args).output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "hey {args:?} failed ({}): {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(parse_hey(&text))
}

/// Runs `hey <args>` (e.g. `["-n", "1000", "-c", "10", url]`); panics if hey cannot run.
#[track_caller]
pub fn run_hey(args: &[&str]) -> HeySummary {
    match try_run_hey(args) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// True if the `hey` binary is installed.
pub fn hey_available() -> bool {
    Command::new("hey").arg("-h").output().is_ok()
}
