//! The JSON dump of a run: totals, one object per second, the 100 ms backend series the
//! plot is drawn from, and the events.

use super::{ReportInput, RunMeta};
use crate::gen::outcome::ErrorKind;
use crate::gen::timeline::{Percentiles, FINE_BIN};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct Totals {
    requests: u64,
    responses: u64,
    errors: u64,
    status_5xx: u64,
    /// errors + 5xx
    failed: u64,
    replayed: u64,
    rps: f64,
    bytes: u64,
    status_codes: BTreeMap<String, u64>,
    errors_by_kind: BTreeMap<&'static str, u64>,
    error_messages: BTreeMap<String, u64>,
    backends: BTreeMap<String, u64>,
    latency: Percentiles,
}

#[derive(Serialize)]
struct JsonSecond {
    t: usize,
    requests: u64,
    status: BTreeMap<&'static str, u64>,
    errors: u64,
    errors_by_kind: BTreeMap<&'static str, u64>,
    backends: BTreeMap<String, u64>,
    unattributed: u64,
    replayed: u64,
    latency: Percentiles,
}

#[derive(Serialize)]
struct FineSeries {
    bin_ms: u128,
    backends: BTreeMap<String, Vec<u32>>,
    unattributed: Vec<u32>,
    failed: Vec<u32>,
}

#[derive(Serialize)]
struct JsonEvent<'a> {
    unix_ms: u64,
    t_ms: i64,
    label: &'a str,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    tool: &'static str,
    version: &'static str,
    run: &'a RunMeta,
    start_unix_ms: u64,
    duration_s: f64,
    totals: Totals,
    backends: &'a [String],
    seconds: Vec<JsonSecond>,
    fine: FineSeries,
    events: Vec<JsonEvent<'a>>,
}

const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

pub fn render(input: &ReportInput<'_>) -> Result<String, serde_json::Error> {
    let run = input.run;
    let tl = &run.timeline;
    let stats = &run.stats;
    let mut errors_by_kind = BTreeMap::new();
    for kind in ErrorKind::ALL {
        let n: u64 = tl.seconds.iter().map(|s| s.errors[kind.index()]).sum();
        if n > 0 {
            errors_by_kind.insert(kind.name(), n);
        }
    }
    let op = crate::gen::outcome::go_method_op(&input.meta.method);
    let totals = Totals {
        requests: stats.num_res,
        responses: stats.num_ok,
        errors: stats.num_errors(),
        status_5xx: stats.num_5xx(),
        failed: run.failed(),
        replayed: stats.replayed,
        rps: stats.num_res as f64 / run.total.as_secs_f64(),
        bytes: stats.size_total,
        status_codes: stats
            .status_dist
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        errors_by_kind,
        error_messages: stats
            .error_dist
            .iter()
            .map(|(k, v)| (format!("{op} \"{}\": {k}", input.meta.url), *v))
            .collect(),
        backends: tl.backend_totals().into_iter().collect(),
        latency: tl.overall_latency(),
    };
    let seconds = tl
        .seconds
        .iter()
        .enumerate()
        .map(|(t, s)| JsonSecond {
            t,
            requests: s.requests,
            status: CLASSES
                .iter()
                .zip(s.status)
                .filter(|(_, n)| *n > 0)
                .map(|(c, n)| (*c, n))
                .collect(),
            errors: s.error_total(),
            errors_by_kind: ErrorKind::ALL
                .iter()
                .filter(|k| s.errors[k.index()] > 0)
                .map(|k| (k.name(), s.errors[k.index()]))
                .collect(),
            backends: tl
                .backends
                .iter()
                .enumerate()
                .map(|(id, name)| (name.clone(), s.backend(id)))
                .collect(),
            unattributed: s.unattributed,
            replayed: s.replayed,
            latency: s.latency,
        })
        .collect();
    let fine = FineSeries {
        bin_ms: FINE_BIN.as_millis(),
        backends: tl
            .backends
            .iter()
            .enumerate()
            .map(|(id, name)| {
                let series = tl
                    .fine
                    .iter()
                    .map(|b| b.by_backend.get(id).copied().unwrap_or(0))
                    .collect();
                (name.clone(), series)
            })
            .collect(),
        unattributed: tl.fine.iter().map(|b| b.unattributed).collect(),
        failed: tl.fine.iter().map(|b| b.failed).collect(),
    };
    let report = JsonReport {
        tool: "switchyard-load",
        version: env!("CARGO_PKG_VERSION"),
        run: input.meta,
        start_unix_ms: run.start_unix_ms,
        duration_s: run.total.as_secs_f64(),
        totals,
        backends: &tl.backends,
        seconds,
        fine,
        events: input
            .events
            .iter()
            .map(|e| JsonEvent {
                unix_ms: e.unix_ms,
                t_ms: e.offset_ms(run.start_unix_ms),
                label: &e.label,
            })
            .collect(),
    };
    serde_json::to_string_pretty(&report)
}
