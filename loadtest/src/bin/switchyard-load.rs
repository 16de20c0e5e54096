//! `switchyard-load`: hey's command line and summary on hyper, with a timeline report;
//! `switchyard-load scenario <name>` for scripted cutovers; `switchyard-load event` to
//! mark the timeline from a shell script. See `switchyard_loadtest::gen`.

use anyhow::Context;
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use switchyard_loadtest::gen::cli::{normalize_go_flags, HeyCli};
use switchyard_loadtest::gen::events::{self, Event};
use switchyard_loadtest::gen::hey_summary::render_csv;
use switchyard_loadtest::gen::scenario::ScenarioCli;
use switchyard_loadtest::gen::{LoadRun, ReportInput, RunMeta};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("scenario") => scenario(normalize_go_flags(args.into_iter().skip(1))),
        Some("event") => event(&args[2..]),
        _ => load(normalize_go_flags(args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("switchyard-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime(threads: Option<usize>) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads.filter(|n| *n > 0) {
        builder.worker_threads(n);
    }
    builder
        .enable_all()
        .build()
        .context("starting the tokio runtime")
}

/// hey mode: `switchyard-load [options] <url>`.
fn load(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let cli = HeyCli::parse_from(args);
    let plan = match cli.plan() {
        Ok(plan) => plan,
        Err(e) => {
            // hey prints the problem and exits 1 on bad usage.
            eprintln!("{e}\n\nRun `switchyard-load --help` for the options.");
            return Ok(ExitCode::FAILURE);
        }
    };
    let meta = RunMeta {
        name: "load".into(),
        method: plan.method.to_string(),
        url: cli.url.clone(),
        concurrency: plan.concurrency,
        qps: plan.qps,
    };
    let output = runtime(cli.cpus)?.block_on(async {
        let run = LoadRun::new(plan);
        let stop = run.stop_handle();
        // Ctrl-C stops the run and still prints the summary, as in hey.
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.stop();
            }
        });
        run.run().await
    })?;
    let events = match &cli.event_file {
        Some(path) => {
            let mut all = events::read(path)?;
            let end = output.start_unix_ms + output.total.as_millis() as u64;
            all.retain(|e| e.unix_ms + 60_000 >= output.start_unix_ms && e.unix_ms <= end + 60_000);
            all
        }
        None => Vec::new(),
    };
    let input = ReportInput {
        meta: &meta,
        run: &output,
        events: &events,
    };
    let text = if cli.output.as_deref() == Some("csv") {
        render_csv(&output.stats)
    } else {
        input.summary()
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .context("writing stdout")?;
    stdout.flush().context("writing stdout")?;
    if output.stats.replayed > 0 {
        eprintln!(
            "note: {} requests failed on a reused keep-alive connection before any response byte and were replayed on a new one, as Go's client does (--no-retry counts them as errors)",
            output.stats.replayed
        );
    }
    if let Some(dir) = &cli.report {
        let files = input.write(dir)?;
        eprintln!(
            "report: {} {} {} {}",
            files.timeline.display(),
            files.json.display(),
            files.svg.display(),
            files.summary.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `switchyard-load scenario <name> ...`.
fn scenario(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let cli = ScenarioCli::parse_from(args);
    let name = cli.scenario.name();
    let threads = None;
    let outcome = runtime(threads)?
        .block_on(cli.scenario.run())
        .with_context(|| format!("scenario {name}"))?;
    let input = outcome.report_input();
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(input.summary().as_bytes())
        .context("writing stdout")?;
    writeln!(stdout, "{}", outcome.verdict()).context("writing stdout")?;
    stdout.flush().context("writing stdout")?;
    if let Some(files) = &outcome.report {
        eprintln!(
            "report: {} {} {}",
            files.timeline.display(),
            files.json.display(),
            files.svg.display()
        );
    }
    Ok(if outcome.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `switchyard-load event <file> <label...>`: append `<unix_ms> <label>` to the file.
fn event(args: &[String]) -> anyhow::Result<ExitCode> {
    let Some((file, label)) = args.split_first().filter(|(_, l)| !l.is_empty()) else {
        eprintln!("usage: switchyard-load event <file> <label...>");
        return Ok(ExitCode::FAILURE);
    };
    events::append(std::path::Path::new(file), &Event::now(label.join(" ")))?;
    Ok(ExitCode::SUCCESS)
}
