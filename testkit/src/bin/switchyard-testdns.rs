//! `switchyard-testdns --listen 127.0.0.53:53 --record localhost=127.0.0.1 [--record …]`
//!
//! A test DNS server (hickory-server) answering A/AAAA for the given names over UDP and
//! TCP; one line per query on stdout. Runs until SIGTERM or SIGINT. Meant to run inside
//! a network namespace (seed 000's `nameserver ns1 127.0.0.53:53`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use switchyard_testkit::dns::{serve, DnsRecord, DnsStats};
use tokio::signal::unix::{signal, SignalKind};

const USAGE: &str =
    "usage: switchyard-testdns --listen <ip:port> --record <name>=<ip> [--record <name>=<ip>]...";

fn parse(args: &[String]) -> Result<(SocketAddr, Vec<DnsRecord>), String> {
    let mut listen = None;
    let mut records = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--listen" => {
                let v = value()?;
                listen = Some(
                    v.parse::<SocketAddr>()
                        .map_err(|_| format!("bad --listen address {v:?}"))?,
                );
            }
            "--record" => records.push(DnsRecord::parse(value()?).map_err(|e| e.to_string())?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let listen = listen.ok_or("--listen is required")?;
    if records.is_empty() {
        return Err("at least one --record is required".into());
    }
    Ok((listen, records))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (listen, records) = match parse(&args) {
        Ok(v) => v,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("switchyard-testdns: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("switchyard-testdns: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let stop = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        };
        serve(listen, &records, Arc::new(DnsStats::default()), true, stop).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchyard-testdns: {listen}: {e}");
            ExitCode::from(1)
        }
    }
}
