//! Command line and environment of `switchyard-echo`.

use clap::Parser;
use std::net::{IpAddr, Ipv4Addr};

/// Settings of one echo server. Flags win over the environment (`PORT`, `NAME`, `VERSION`),
/// matching how the seeds' docker-compose files configure `ealen/echo-server`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "switchyard-echo",
    about = "Demo upstream: echoes requests as JSON"
)]
pub struct EchoConfig {
    /// TCP port to listen on; 0 picks a free one (see the `listening on` line).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// Name reported in the echo and in `X-Served-By`.
    #[arg(long, env = "NAME", default_value = "echo")]
    pub name: String,
    /// Version reported in the echo (e.g. the deployed release).
    #[arg(long = "version-tag", env = "VERSION", default_value = "v1")]
    pub version: String,
    /// Address to bind; loopback by default so a demo never listens on the network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Status `/health` answers while disabled: 503, or 404 for HAProxy's disable-on-404.
    #[arg(long, default_value_t = 503, value_parser = clap::value_parser!(u16).range(100..=599))]
    pub disabled_status: u16,
    /// Start with `/health` disabled (enable it with `POST /health/enable`).
    #[arg(long)]
    pub start_disabled: bool,
    /// On SIGTERM keep listening for `--grace-ms`, answering 503 to new requests while
    /// in-flight ones finish (seed 001), instead of closing the listener at once.
    #[arg(long)]
    pub sigterm_503: bool,
    /// Length of the 503 grace period of `--sigterm-503`, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub grace_ms: u64,
    /// Longest wait for in-flight requests after the listener closed, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub drain_timeout_ms: u64,
}

impl EchoConfig {
    /// Defaults for in-process use: loopback, port 0, nothing read from the environment.
    pub fn new(name: &str) -> Self {
        EchoConfig {
            port: 0,
            name: name.to_owned(),
            version: "v1".to_owned(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            disabled_status: 503,
            start_disabled: false,
            sigterm_503: false,
            grace_ms: 2000,
            drain_timeout_ms: 30_000,
        }
    }
}
