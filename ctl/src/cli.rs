//! The command line of `switchyard ctl` (clap derive). Values are validated here, so a
//! bad duration, regex, URL or target is a usage error before anything is sent.

use crate::exit::EXIT_CODES_HELP;
use crate::target::Target;
use clap::{Args, Parser, Subcommand};
use regex::Regex;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "switchyard ctl",
    about = "Drive HAProxy 2.6 / switchyard through the Runtime API: status, map-based \
             blue/green cutover with rollback, server drain",
    after_help = EXIT_CODES_HELP,
    disable_version_flag = true
)]
pub struct Cli {
    /// Runtime API of a proxy: /path/admin.sock, unix@/path, host:port,
    /// ipv4@host:port, ipv6@[::1]:port. Repeat for a fleet: every command acts on all.
    #[arg(long = "socket", short = 's', value_name = "TARGET", global = true, value_parser = target)]
    pub sockets: Vec<Target>,

    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Never colour the output (also: NO_COLOR set, or stdout not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// No step lines and no progress line (errors and the result are still printed).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    /// Timeout of each connect/read/write on a Runtime API socket.
    #[arg(long, global = true, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub io_timeout: Duration,

    /// Time between two polls while waiting (UP servers, drains).
    #[arg(long, global = true, value_name = "DURATION", default_value = "500ms", value_parser = duration, hide = true)]
    pub poll_interval: Duration,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Table of frontends, backends and servers from `show stat` on every target.
    Status(StatusArgs),
    /// Switch a map key to a backend on every target: check UP, note, set, verify,
    /// smoke test (rolling everything back on failure), persist, drain the old backend.
    Cutover(CutoverArgs),
    /// Put a map key back to the value recorded by the last cutover (same procedure).
    Rollback(RollbackArgs),
    /// `set server B/S state drain`, wait for its connections to finish, then `state maint`.
    Drain(DrainArgs),
    /// `set server B/S state ready` (leave drain or maintenance).
    Ready(ServerArg),
    /// Wait until B/S is exactly UP (or backend B has --min-up servers UP) on every target.
    WaitUp(WaitUpArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these proxies (frontend or backend names); default all.
    #[arg(value_name = "PROXY")]
    pub proxies: Vec<String>,
}

/// Options shared by cutover and rollback.
#[derive(Debug, Args)]
pub struct ProcedureArgs {
    /// Map identifier as HAProxy knows it (the file path used in the config, or #<id>).
    #[arg(long, value_name = "FILE")]
    pub map: String,

    /// Map key whose value is the backend name.
    #[arg(long, value_name = "KEY")]
    pub key: String,

    /// Servers that must be exactly UP in the new backend on every target.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_up: usize,

    /// How long to wait for --min-up servers before giving up (exit 3).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration)]
    pub wait_up_timeout: Duration,

    /// After the switch, GET this URL (repeatable); failure rolls everything back (exit 4).
    #[arg(long, value_name = "URL", value_parser = url)]
    pub smoke_url: Vec<String>,

    /// Status the smoke test expects.
    #[arg(long, value_name = "CODE", default_value_t = 200)]
    pub expect_status: u16,

    /// Regex the smoke test body must match.
    #[arg(long, value_name = "REGEX", value_parser = regex)]
    pub expect_body: Option<Regex>,

    /// Timeout of one smoke test request.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration)]
    pub smoke_timeout: Duration,

    /// How long to wait for the old backend's connections to finish (exit 5 if not).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = duration, conflicts_with = "no_drain")]
    pub drain_timeout: Duration,

    /// Do not wait for the old backend to drain.
    #[arg(long)]
    pub no_drain: bool,

    /// After the smoke test, rewrite the map file on disk (atomically) with the new value.
    #[arg(long)]
    pub persist: bool,

    /// The map file to rewrite with --persist, when it is not at the --map path.
    #[arg(long, value_name = "PATH", requires = "persist")]
    pub map_file: Option<PathBuf>,

    /// Where the previous value is remembered for `ctl rollback`
    /// [default: $XDG_STATE_HOME/switchyard/ctl-<hash>.json].
    #[arg(long, value_name = "PATH")]
    pub state_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CutoverArgs {
    /// Backend name to switch the key to.
    #[arg(long, value_name = "BACKEND")]
    pub to: String,

    #[command(flatten)]
    pub procedure: ProcedureArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Roll back to this backend instead of the recorded previous value.
    #[arg(long, value_name = "BACKEND")]
    pub to: Option<String>,

    #[command(flatten)]
    pub procedure: ProcedureArgs,
}

#[derive(Debug, Args)]
pub struct ServerArg {
    /// backend/server
    #[arg(value_name = "BACKEND/SERVER", value_parser = server_name)]
    pub server: (String, String),
}

#[derive(Debug, Args)]
pub struct DrainArgs {
    /// backend/server
    #[arg(value_name = "BACKEND/SERVER", value_parser = server_name)]
    pub server: (String, String),

    /// How long to wait for the server's connections to finish (exit 5 if not; the
    /// server is then left in DRAIN, not MAINT).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = duration)]
    pub timeout: Duration,

    /// Leave the server in DRAIN once drained instead of setting MAINT.
    #[arg(long)]
    pub keep_drain: bool,
}

#[derive(Debug, Args)]
pub struct WaitUpArgs {
    /// backend/server, or a backend name (then --min-up servers must be UP).
    #[arg(value_name = "BACKEND[/SERVER]")]
    pub what: String,

    /// With a backend name: servers that must be exactly UP.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_up: usize,

    /// How long to wait (exit 3 if not UP by then).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration)]
    pub timeout: Duration,
}

fn target(text: &str) -> Result<Target, String> {
    Target::parse(text)
}

/// `60s`, `2m`, `500ms`, `1h 30m`; a bare number is seconds.
pub fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 60s, 2m, 500ms)"))
}

fn regex(text: &str) -> Result<Regex, String> {
    Regex::new(text).map_err(|e| e.to_string())
}

fn url(text: &str) -> Result<String, String> {
    crate::ops::smoke::validate_url(text).map(|()| text.to_owned())
}

fn server_name(text: &str) -> Result<(String, String), String> {
    match text.split_once('/') {
        Some((b, s)) if !b.is_empty() && !s.is_empty() && !s.contains('/') => {
            Ok((b.to_owned(), s.to_owned()))
        }
        _ => Err(format!("{text:?}: expected backend/server")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(duration("60"), Ok(Duration::from_secs(60)));
        assert_eq!(duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(duration("soon").is_err());
    }

    #[test]
    fn parses_a_cutover() {
        let cli = Cli::try_parse_from([
            "ctl",
            "cutover",
            "-s",
            "127.0.0.1:9000",
            "--socket",
            "/run/a.sock",
            "--map",
            "/etc/m.map",
            "--key",
            "active",
            "--to",
            "be_green",
            "--no-drain",
            "--json",
        ])
        .expect("parses");
        assert_eq!(cli.sockets.len(), 2);
        assert!(cli.json);
        let Command::Cutover(args) = cli.command else {
            panic!("not a cutover");
        };
        assert_eq!(args.to, "be_green");
        assert!(args.procedure.no_drain);
        assert_eq!(args.procedure.min_up, 1);
    }

    #[test]
    fn rejects_bad_values() {
        for argv in [
            vec!["ctl", "drain", "nobackslash"],
            vec!["ctl", "status", "-s", "nothing"],
            vec![
                "ctl",
                "cutover",
                "--map",
                "m",
                "--key",
                "k",
                "--to",
                "b",
                "--expect-body",
                "(",
            ],
            vec![
                "ctl",
                "cutover",
                "--map",
                "m",
                "--key",
                "k",
                "--to",
                "b",
                "--smoke-url",
                "https://x/",
            ],
            vec![
                "ctl",
                "cutover",
                "--map",
                "m",
                "--key",
                "k",
                "--to",
                "b",
                "--no-drain",
                "--drain-timeout",
                "3s",
            ],
        ] {
            assert!(Cli::try_parse_from(&argv).is_err(), "{argv:?}");
        }
    }
}
