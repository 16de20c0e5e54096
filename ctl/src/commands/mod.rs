//! One file per subcommand; `procedure` is the cutover engine shared by cutover and
//! rollback.

mod cutover;
mod procedure;
mod rollback;
mod server;
mod status;

use crate::cli::{Cli, Command};
use crate::error::CtlError;
use crate::fleet::Fleet;
use crate::render::report::Report;
use std::time::Duration;

/// What every command gets besides its own arguments.
pub struct Ctx {
    pub fleet: Fleet,
    pub interval: Duration,
}

pub fn name_of(command: &Command) -> &'static str {
    match command {
        Command::Status(_) => "status",
        Command::Cutover(_) => "cutover",
        Command::Rollback(_) => "rollback",
        Command::Drain(_) => "drain",
        Command::Ready(_) => "ready",
        Command::WaitUp(_) => "wait-up",
    }
}

/// Runs the parsed command; `Ok` carries the one-line summary.
pub fn dispatch(cli: &Cli, report: &mut Report) -> Result<String, CtlError> {
    let ctx = Ctx {
        fleet: Fleet::new(&cli.sockets, cli.io_timeout)?,
        interval: cli.poll_interval,
    };
    match &cli.command {
        Command::Status(args) => status::run(&ctx, args, report),
        Command::Cutover(args) => cutover::run(&ctx, args, report),
        Command::Rollback(args) => rollback::run(&ctx, args, report),
        Command::Drain(args) => server::drain(&ctx, args, report),
        Command::Ready(args) => server::ready(&ctx, args, report),
        Command::WaitUp(args) => server::wait_up(&ctx, args, report),
    }
}
