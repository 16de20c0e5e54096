//! Applying a [`Command`]: reads render the current snapshot; writes go
//! through [`Store::update`] (one publish per command, nothing published on
//! error) and the health crate's transitions for live state. Checks happen
//! in HAProxy's order: level, then lookups, then argument values.

pub(crate) mod lookup;
mod maps;
mod proxies;
mod servers;
mod show;

use std::sync::Arc;
use std::time::Duration;

use switchyard_config::{CliLevel, ListenAddr};
use switchyard_state::Store;

use crate::cli::keywords::ModeBits;
use crate::command::Command;
use crate::ctx::AdminCtx;

/// Syslog severities used by `set severity-output`.
pub const SEV_ERR: u8 = 3;
pub const SEV_WARNING: u8 = 4;
pub const SEV_NOTICE: u8 = 5;
pub const SEV_INFO: u8 = 6;

/// `set severity-output` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeverityOutput {
    #[default]
    None,
    Number,
    String,
}

/// Per-connection CLI state.
#[derive(Debug, Clone)]
pub struct SessionState {
    /// The current level (`operator`/`user` lower it).
    pub level: CliLevel,
    /// The socket's configured level (decides `addr`/`cookie`/`algo`).
    pub bind_level: CliLevel,
    pub mode: ModeBits,
    pub interactive: bool,
    pub severity: SeverityOutput,
    /// `set timeout cli`.
    pub timeout: Option<Duration>,
}

impl SessionState {
    pub fn new(level: CliLevel) -> SessionState {
        SessionState {
            level,
            bind_level: level,
            mode: ModeBits::default(),
            interactive: false,
            severity: SeverityOutput::None,
            timeout: None,
        }
    }
}

/// What the server shares with every session.
pub struct Env {
    pub store: Arc<Store>,
    pub ctx: Arc<AdminCtx>,
    /// Every stats socket (address as bound, level), for `show cli sockets`.
    pub sockets: Vec<(ListenAddr, CliLevel)>,
}

/// The result of one command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    pub text: String,
    /// The text is a message (HAProxy's `cli_msg`/`cli_err`) of this
    /// severity: `set severity-output` prefixes it.
    pub severity: Option<u8>,
    /// No LF after the response (`user -`).
    pub nolf: bool,
    /// Close the session now, without a prompt (`quit`).
    pub close: bool,
}

impl Outcome {
    pub fn dump(text: impl Into<String>) -> Outcome {
        Outcome {
            text: text.into(),
            ..Outcome::default()
        }
    }
    pub fn msg(sev: u8, text: impl Into<String>) -> Outcome {
        Outcome {
            text: text.into(),
            severity: Some(sev),
            ..Outcome::default()
        }
    }
    pub fn err(text: impl Into<String>) -> Outcome {
        Outcome::msg(SEV_ERR, text)
    }
    pub fn info(text: impl Into<String>) -> Outcome {
        Outcome::msg(SEV_INFO, text)
    }
    pub fn empty() -> Outcome {
        Outcome::default()
    }
}

pub(crate) const PERMISSION_DENIED: &str = "Permission denied\n";

/// `cli_has_level`.
pub(crate) fn need(sess: &SessionState, lvl: CliLevel) -> Result<(), Outcome> {
    if sess.level < lvl {
        Err(Outcome::err(PERMISSION_DENIED))
    } else {
        Ok(())
    }
}

/// Run one command.
pub fn execute(cmd: Command, sess: &mut SessionState, env: &Env) -> Outcome {
    let r = match cmd {
        Command::Usage(text) => Ok(Outcome::info(text)),
        Command::ExpertOnly => Ok(Outcome::err(
            "This command is restricted to expert mode only.\n",
        )),
        Command::ExperimentalOnly => Ok(Outcome::err(
            "This command is restricted to experimental mode only.\n",
        )),
        Command::Prompt => {
            sess.interactive = !sess.interactive;
            Ok(Outcome::empty())
        }
        Command::Quit => Ok(Outcome {
            close: true,
            ..Outcome::default()
        }),
        Command::SetLevel { to, nolf } => {
            let r = need(sess, to).map(|_| {
                sess.level = to;
                sess.mode = ModeBits::default();
                Outcome::empty()
            });
            let mut o = r.unwrap_or_else(|e| e);
            o.nolf = nolf;
            return o;
        }
        Command::Mode { kind, arg, nolf } => {
            let mut o = show::mode(kind, arg, sess);
            o.nolf = nolf;
            return o;
        }
        Command::SetTimeoutCli { arg0, value } => show::set_timeout(&arg0, &value, sess),
        Command::SetSeverityOutput(v) => {
            sess.severity = match v.as_str() {
                "none" => SeverityOutput::None,
                "number" => SeverityOutput::Number,
                "string" => SeverityOutput::String,
                _ => {
                    return Outcome::err(
                        "one of 'none', 'number', 'string' is a required argument\n",
                    )
                }
            };
            Ok(Outcome::empty())
        }
        Command::ShowCliLevel
        | Command::ShowCliSockets
        | Command::ShowVersion
        | Command::ShowInfo(_)
        | Command::ShowStat(_)
        | Command::InvalidStatDomain
        | Command::ShowStatResolvers
        | Command::ShowSchemaJson
        | Command::ShowServers { .. }
        | Command::ShowBackend
        | Command::ShowEnv(_)
        | Command::ShowErrors
        | Command::Unsupported(_) => show::show(cmd, sess, env),
        Command::ShowMap { .. }
        | Command::GetMap { .. }
        | Command::SetMap { .. }
        | Command::AddMap { .. }
        | Command::DelMap { .. }
        | Command::ClearMap { .. }
        | Command::PrepareMap { .. }
        | Command::CommitMap { .. }
        | Command::Acl { .. } => maps::exec(cmd, env),
        Command::SetServer { .. }
        | Command::GetWeight { .. }
        | Command::SetWeight { .. }
        | Command::SetMaxconnServer { .. }
        | Command::ServerToggle { .. }
        | Command::ShutdownSessionsServer { .. } => servers::exec(cmd, sess, env),
        Command::SetMaxconnFrontend { .. }
        | Command::SetMaxconnGlobal { .. }
        | Command::Frontend { .. }
        | Command::ShutdownSession { .. }
        | Command::ClearCounters { .. } => proxies::exec(cmd, sess, env),
    };
    r.unwrap_or_else(|e| e)
}

/// The message prefix `set severity-output` asks for.
pub fn severity_prefix(mode: SeverityOutput, sev: u8) -> String {
    const NAMES: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    match mode {
        SeverityOutput::None => String::new(),
        SeverityOutput::Number => format!("[{sev}]: "),
        SeverityOutput::String => format!(
            "[{}]: ",
            NAMES.get(usize::from(sev)).copied().unwrap_or("unknown")
        ),
    }
}
