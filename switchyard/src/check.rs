//! `-c`: check the configuration and exit 0 (valid), 1 (errors) or 2 (valid
//! but no listener), with HAProxy's exact messages.

use std::process::ExitCode;

use crate::cli::Args;
use crate::load::{self, listener_count};

pub fn run(args: &Args) -> ExitCode {
    let quiet = crate::console::is_quiet();
    let loaded = match load::load(&args.load_options(), None) {
        Ok(l) => l,
        Err(e) => {
            e.report();
            return ExitCode::from(1);
        }
    };
    let out = |line: &str| {
        if !quiet {
            println!("{line}");
        }
    };
    if !loaded.config.warnings.is_empty() || loaded.build_warnings > 0 {
        out("Warnings were found.");
    }
    if listener_count(&loaded.config) == 0 {
        out("Configuration file has no error but will not start (no listener) => exit(2).");
        return ExitCode::from(2);
    }
    out("Configuration file is valid");
    ExitCode::SUCCESS
}
