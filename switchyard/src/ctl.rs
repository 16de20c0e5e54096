//! `switchyard ctl ...`: the deployment helper (cutover, rollback, status),
//! reserved for now.

use std::process::ExitCode;

pub fn run(args: &[String]) -> ExitCode {
    let what = args.first().map(String::as_str).unwrap_or("");
    eprintln!("switchyard ctl {what}: not implemented yet");
    ExitCode::from(1)
}
