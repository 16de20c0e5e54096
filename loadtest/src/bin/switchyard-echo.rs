//! `switchyard-echo`: the demo upstream (see `switchyard_loadtest::echo`).

use anyhow::Context;
use clap::Parser;
use std::io::Write;
use switchyard_loadtest::echo::{EchoConfig, EchoServer};
use tokio::signal::unix::{signal, SignalKind};

fn main() -> anyhow::Result<()> {
    let config = EchoConfig::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(run(config))
}

async fn run(config: EchoConfig) -> anyhow::Result<()> {
    // Signal handlers go in before the ready line: a test may signal right after it.
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let sigterm_503 = config.sigterm_503;
    let server = EchoServer::bind(config).await?;
    let name = server.state().name().to_owned();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", server.local_addr()).context("writing stdout")?;
        out.flush().context("writing stdout")?;
    }
    let stop = async move {
        let which = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        let how = if sigterm_503 {
            "answering 503 during the grace period"
        } else {
            "listener closed"
        };
        eprintln!("{name}: {which} received, draining ({how})");
    };
    server.serve(stop).await?;
    eprintln!("stopped");
    Ok(())
}
