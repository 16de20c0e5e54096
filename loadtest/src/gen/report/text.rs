//! The text timeline: one line per second (t, rps, responses per backend, status
//! classes, errors, p50/p99) with the events listed where they happened.

use super::ReportInput;
use crate::gen::outcome::ErrorKind;
use crate::gen::timeline::Second;
use std::fmt::Write as _;

struct Column {
    title: String,
    width: usize,
}

fn columns(titles: &[String]) -> Vec<Column> {
    titles
        .iter()
        .map(|t| Column {
            title: t.clone(),
            width: t.len().max(6),
        })
        .collect()
}

fn error_kinds(second: &Second) -> String {
    ErrorKind::ALL
        .iter()
        .filter(|k| second.errors[k.index()] > 0)
        .map(|k| format!("{} {}", k.name(), second.errors[k.index()]))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn render(input: &ReportInput<'_>) -> String {
    let run = input.run;
    let timeline = &run.timeline;
    let stats = &run.stats;
    let mut out = String::new();
    let _ = writeln!(out, "# switchyard-load timeline: {}", input.meta.title());
    let _ = writeln!(
        out,
        "# start {} (unix ms), {:.3} s, {} requests, {} failed ({} errors, {} 5xx), {} replayed on a new connection",
        run.start_unix_ms,
        run.total.as_secs_f64(),
        stats.num_res,
        run.failed(),
        stats.num_errors(),
        stats.num_5xx(),
        stats.replayed,
    );
    let totals = timeline.backend_totals();
    if !totals.is_empty() {
        let list: Vec<String> = totals.iter().map(|(n, c)| format!("{n}={c}")).collect();
        let _ = writeln!(out, "# backends: {}", list.join(" "));
    }
    let with_backends = !timeline.backends.is_empty();
    let show_unattributed = with_backends && timeline.seconds.iter().any(|s| s.unattributed > 0);
    let mut titles: Vec<String> = vec!["t(s)".into(), "rps".into()];
    if with_backends {
        titles.extend(timeline.backends.iter().cloned());
        if show_unattributed {
            titles.push("-".into());
        }
    }
    titles.extend(
        ["2xx", "3xx", "4xx", "5xx", "errors", "p50(ms)", "p99(ms)"]
            .iter()
            .map(|s| s.to_string()),
    );
    let cols = columns(&titles);
    let mut header = String::from("#");
    for c in &cols {
        let _ = write!(header, " {:>w$}", c.title, w = c.width);
    }
    let _ = writeln!(out, "{}", header.trim_end());

    let start = run.start_unix_ms;
    let event_line = |(i, ev): (usize, &crate::gen::Event)| {
        format!(
            "  >> #{:<3} {:>8.3}s  {}",
            i + 1,
            ev.offset_ms(start) as f64 / 1000.0,
            ev.label
        )
    };
    let mut events = input.events.iter().enumerate().peekable();
    while let Some(ev) = events.next_if(|(_, e)| e.offset_ms(start) < 0) {
        let _ = writeln!(out, "{}", event_line(ev));
    }
    for (t, second) in timeline.seconds.iter().enumerate() {
        let mut cells: Vec<String> = vec![t.to_string(), second.requests.to_string()];
        if with_backends {
            for id in 0..timeline.backends.len() {
                cells.push(second.backend(id).to_string());
            }
            if show_unattributed {
                cells.push(second.unattributed.to_string());
            }
        }
        for class in 1..5 {
            cells.push(second.status[class].to_string());
        }
        cells.push(second.error_total().to_string());
        let has_latency = second.requests > second.error_total();
        for v in [second.latency.p50_ms, second.latency.p99_ms] {
            cells.push(if has_latency {
                format!("{v:.2}")
            } else {
                "-".into()
            });
        }
        let mut line = String::from(" ");
        for (cell, col) in cells.iter().zip(&cols) {
            let _ = write!(line, " {:>w$}", cell, w = col.width);
        }
        if second.error_total() > 0 {
            let _ = write!(line, "  ({})", error_kinds(second));
        }
        let covered = run.total.as_secs_f64() - t as f64;
        if covered < 1.0 {
            let _ = write!(line, "  (last {covered:.3} s)");
        }
        let _ = writeln!(out, "{line}");
        let end_ms = (t as i64 + 1) * 1000;
        while let Some(ev) = events.next_if(|(_, e)| e.offset_ms(start) < end_ms) {
            let _ = writeln!(out, "{}", event_line(ev));
        }
    }
    for ev in events {
        let _ = writeln!(out, "{}", event_line(ev));
    }
    out
}
