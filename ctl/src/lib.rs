//! `switchyard ctl`: a client of the HAProxy Runtime API (over a UNIX socket or TCP)
//! that automates the blue/green procedures of the seeds — the status table, the
//! 16-step map cutover with verification, smoke test and rollback, server drain —
//! against real HAProxy 2.6 and switchyard alike, and across a fleet of proxies.
//!
//! Entry points: [`main`] (what `switchyard ctl …` calls) and [`run`].

pub mod cli;
mod commands;
pub mod error;
pub mod exit;
pub mod fleet;
pub mod ops;
pub mod parse;
pub mod progress;
pub mod render;
pub mod runtime;
pub mod target;

pub use error::CtlError;
pub use exit::{Exit, EXIT_CODES_HELP};
pub use target::Target;

use clap::error::ErrorKind;
use clap::Parser;
use cli::Cli;
use render::color::Palette;
use render::report::Report;

/// Runs `switchyard ctl <args>`. `args` are the words after `ctl` (no program name).
/// Returns the process exit code (see [`Exit`]).
pub fn main(args: Vec<String>) -> i32 {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("switchyard ctl: {e}");
            e.exit().code()
        }
    }
}

/// Like [`main`], but a command line that does not parse is returned as
/// [`CtlError::Usage`] instead of printed (help and `--help` still print and give 0).
/// Failures of the command itself are printed (text or JSON) and give `Ok(code)`.
pub fn run(args: Vec<String>) -> Result<i32, CtlError> {
    let argv = std::iter::once("switchyard ctl".to_owned()).chain(args);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                let code = if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    Exit::Usage
                } else {
                    Exit::Ok
                };
                return Ok(code.code());
            }
            _ => {
                return Err(CtlError::Usage(
                    e.render().to_string().trim_end().to_owned(),
                ))
            }
        },
    };
    let palette = if cli.json {
        Palette::plain()
    } else {
        Palette::detect(cli.no_color)
    };
    let mut report = Report::new(
        commands::name_of(&cli.command),
        cli.json,
        cli.quiet,
        palette,
    );
    let result = commands::dispatch(&cli, &mut report);
    Ok(report.finish(result))
}
